"""The portfolio: Greeks against finite differences of its USD equity, incremental updates, properties."""

from __future__ import annotations

import dataclasses
from decimal import Decimal

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import hedgekeeper.portfolio.portfolio as portfolio_module
from hedgekeeper.errors import BadData, UnknownInstrument
from hedgekeeper.portfolio.instruments import InstrumentRegistry
from hedgekeeper.portfolio.market import MarketSnapshot
from hedgekeeper.portfolio.portfolio import Portfolio
from hedgekeeper.portfolio.positions import Balance, Position
from hedgekeeper.portfolio.values import Money
from finite_differences import central_difference, second_difference
from portfolio.book_builders import AS_OF_NS, market, mixed_balances, mixed_holdings, portfolio

HOLDINGS = mixed_holdings()
BALANCES = mixed_balances()


def _smile_market() -> MarketSnapshot:
    def smile(k: np.ndarray, t: np.ndarray) -> np.ndarray:
        return 0.55 + 0.25 * k**2 - 0.1 * k + 0.02 * np.sqrt(t)

    flat = market()
    return MarketSnapshot(AS_OF_NS, {
        name: dataclasses.replace(flat.underlying(name), vol=smile, option_vols={}) for name in ("BTC", "ETH")
    })


@pytest.fixture(scope="module", params=["flat vol", "smile"])
def book(request: pytest.FixtureRequest) -> Portfolio:
    return portfolio(HOLDINGS, BALANCES, market() if request.param == "flat vol" else _smile_market())


def _total_equity(book: Portfolio, **shocks: object) -> np.ndarray:
    return book.scenario(**shocks).equity_usd.sum(axis=-1)


@pytest.mark.parametrize("underlying", ["BTC", "ETH"])
def test_delta_and_gamma_are_derivatives_of_total_usd_equity(book: Portfolio, underlying: str) -> None:
    spot_usd = book.market.underlying(underlying).spot_usd
    risk = book.risk().underlying(underlying)

    def equity(spot: np.ndarray) -> np.ndarray:
        return _total_equity(book, spot_moves={underlying: spot / spot_usd - 1.0})

    h = 1e-4 * spot_usd
    x = np.array([spot_usd])
    assert risk.delta_coin == pytest.approx(float(central_difference(equity, x, h)[0]), rel=1e-6, abs=1e-6)
    assert risk.gamma_coin_per_usd == pytest.approx(float(second_difference(equity, x, h)[0]), rel=1e-4)


def test_vega_and_theta_are_derivatives_of_total_usd_equity(book: Portfolio) -> None:
    risk = book.risk()
    vega_per_point = sum(u.vega_usd_per_vol_pt for u in risk.underlyings)
    theta_per_day = sum(u.theta_usd_per_day for u in risk.underlyings)
    fd_vega = central_difference(lambda v: _total_equity(book, vol_shift=float(v[0])), np.zeros(1), 1e-4)[0]
    fd_theta = central_difference(lambda t: _total_equity(book, time_shift_years=float(t[0])), np.zeros(1), 1e-5)[0]
    assert vega_per_point == pytest.approx(fd_vega * 0.01, rel=1e-6)
    assert theta_per_day == pytest.approx(fd_theta / 365.0, rel=1e-6)


def test_equity_sums_balances_and_position_values() -> None:
    risk = portfolio(HOLDINGS, BALANCES).risk()
    without_balances = portfolio(HOLDINGS, ()).risk()
    balances_usd = 12.5 * 100_000.0 + 240 * 2_500.0 + 250_000.0 + 400_000.0
    assert risk.equity_usd == pytest.approx(without_balances.equity_usd + balances_usd, rel=1e-12)
    assert risk.underlying("BTC").delta_coin == pytest.approx(without_balances.underlying("BTC").delta_coin + 12.5)
    assert risk.leverage == pytest.approx(risk.gross_notional_usd / risk.equity_usd)


def test_spot_tick_revalues_only_the_underlying_that_moved(monkeypatch: pytest.MonkeyPatch) -> None:
    book = portfolio(HOLDINGS, BALANCES)
    revalued: list[str] = []
    original = portfolio_module.value_with_greeks

    def spy(underlying_book, inputs, spot_usd):  # type: ignore[no-untyped-def]
        revalued.append(underlying_book.underlying)
        return original(underlying_book, inputs, spot_usd)

    monkeypatch.setattr(portfolio_module, "value_with_greeks", spy)
    book.update_spot("BTC", 96_500.0)
    assert revalued == ["BTC"]
    rebuilt = portfolio(HOLDINGS, BALANCES, market().with_spot("BTC", 96_500.0))
    for mine, theirs in zip(book.risk().underlyings, rebuilt.risk().underlyings, strict=True):
        numbers = [field.name for field in dataclasses.fields(mine) if field.name != "underlying"]
        assert [getattr(mine, name) for name in numbers] == pytest.approx(
            [getattr(theirs, name) for name in numbers], rel=1e-12
        )
    np.testing.assert_allclose(book.valuation().equity_usd, rebuilt.valuation().equity_usd, rtol=1e-12)


def test_update_market_rereads_vols_and_time() -> None:
    book = portfolio(HOLDINGS, BALANCES)
    later = dataclasses.replace(market(vol=0.7), as_of_ns=AS_OF_NS + 86_400 * 10**9)
    book.update_market(later)
    rebuilt = portfolio(HOLDINGS, BALANCES, later)
    np.testing.assert_allclose(book.valuation().equity_usd, rebuilt.valuation().equity_usd, rtol=1e-12)
    assert book.risk().as_of_ns == later.as_of_ns


def test_bad_ticks_and_unknown_names_are_refused() -> None:
    book = portfolio(HOLDINGS, BALANCES)
    with pytest.raises(BadData, match="BTC: spot_usd must be finite and > 0, got nan"):
        book.update_spot("BTC", float("nan"))
    with pytest.raises(BadData, match=r"the portfolio holds no SOL \(it holds BTC, ETH\)"):
        book.update_spot("SOL", 150.0)
    with pytest.raises(BadData, match="holds no SOL"):
        book.scenario({"SOL": [0.1]})
    with pytest.raises(UnknownInstrument, match="unknown instrument 'BTC-PERP'"):
        Portfolio(InstrumentRegistry([]), [Position("BTC-PERP", 1.0, 1.0)], (), market())
    eth_only = MarketSnapshot(AS_OF_NS, {"ETH": market().underlying("ETH")})
    with pytest.raises(BadData, match="no market data for BTC"):
        portfolio(HOLDINGS, BALANCES, eth_only)


def _scaled(factor: float) -> Portfolio:
    holdings = [(i, dataclasses.replace(p, size_contracts=p.size_contracts * factor)) for i, p in HOLDINGS]
    balances = [Balance(b.venue, Money(b.money.amount * Decimal(repr(factor)), b.money.currency)) for b in BALANCES]
    return portfolio(holdings, balances)


BASE_RISK = portfolio(HOLDINGS, BALANCES).risk()


@settings(max_examples=25, deadline=None)
@given(factor=st.floats(min_value=0.01, max_value=100.0))
def test_scaling_every_position_and_balance_leaves_weights_and_leverage_unchanged(factor: float) -> None:
    risk = _scaled(factor).risk()
    assert risk.equity_usd == pytest.approx(BASE_RISK.equity_usd * factor, rel=1e-9)
    for scaled, base in zip(risk.underlyings, BASE_RISK.underlyings, strict=True):
        assert scaled.weight == pytest.approx(base.weight, rel=1e-9)
        assert scaled.leverage == pytest.approx(base.leverage, rel=1e-9)
        assert scaled.delta_coin == pytest.approx(base.delta_coin * factor, rel=1e-9)


@settings(max_examples=25, deadline=None)
@given(split=st.lists(st.booleans(), min_size=len(HOLDINGS) + len(BALANCES), max_size=len(HOLDINGS) + len(BALANCES)))
def test_greeks_add_up_over_any_split_of_the_book(split: list[bool]) -> None:
    in_first = split[: len(HOLDINGS)]
    parts = [
        portfolio(
            [h for h, first in zip(HOLDINGS, in_first, strict=True) if first is side],
            [b for b, first in zip(BALANCES, split[len(HOLDINGS):], strict=True) if first is side],
        ).risk()
        for side in (True, False)
    ]
    for whole in BASE_RISK.underlyings:
        pieces = [next((u for u in part.underlyings if u.underlying == whole.underlying), None) for part in parts]
        for field in ("delta_coin", "collateral_delta_coin", "gamma_coin_per_usd", "vega_usd_per_vol_pt",
                      "theta_usd_per_day", "gross_notional_usd"):
            total = sum(getattr(piece, field) for piece in pieces if piece is not None)
            assert total == pytest.approx(getattr(whole, field), rel=1e-9, abs=1e-9)
    assert sum(part.equity_usd for part in parts) == pytest.approx(BASE_RISK.equity_usd, rel=1e-12)


def test_underlying_with_only_a_coin_balance_is_valued() -> None:
    book = Portfolio(InstrumentRegistry([]), [], [Balance("kraken", Money(Decimal("3"), "ETH"))], market())
    risk = book.risk()
    assert book.underlyings == ("ETH",)
    assert (risk.equity_usd, risk.underlying("ETH").delta_coin, risk.underlying("ETH").weight) == (7_500.0, 3.0, 1.0)

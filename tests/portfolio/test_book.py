"""One underlying's arrays: each kind valued by hand, linear against inverse, parity, Deribit's delta split."""

from __future__ import annotations

import math

import numpy as np
import pytest

from hedgekeeper.errors import BadData
from hedgekeeper.portfolio.book import PERPETUAL_EXPIRY_NS, MarketInputs, UnderlyingBook, revalue, value_with_greeks
from hedgekeeper.portfolio.instruments import Instrument
from hedgekeeper.portfolio.margin import MarginModel
from hedgekeeper.portfolio.positions import Account, Position
from hedgekeeper.pricing import black76_greeks, inverse_greeks
from portfolio.book_builders import (
    AS_OF_NS,
    FAR_NS,
    balance,
    inverse_future,
    inverse_option,
    linear_future,
    linear_option,
    market,
    mixed_balances,
    mixed_holdings,
    portfolio,
    spot,
)

T_YEARS = 105 / 365


def _single(instrument: Instrument, size: float, entry: float | None = None, **market_args: float):
    return portfolio([(instrument, Position(instrument.instrument_id, size, entry))], (), market(**market_args))


def test_build_splits_positions_by_kind_and_settlement() -> None:
    rows = [(i, p, 0) for i, p in mixed_holdings() if i.underlying == "BTC"]
    book = UnderlyingBook.build("BTC", rows, [(12.5, 1)], 2, MarginModel().schedule("BTC"))
    assert book.inverse_options.size_coin.tolist() == [-25.0, 12.5, -8.0]
    assert book.linear_options.is_call.tolist() == [True, False]
    assert book.inverse_futures.size.tolist() == [-600_000.0, 250_000.0]  # USD face, 10 USD per contract
    assert book.linear_futures.expiry_ns.tolist() == [PERPETUAL_EXPIRY_NS, FAR_NS]
    assert book.spot.size_coin.tolist() == [1.75]
    assert book.balances.accounts.tolist() == [[0.0, 1.0]]


def test_inverse_future_pnl_is_in_coin_and_its_usd_delta_is_face_over_entry() -> None:
    # 100,000 USD long at 100,000; forward 105,000 at spot 100,000 (a dated future).
    future = inverse_future(FAR_NS)
    basis = math.log(1.05) / T_YEARS
    risk = _single(future, 10_000.0, 100_000.0, basis_rate=basis).risk()
    pnl_coin = 100_000.0 * (1 / 100_000.0 - 1 / 105_000.0)  # 0.047619 BTC
    assert risk.equity_usd == pytest.approx(pnl_coin * 100_000.0, rel=1e-12)
    btc = risk.underlying("BTC")
    assert btc.collateral_delta_coin == pytest.approx(pnl_coin, rel=1e-12)  # the coin P&L carries delta
    assert btc.position_delta_coin == pytest.approx(100_000.0 / 105_000.0, rel=1e-12)  # Deribit's N / F
    assert btc.delta_coin == pytest.approx(1.0, rel=1e-12)  # N / entry
    assert btc.gamma_coin_per_usd == 0.0
    assert btc.gross_notional_usd == 100_000.0


def test_linear_future_and_spot_by_hand() -> None:
    future = linear_future(FAR_NS)
    basis = math.log(1.05) / T_YEARS
    risk = _single(future, 2.0, 100_000.0, basis_rate=basis).risk()
    assert risk.equity_usd == pytest.approx(2.0 * (105_000.0 - 100_000.0), rel=1e-12)
    assert risk.underlying("BTC").delta_coin == pytest.approx(2.0 * 1.05, rel=1e-12)  # dF/dS = F/S
    assert risk.underlying("BTC").gross_notional_usd == pytest.approx(210_000.0, rel=1e-12)

    risk = _single(spot(), 1.5).risk()
    assert (risk.equity_usd, risk.underlying("BTC").delta_coin, risk.maintenance_margin_usd) == (150_000.0, 1.5, 0.0)
    assert risk.accounts[0].account == Account("binance", "BTC")


@pytest.mark.parametrize("is_call", [True, False])
def test_inverse_option_usd_value_equals_the_linear_one_without_basis(is_call: bool) -> None:
    inverse = _single(inverse_option(95_000.0, is_call), 3.0, basis_rate=0.0).risk()
    linear = _single(linear_option(95_000.0, is_call), 3.0, basis_rate=0.0).risk()
    assert inverse.equity_usd == pytest.approx(linear.equity_usd, rel=1e-12)
    for field in ("delta_coin", "gamma_coin_per_usd", "vega_usd_per_vol_pt", "theta_usd_per_day"):
        assert getattr(inverse.underlying("BTC"), field) == pytest.approx(getattr(linear.underlying("BTC"), field), rel=1e-10)


def test_inverse_option_usd_value_is_the_linear_one_times_spot_over_forward() -> None:
    inverse = _single(inverse_option(95_000.0, True), 3.0, basis_rate=0.08).risk()
    linear = _single(linear_option(95_000.0, True), 3.0, basis_rate=0.08).risk()
    assert inverse.equity_usd == pytest.approx(linear.equity_usd * math.exp(-0.08 * T_YEARS), rel=1e-12)


@pytest.mark.parametrize("rate", [0.0, 0.04])
def test_put_call_parity_in_the_book(rate: float) -> None:
    snapshot = market(basis_rate=0.06, rate=rate)
    forward = 100_000.0 * math.exp(0.06 * T_YEARS)
    discount = math.exp(-rate * T_YEARS)
    for make, usd_value, delta_coin in (
        (linear_option, discount * (forward - 90_000.0), discount * forward / 100_000.0),
        (inverse_option, 100_000.0 * discount * (forward - 90_000.0) / forward, discount),
    ):
        call, put = make(90_000.0, True), make(90_000.0, False)
        book = portfolio(
            [(call, Position(call.instrument_id, 1.0)), (put, Position(put.instrument_id, -1.0))], (), snapshot
        )
        risk = book.risk()
        assert risk.equity_usd == pytest.approx(usd_value, rel=1e-10)
        assert risk.underlying("BTC").delta_coin == pytest.approx(delta_coin, rel=1e-10)
        assert risk.underlying("BTC").gamma_coin_per_usd == pytest.approx(0.0, abs=1e-15)
        assert risk.underlying("BTC").vega_usd_per_vol_pt == pytest.approx(0.0, abs=1e-7)


def test_inverse_position_delta_is_premium_adjusted_and_coin_equity_carries_the_rest() -> None:
    option, future = inverse_option(110_000.0, True), inverse_future()
    snapshot = market(basis_rate=0.05)
    book = portfolio(
        [(option, Position(option.instrument_id, -10.0)), (future, Position(future.instrument_id, 20_000.0, 97_000.0))],
        [balance("deribit", "BTC", "7.5")],
        snapshot,
    )
    forward = 100_000.0 * math.exp(0.05 * T_YEARS)
    greeks = inverse_greeks(forward, 110_000.0, T_YEARS, 0.6, True)
    risk = book.risk()
    btc = risk.underlying("BTC")
    # Position delta: -10 premium-adjusted deltas, plus the perpetual's N / F with F the index.
    assert btc.position_delta_coin == pytest.approx(-10.0 * float(greeks.delta) + 200_000.0 / 100_000.0, rel=1e-12)
    # Collateral delta: the account's whole coin equity (balance + P&L + options' coin value).
    (deribit_btc,) = risk.accounts
    assert btc.collateral_delta_coin == pytest.approx(deribit_btc.equity, rel=1e-12)
    # And the sum is the USD delta of a linear book: -10 Black-76 deltas + N / entry.
    linear_delta = float(black76_greeks(forward, 110_000.0, T_YEARS, 0.6, True).delta)
    assert btc.delta_coin == pytest.approx(7.5 - 10.0 * linear_delta + 200_000.0 / 97_000.0, rel=1e-12)


def test_revalue_at_the_current_spot_matches_the_greeks_pass() -> None:
    rows = [(i, p, 0 if i.is_inverse else 1) for i, p in mixed_holdings() if i.underlying == "BTC"]
    book = UnderlyingBook.build("BTC", rows, [(12.5, 0)], 2, MarginModel().schedule("BTC"))
    snapshot = market()
    inputs = MarketInputs.resolve(book, snapshot.underlying("BTC"), snapshot.as_of_ns)
    valuation, _ = value_with_greeks(book, inputs, 100_000.0)
    grid = revalue(book, inputs, np.array([90_000.0, 100_000.0]))
    assert grid.equity_usd.shape == (2, 2)
    np.testing.assert_allclose(grid.equity_usd[1], valuation.equity_usd, rtol=1e-13)
    np.testing.assert_allclose(grid.maintenance_margin_usd[1], valuation.maintenance_margin_usd, rtol=1e-13)
    assert not np.allclose(grid.equity_usd[0], valuation.equity_usd)


def test_expired_instrument_is_refused_naming_it() -> None:
    expired = inverse_option(100_000.0, True, AS_OF_NS - 1)
    with pytest.raises(BadData, match=f"{expired.instrument_id} expired at .* before 2025-06-13T08:00:00Z"):
        _single(expired, 1.0)


def test_greeks_ladder_equals_pointwise_valuation_at_every_spot() -> None:
    book = portfolio(mixed_holdings(), mixed_balances())
    spots = np.array([80_000.0, 99_000.0, 100_000.0, 123_456.0])
    ladder = book.greeks_ladder("BTC", spots)
    total_equity = []
    for i, spot_usd in enumerate(spots):
        book.update_spot("BTC", float(spot_usd))
        risk = book.risk()
        total_equity.append(risk.equity_usd)
        greeks = risk.underlying("BTC")
        assert ladder.delta_coin[i] == pytest.approx(greeks.delta_coin, rel=1e-12)
        assert ladder.gamma_coin_per_usd[i] == pytest.approx(greeks.gamma_coin_per_usd, rel=1e-12)
        assert ladder.vega_usd_per_vol[i] * 0.01 == pytest.approx(greeks.vega_usd_per_vol_pt, rel=1e-12)
        assert ladder.theta_usd_per_year[i] / 365 == pytest.approx(greeks.theta_usd_per_day, rel=1e-12)
        assert ladder.gross_notional_usd[i] == pytest.approx(greeks.gross_notional_usd, rel=1e-12)
    # Only the BTC book moves with BTC: its equity changes are the portfolio's.
    np.testing.assert_allclose(ladder.equity_usd - ladder.equity_usd[0],
                               np.array(total_equity) - total_equity[0], rtol=1e-9)

"""Standard margin on hand-computed cases: Deribit options and inverse futures, Binance-style tiers."""

from __future__ import annotations

import numpy as np
import pytest

from hedgekeeper.config import validate
from hedgekeeper.errors import ConfigError
from hedgekeeper.portfolio.margin import (
    InverseFutureMarginRates,
    MarginModel,
    OptionMarginRates,
    inverse_future_margin_coin,
    short_option_margin,
    tiered_margin_usd,
)
from hedgekeeper.portfolio.market import MarketSnapshot, UnderlyingMarket
from hedgekeeper.portfolio.positions import Account, Position
from hedgekeeper.pricing import black76_price, inverse_price
from portfolio.book_builders import (
    AS_OF_NS,
    FAR_NS,
    balance,
    inverse_future,
    inverse_option,
    linear_future,
    linear_option,
    market,
    portfolio,
    spot,
)

RATES = OptionMarginRates()
BTC = MarginModel().schedule("BTC")


def test_short_call_out_of_the_money_gets_the_otm_credit() -> None:
    # K 110,000, F 100,000: OTM 10,000, i.e. 0.1 of F; mark 0.02 coin.
    initial, maintenance = short_option_margin(0.1, 0.02, True, RATES)
    assert float(initial) == pytest.approx(max(0.15 - 0.1, 0.1) + 0.02)  # floor: 0.12
    assert float(maintenance) == pytest.approx(0.075 + 0.02)


def test_short_call_in_the_money_pays_the_full_base() -> None:
    initial, maintenance = short_option_margin(0.0, 0.13, True, RATES)
    assert float(initial) == pytest.approx(0.15 + 0.13)
    assert float(maintenance) == pytest.approx(0.075 + 0.13)


def test_short_put_slightly_out_of_the_money() -> None:
    # K 97,000, F 100,000: OTM 0.03 of F; mark 0.025 coin.
    initial, maintenance = short_option_margin(0.03, 0.025, False, RATES)
    assert float(initial) == pytest.approx((0.15 - 0.03) + 0.025)  # 0.145
    assert float(maintenance) == pytest.approx(max(0.075, 0.075 * 0.025) + 0.025)  # 0.1


def test_deep_in_the_money_inverse_put_maintenance_scales_with_its_mark() -> None:
    # An inverse put worth 3 coin: maintenance max(0.075, 0.225) + 3 = 3.225 exceeds 0.15 + 3.
    initial, maintenance = short_option_margin(0.0, 3.0, False, RATES)
    assert float(maintenance) == pytest.approx(3.225)
    assert float(initial) == pytest.approx(3.225)


def test_inverse_future_margin_rises_with_size_as_on_deribit() -> None:
    # Deribit's published example: 350 BTC needs 2% + 350 * 0.005% = 3.75% initial = 13.125 BTC.
    initial, maintenance = inverse_future_margin_coin(np.array([0.0, 350.0, -350.0]), InverseFutureMarginRates())
    np.testing.assert_allclose(initial, [0.0, 13.125, 13.125])
    np.testing.assert_allclose(maintenance, [0.0, 350 * (0.01 + 0.0175), 350 * (0.01 + 0.0175)])


def test_tiers_on_notional_with_binance_maintenance_amounts() -> None:
    notional = np.array([40_000.0, 50_000.0, 100_000.0, 1_000_000.0, 2_000_000.0, 9e9])
    initial, maintenance = tiered_margin_usd(notional, BTC)
    expected_maintenance = [
        40_000 * 0.004,  # tier 1
        50_000 * 0.004,  # the cap belongs to tier 1
        100_000 * 0.005 - 50,  # amount 50 = 50,000 * (0.5% - 0.4%)
        1_000_000 * 0.01 - 1_300,  # amount 1,300 = 50 + 250,000 * (1% - 0.5%)
        2_000_000 * 0.025 - 16_300,  # amount 16,300 = 1,300 + 1,000,000 * (2.5% - 1%)
        9e9 * 0.5 - BTC.tier_maintenance_amounts_usd[-1],  # beyond the last cap: the last tier
    ]
    np.testing.assert_allclose(maintenance, expected_maintenance)
    assert initial[2] == pytest.approx(100_000 * 0.01 - 50_000 * (0.01 - 0.008))


def test_tiered_margin_is_continuous_at_every_cap() -> None:
    caps = BTC.tier_caps_usd
    below, above = tiered_margin_usd(caps, BTC), tiered_margin_usd(caps * (1 + 1e-12), BTC)
    for before, after in zip(below, above, strict=True):
        np.testing.assert_allclose(before, after, rtol=1e-9)


def test_portfolio_margin_of_options_and_futures_by_hand() -> None:
    snapshot = market(btc_usd=100_000.0, vol=0.6, basis_rate=0.05)
    short_call, long_put = inverse_option(120_000.0, True), inverse_option(90_000.0, False)
    short_linear_put = linear_option(95_000.0, False)
    perp = inverse_future()
    book = portfolio(
        [
            (short_call, Position(short_call.instrument_id, -10.0)),
            (long_put, Position(long_put.instrument_id, 4.0)),
            (short_linear_put, Position(short_linear_put.instrument_id, -2.0)),
            (perp, Position(perp.instrument_id, -50_000.0, 100_000.0)),  # 500,000 USD short
        ],
        [balance("deribit", "BTC", "20"), balance("deribit", "USDC", "60000")],
        snapshot,
    )
    t_years = 105 / 365
    forward = 100_000.0 * np.exp(0.05 * t_years)
    call_coin = float(inverse_price(forward, 120_000.0, t_years, 0.6, True))
    put_usd = float(black76_price(forward, 95_000.0, t_years, 0.6, False))

    call_im = 10 * (max(0.15 - (120_000.0 - forward) / forward, 0.1) + call_coin) * 100_000.0
    call_mm = 10 * (0.075 + call_coin) * 100_000.0
    perp_coin = 500_000.0 / 100_000.0  # 5 BTC at the perpetual's mark (the index)
    perp_im = perp_coin * (0.02 + 0.00005 * perp_coin) * 100_000.0
    perp_mm = perp_coin * (0.01 + 0.00005 * perp_coin) * 100_000.0
    # The USDC put is out of the money (F > K): OTM amount F - K; margin in USD on F.
    put_im = 2 * (max(0.15 * forward - (forward - 95_000.0), 0.1 * forward) + put_usd)
    put_mm = 2 * (max(0.075 * forward, 0.075 * put_usd) + put_usd)

    accounts = {account.account: account for account in book.risk().accounts}
    deribit_btc, deribit_usdc = accounts[Account("deribit", "BTC")], accounts[Account("deribit", "USDC")]
    assert deribit_btc.initial_margin_usd == pytest.approx(call_im + perp_im, rel=1e-12)  # the long put adds 0
    assert deribit_btc.maintenance_margin_usd == pytest.approx(call_mm + perp_mm, rel=1e-12)
    assert deribit_usdc.initial_margin_usd == pytest.approx(put_im, rel=1e-12)
    assert deribit_usdc.maintenance_margin_usd == pytest.approx(put_mm, rel=1e-12)


def test_linear_future_margin_uses_its_forward_notional() -> None:
    future = linear_future(FAR_NS)
    book = portfolio([(future, Position(future.instrument_id, -3.0, 100_000.0))], [balance("binance", "USDT", "50000")])
    notional = 3.0 * 100_000.0 * np.exp(0.05 * 105 / 365)
    (usdt,) = book.risk().accounts
    assert usdt.maintenance_margin_usd == pytest.approx(notional * 0.01 - 1_300.0, rel=1e-12)


def test_model_entries_replace_only_their_underlying() -> None:
    model = validate(MarginModel, {"inverse_futures": {"SOL": {"initial_base": 0.04, "maintenance_base": 0.02}}})
    assert model.inverse_futures["SOL"].initial_base == 0.04
    assert model.inverse_futures["BTC"] == InverseFutureMarginRates()
    with pytest.raises(ConfigError, match=r"margin.linear_futures has no entry for SOL; add \[margin.linear_futures.SOL\]"):
        model.schedule("SOL")


def test_model_refuses_unordered_tiers_naming_the_field() -> None:
    tiers = [
        {"notional_cap_usd": 100_000, "initial_rate": 0.02, "maintenance_rate": 0.01},
        {"notional_cap_usd": 50_000, "initial_rate": 0.05, "maintenance_rate": 0.02},
    ]
    with pytest.raises(ConfigError, match="margin.linear_futures: .*BTC: need at least one tier, with increasing"):
        validate(MarginModel, {"linear_futures": {"BTC": tiers}}, prefix="margin")
    with pytest.raises(ConfigError, match=r"margin.options.maintenance: Input should be greater than or equal to 0"):
        validate(MarginModel, {"options": {"maintenance": -0.1}}, prefix="margin")


def test_futures_rates_are_needed_only_for_futures_held() -> None:
    sol_spot = spot("SOL")
    snapshot = MarketSnapshot(AS_OF_NS, {"SOL": UnderlyingMarket(underlying="SOL", spot_usd=150.0)})
    book = portfolio([(sol_spot, Position(sol_spot.instrument_id, 20.0))], [], snapshot)
    assert book.risk().equity_usd == 3_000.0
    sol_perp = linear_future(underlying="SOL")
    with pytest.raises(ConfigError, match="margin.linear_futures has no entry for SOL"):
        portfolio([(sol_perp, Position(sol_perp.instrument_id, 20.0, 150.0))], [], snapshot)

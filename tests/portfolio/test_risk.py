"""The reporting view: unit conversions, weights, leverage, totals."""

from __future__ import annotations

import math

import pytest

from hedgekeeper.portfolio.book import Greeks
from hedgekeeper.portfolio.positions import Account
from hedgekeeper.portfolio.risk import AccountRisk, PortfolioRisk, UnderlyingRisk

GREEKS = Greeks(
    delta_coin=-2.5, collateral_delta_coin=12.0, gamma_coin_per_usd=-4e-4, vega_usd_per_vol=-150_000.0,
    theta_usd_per_year=730_000.0, gross_notional_usd=3_000_000.0,
)


def test_greeks_convert_to_reporting_units() -> None:
    risk = UnderlyingRisk.from_greeks("BTC", 100_000.0, GREEKS, equity_usd=1_000_000.0)
    assert risk.delta_usd == -250_000.0
    assert risk.position_delta_coin == -14.5
    assert risk.gamma_usd_per_pct == pytest.approx(-4e-4 * 100_000.0**2 * 0.01)  # -40,000 USD per 1%
    assert risk.vega_usd_per_vol_pt == -1_500.0
    assert risk.theta_usd_per_day == 2_000.0
    assert risk.weight == -0.25
    assert risk.leverage == 3.0


@pytest.mark.parametrize("equity_usd", [0.0, -10.0])
def test_weight_and_leverage_are_nan_without_positive_equity(equity_usd: float) -> None:
    risk = UnderlyingRisk.from_greeks("BTC", 100_000.0, GREEKS, equity_usd=equity_usd)
    assert math.isnan(risk.weight) and math.isnan(risk.leverage)


def test_portfolio_totals_and_account_views() -> None:
    coin = AccountRisk(Account("deribit", "BTC"), 500_000.0, 120_000.0, 80_000.0, currency_usd=100_000.0)
    usdt = AccountRisk(Account("binance", "USDT"), 250_000.0, 10_000.0, 5_000.0, currency_usd=1.0)
    btc = UnderlyingRisk.from_greeks("BTC", 100_000.0, GREEKS, equity_usd=750_000.0)
    report = PortfolioRisk(as_of_ns=0, underlyings=(btc,), accounts=(coin, usdt))
    assert coin.equity == 5.0
    assert coin.maintenance_ratio == pytest.approx(0.16)
    assert (report.equity_usd, report.initial_margin_usd, report.maintenance_margin_usd) == (750_000.0, 130_000.0, 85_000.0)
    assert report.leverage == pytest.approx(4.0)
    assert report.maintenance_ratio == pytest.approx(85_000.0 / 750_000.0)
    assert report.underlying("BTC") is btc
    with pytest.raises(KeyError):
        report.underlying("ETH")

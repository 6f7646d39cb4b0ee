"""The ladder risk cache: interpolation against full revaluation, and liquidation levels."""

from __future__ import annotations

import math

import numpy as np
import pytest
from portfolio.book_builders import linear_future, mixed_balances, mixed_holdings, portfolio
from portfolio.book_builders import balance as make_balance

from hedgekeeper.engine.risk_cache import LadderRisk
from hedgekeeper.portfolio.positions import Position


def test_interpolated_risk_matches_full_revaluation_between_nodes() -> None:
    book = portfolio(mixed_holdings(), mixed_balances())
    cache = LadderRisk.build(book, "BTC", built_ns=0)
    rng = np.random.default_rng(3)
    for spot_usd in 100_000.0 * np.exp(rng.uniform(-0.049, 0.049, 25)):
        assert cache.covers(spot_usd)
        approx = cache.at(float(spot_usd))
        book.update_spot("BTC", float(spot_usd))
        exact = book.risk()
        btc = exact.underlying("BTC")
        # Hermite on delta and equity: relative errors far below any band's resolution.
        assert approx.delta_coin == pytest.approx(btc.delta_coin, rel=1e-8, abs=1e-9)
        assert approx.equity_usd == pytest.approx(exact.equity_usd, rel=1e-11)
        # Linear in the rest: O(h^2), about 1e-5 relative at 0.05% spacing.
        assert approx.gamma_coin_per_usd == pytest.approx(btc.gamma_coin_per_usd, rel=1e-4)
        assert approx.vega_usd_per_vol * 0.01 == pytest.approx(btc.vega_usd_per_vol_pt, rel=1e-4)


def test_ladder_is_exact_at_its_nodes_and_knows_its_range() -> None:
    book = portfolio(mixed_holdings(), mixed_balances())
    cache = LadderRisk.build(book, "BTC", built_ns=0, half_width=0.01, spacing=0.001)
    node = 100_000.0 * math.exp(0.003)
    book.update_spot("BTC", node)
    assert cache.at(node).delta_coin == pytest.approx(book.risk().underlying("BTC").delta_coin, rel=1e-12)
    assert cache.covers(100_000.0 * math.exp(0.0099)) and not cache.covers(100_000.0 * math.exp(0.0101))


def test_liquidation_distance_follows_the_spot_between_rebuilds() -> None:
    perp = linear_future()
    # 10 BTC long at 100,000 on 100,000 USDT: liquidated near 90,000 (maintenance is small).
    book = portfolio([(perp, Position(perp.instrument_id, 10.0, 100_000.0))],
                     [make_balance("binance", "USDT", "100000")])
    cache = LadderRisk.build(book, "BTC", built_ns=0)
    down, up = cache.liquidation_spots_usd
    assert up is None and 90_000.0 < down < 92_000.0
    assert cache.liquidation_distance(100_000.0) == pytest.approx(100_000.0 / down - 1.0)
    assert cache.liquidation_distance(95_000.0) == pytest.approx(95_000.0 / down - 1.0)
    assert cache.liquidation_distance(down * 0.99) == 0.0

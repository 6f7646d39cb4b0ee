"""Distance to liquidation: closed forms, revaluation at the root, the first crossing, edge cases."""

from __future__ import annotations

import math

import numpy as np
import pytest

from hedgekeeper.portfolio.liquidation import LiquidationStatus, find_liquidation_moves
from hedgekeeper.portfolio.portfolio import Portfolio
from hedgekeeper.portfolio.positions import Account, Position
from portfolio.book_builders import (
    balance,
    inverse_future,
    linear_future,
    market,
    mixed_balances,
    mixed_holdings,
    portfolio,
)

USDT = Account("binance", "USDT")
FIRST_TIER_MAINTENANCE = 0.004  # Binance BTCUSDT, notional up to 50,000 USDT


def _linear_perpetual_book(size_coin: float, usdt: str) -> Portfolio:
    perp = linear_future()
    return portfolio([(perp, Position(perp.instrument_id, size_coin, 100_000.0))], [balance("binance", "USDT", usdt)])


def _assert_at_maintenance_and_first(book: Portfolio, underlyings: list[str] | None, move: float) -> None:
    scope = book.underlyings if underlyings is None else underlyings
    at_root = book.scenario({name: [move] for name in scope})
    cushion = (at_root.equity_usd - at_root.maintenance_margin_usd)[0]
    breached = int(np.argmin(cushion))
    assert cushion[breached] == pytest.approx(0.0, abs=1e-6 * at_root.maintenance_margin_usd[0, breached])
    inside = book.scenario({name: np.linspace(0.0, move, 2001)[:-1] for name in scope})
    assert ((inside.equity_usd - inside.maintenance_margin_usd) > 0).all()


def test_long_linear_perpetual_liquidates_at_its_closed_form() -> None:
    # 0.4 BTC long at 100,000 on 10,000 USDT: B + q (S - E) = m q S  =>  S = (q E - B) / (q (1 - m)).
    book = _linear_perpetual_book(0.4, "10000")
    expected_spot = (0.4 * 100_000.0 - 10_000.0) / (0.4 * (1 - FIRST_TIER_MAINTENANCE))
    distance = book.distance_to_liquidation(["BTC"])
    assert distance.down.status is LiquidationStatus.REACHED and distance.down.account == USDT
    assert distance.liquidation_spot_usd(distance.down, "BTC") == pytest.approx(expected_spot, rel=1e-9)
    assert distance.move_usd(distance.down, "BTC") == pytest.approx(expected_spot - 100_000.0, rel=1e-9)
    assert distance.up.status is LiquidationStatus.NOT_WITHIN_RANGE and distance.up.move_fraction is None
    _assert_at_maintenance_and_first(book, ["BTC"], distance.down.move_fraction or 0.0)


def test_short_linear_perpetual_liquidates_up_at_its_closed_form() -> None:
    book = _linear_perpetual_book(-0.4, "10000")
    expected_spot = (0.4 * 100_000.0 + 10_000.0) / (0.4 * (1 + FIRST_TIER_MAINTENANCE))  # 124,502: still tier 1
    distance = book.distance_to_liquidation()
    assert distance.liquidation_spot_usd(distance.up, "BTC") == pytest.approx(expected_spot, rel=1e-9)
    assert distance.down.status is LiquidationStatus.NOT_WITHIN_RANGE


def test_long_inverse_perpetual_liquidates_at_the_root_of_deribits_quadratic() -> None:
    # N = 500,000 USD long at 100,000 on 1 BTC. In coin, with u = N / S the size in BTC:
    # 1 + N / E - u = u (m + k u)  =>  k u^2 + (1 + m) u - (1 + N / E) = 0.
    perp = inverse_future()
    book = portfolio([(perp, Position(perp.instrument_id, 50_000.0, 100_000.0))], [balance("deribit", "BTC", "1")])
    k, m, c = 0.00005, 0.01, 1.0 + 500_000.0 / 100_000.0
    size_coin = (-(1 + m) + math.sqrt((1 + m) ** 2 + 4 * k * c)) / (2 * k)
    distance = book.distance_to_liquidation()
    assert distance.liquidation_spot_usd(distance.down, "BTC") == pytest.approx(500_000.0 / size_coin, rel=1e-9)
    assert distance.down.account == Account("deribit", "BTC")
    _assert_at_maintenance_and_first(book, None, distance.down.move_fraction or 0.0)


def test_common_move_of_two_underlyings_in_one_account() -> None:
    # Long 0.3 BTC (30,000 USDT) and 10 ETH (25,000 USDT), entries at spot, 12,000 USDT:
    # B + (N1 + N2) x = m (N1 + N2) (1 + x)  =>  x = (m N - B) / (N (1 - m)).
    btc, eth = linear_future(), linear_future(underlying="ETH")
    book = portfolio(
        [(btc, Position(btc.instrument_id, 0.3, 100_000.0)), (eth, Position(eth.instrument_id, 10.0, 2_500.0))],
        [balance("binance", "USDT", "12000")],
    )
    notional = 55_000.0
    expected = (FIRST_TIER_MAINTENANCE * notional - 12_000.0) / (notional * (1 - FIRST_TIER_MAINTENANCE))
    together = book.distance_to_liquidation()
    assert together.scope == ("BTC", "ETH")
    assert together.down.move_fraction == pytest.approx(expected, rel=1e-9)
    assert together.liquidation_spot_usd(together.down, "ETH") == pytest.approx(2_500.0 * (1 + expected), rel=1e-9)
    alone = book.distance_to_liquidation(["BTC"]).down.move_fraction or 0.0
    assert alone < together.down.move_fraction  # BTC alone must fall further


def test_already_below_maintenance_is_distance_zero() -> None:
    book = _linear_perpetual_book(0.4, "100")  # equity 100 < maintenance 160
    distance = book.distance_to_liquidation()
    assert distance.down.status is distance.up.status is LiquidationStatus.ALREADY_BELOW
    assert distance.down.move_fraction == 0.0 and distance.down.account == USDT


def test_no_liquidation_within_range() -> None:
    book = _linear_perpetual_book(0.01, "10000")
    distance = book.distance_to_liquidation(max_move=0.9)
    assert distance.down.status is distance.up.status is LiquidationStatus.NOT_WITHIN_RANGE
    assert distance.max_move == 0.9


def test_spot_and_balances_alone_cannot_be_liquidated() -> None:
    book = portfolio([], [balance("deribit", "BTC", "2")], market())
    assert book.distance_to_liquidation().down.status is LiquidationStatus.NOT_WITHIN_RANGE


def test_option_book_first_crossing_is_at_maintenance() -> None:
    book = portfolio(mixed_holdings(), mixed_balances())
    for scope in (["BTC"], ["ETH"], None):
        distance = book.distance_to_liquidation(scope, max_move=0.6)
        for side in (distance.down, distance.up):
            if side.status is LiquidationStatus.REACHED:
                _assert_at_maintenance_and_first(book, scope, side.move_fraction or 0.0)
    assert book.distance_to_liquidation(["BTC"]).up.status is LiquidationStatus.REACHED


def test_search_arguments_are_checked() -> None:
    with pytest.raises(ValueError, match=r"max_move must be in \(0, 1\)"):
        find_liquidation_moves(lambda x: x[:, None], [USDT], max_move=1.0)
    with pytest.raises(ValueError, match="grid_points must be >= 1"):
        find_liquidation_moves(lambda x: x[:, None], [USDT], grid_points=0)

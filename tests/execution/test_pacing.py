"""Pacing: TWAP slices, and the Almgren-Chriss trajectory calibrated on the book at arrival."""

from __future__ import annotations

from decimal import Decimal

import numpy as np
import pytest
from execution.execution_builders import PERP

from hedgekeeper.errors import BadData
from hedgekeeper.execution.book_walk import walk_levels
from hedgekeeper.execution.pacing import AlmgrenChrissPacing, TwapPacing, coin_per_contract
from hedgekeeper.execution.slicing import twap_schedule
from hedgekeeper.market.events import BookUpdate
from hedgekeeper.market.order_book import OrderBook
from hedgekeeper.portfolio.instruments import Instrument, InstrumentKind, Settlement
from hedgekeeper.venues.orders import Side

INVERSE = Instrument(
    instrument_id="BTCUSD_PERP.BINANCE", venue="binance", kind=InstrumentKind.PERPETUAL,
    settlement=Settlement.INVERSE, underlying="BTC", settlement_currency="BTC", contract_size=Decimal(100),
    tick_size=Decimal("0.1"), lot_size=Decimal(1), min_size=Decimal(1),
)
TEN_SECONDS_NS = 10_000_000_000


def linear_book(mid_usd: float = 100_000.0, coin_per_level: float = 2.0, gap_usd: float = 1.0) -> OrderBook:
    """Levels of ``coin_per_level`` every ``gap_usd`` from half a gap around ``mid_usd``: depth linear in distance."""
    book = OrderBook()
    bids = tuple((mid_usd - gap_usd * (i + 0.5), coin_per_level) for i in range(400))
    asks = tuple((mid_usd + gap_usd * (i + 0.5), coin_per_level) for i in range(400))
    book.apply(BookUpdate(0, "X", bids, asks, True))
    return book


def test_twap_pacing_is_the_twap_schedule() -> None:
    slices = TwapPacing(4, 5).schedule(PERP, Side.BUY, Decimal("1.003"), linear_book(), 100)
    assert slices == twap_schedule(Decimal("1.003"), PERP.lot_size, 100, 20, 4)
    assert sum(s.size_coin for s in slices) == Decimal("1.003")


def test_calibrated_temporary_impact_prices_a_slice_as_the_book_walk_does() -> None:
    book = linear_book(coin_per_level=2.0, gap_usd=1.0)  # rho = 2 coin per USD
    pacing = AlmgrenChrissPacing(TEN_SECONDS_NS, vol=0.6, risk_aversion_per_usd=1e-4)
    model = pacing.model(PERP, Side.BUY, book)
    for size_coin in (10.0, 40.0, 150.0):
        walk = walk_levels(book.levels(1), size_coin)
        walk_cost_usd = (walk.average_price_usd - 100_000.0) * size_coin
        model_cost_usd = model.temporary_impact / 10.0 * size_coin**2  # (eta / tau) n^2
        assert model_cost_usd == pytest.approx(walk_cost_usd, rel=0.02)
    assert model.sigma_usd == pytest.approx(0.6 * 100_000.0 / np.sqrt(365 * 86_400))


def test_more_risk_aversion_trades_faster_and_front_loads() -> None:
    book = linear_book()
    quantity = Decimal("60")
    counts = []
    for aversion in (1e-5, 1e-4, 1e-3):
        slices = AlmgrenChrissPacing(TEN_SECONDS_NS, 0.6, aversion).schedule(PERP, Side.SELL, quantity, book, 0)
        sizes = [s.size_coin for s in slices]
        assert sum(sizes) == quantity
        assert all(a >= b for a, b in zip(sizes, sizes[1:]))
        assert [s.ts_ns for s in slices] == sorted(s.ts_ns for s in slices) and slices[0].ts_ns == 0
        counts.append(len(slices))
    assert counts[0] > counts[1] > counts[2]


def test_an_inverse_contract_follows_the_same_trajectory_as_its_coin() -> None:
    book = linear_book()
    pacing = AlmgrenChrissPacing(TEN_SECONDS_NS, 0.6, 1e-4)
    coin = coin_per_contract(INVERSE, 100_000.0)  # 0.001 coin per 100 USD contract
    inverse = pacing.schedule(INVERSE, Side.BUY, Decimal(20_000), book, 0)  # 20 coin
    linear = pacing.schedule(PERP, Side.BUY, Decimal(20), book, 0)
    assert [float(s.size_coin) * coin for s in inverse] == pytest.approx([float(s.size_coin) for s in linear],
                                                                         abs=0.001)


def test_pacing_refuses_a_book_without_a_mid_or_depth_and_bad_parameters() -> None:
    pacing = AlmgrenChrissPacing(TEN_SECONDS_NS, 0.6, 1e-4)
    with pytest.raises(BadData, match="no mid"):
        pacing.schedule(PERP, Side.BUY, Decimal(1), OrderBook(), 0)
    thin = OrderBook()
    thin.apply(BookUpdate(0, "X", ((99_000.0, 1.0),), ((101_000.0, 1.0),), True))
    with pytest.raises(BadData, match="no depth within 10 bps"):
        pacing.schedule(PERP, Side.BUY, Decimal(1), thin, 0)
    with pytest.raises(BadData, match="vol"):
        AlmgrenChrissPacing(TEN_SECONDS_NS, float("nan"), 1e-4)
    with pytest.raises(BadData, match="slices >= 1"):
        TwapPacing(0, 1)

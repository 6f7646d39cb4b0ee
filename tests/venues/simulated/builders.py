"""Instruments, exchanges, orders and book events for the simulated exchange's tests."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from hedgekeeper.engine.clock import SimulatedClock
from hedgekeeper.execution.fees import FeeSchedule, VenueFees
from hedgekeeper.market.events import BookUpdate
from hedgekeeper.portfolio.instruments import Instrument, InstrumentKind, Settlement, example_instruments
from hedgekeeper.venues.orders import OrderRequest, OrderType, Side, TimeInForce
from hedgekeeper.venues.simulated.config import SimulatedExchangeConfig
from hedgekeeper.venues.simulated.exchange import ExchangeCore

VENUE = "deribit"
MAKER_RATE = 0.0002
TAKER_RATE = 0.0005
START_NS = 1_750_000_000_000_000_000


def linear_perpetual(tick: str = "0.5", lot: str = "1", min_size: str = "1") -> Instrument:
    """Return a USDC-settled BTC perpetual of 1 BTC per contract."""
    return Instrument(
        instrument_id="BTC_USDC-PERPETUAL", venue=VENUE, kind=InstrumentKind.PERPETUAL,
        settlement=Settlement.LINEAR, underlying="BTC", settlement_currency="USDC", contract_size=Decimal(1),
        tick_size=Decimal(tick), lot_size=Decimal(lot), min_size=Decimal(min_size),
    )


def inverse_perpetual() -> Instrument:
    """Return Deribit's BTC perpetual: 10 USD of face per contract, settled in BTC."""
    return example_instruments()[0]


def make_exchange(
    instruments: Sequence[Instrument],
    *,
    balances: dict[str, Decimal] | None = None,
    order_latency_ns: int = 0,
    cancel_latency_ns: int = 0,
    market_protection_bps: float | None = None,
    maker_rate: float = MAKER_RATE,
    taker_rate: float = TAKER_RATE,
) -> tuple[ExchangeCore, SimulatedClock]:
    """Return a simulated exchange on a simulated clock at ``START_NS``, its account "main" funded."""
    config = SimulatedExchangeConfig(
        name=VENUE, order_latency_ns=order_latency_ns, cancel_latency_ns=cancel_latency_ns,
        market_protection_bps=market_protection_bps,
        balances=balances if balances is not None else {"USDC": Decimal(1_000_000), "BTC": Decimal(100)},
    )
    clock = SimulatedClock(start_ns=START_NS)
    fees = FeeSchedule(venues={VENUE: VenueFees(maker=maker_rate, taker=taker_rate)})
    return ExchangeCore(config, instruments, fees, clock), clock


def order(
    client_order_id: str,
    instrument: Instrument,
    side: Side,
    quantity: str | int,
    price: str | int | None = None,
    time_in_force: TimeInForce = TimeInForce.GTC,
    *,
    reduce_only: bool = False,
) -> OrderRequest:
    """Return a limit order, or a market order when ``price`` is None."""
    return OrderRequest(
        client_order_id=client_order_id, instrument_id=instrument.instrument_id, side=side,
        quantity=instrument.make_qty(Decimal(quantity), round_down=True),
        order_type=OrderType.MARKET if price is None else OrderType.LIMIT,
        price=None if price is None else instrument.make_price(Decimal(price), round_down=True),
        time_in_force=time_in_force, reduce_only=reduce_only,
    )


def snapshot(
    ts_ns: int, instrument: Instrument, bids: Sequence[tuple[float, float]], asks: Sequence[tuple[float, float]]
) -> BookUpdate:
    """Return a full book of ``(price_usd, size_coin)`` levels, best first."""
    return BookUpdate(ts_ns, instrument.instrument_id, tuple(bids), tuple(asks), True)


def delta(
    ts_ns: int, instrument: Instrument, bids: Sequence[tuple[float, float]], asks: Sequence[tuple[float, float]]
) -> BookUpdate:
    """Return a book delta: each level set, size 0 deleting it."""
    return BookUpdate(ts_ns, instrument.instrument_id, tuple(bids), tuple(asks), False)

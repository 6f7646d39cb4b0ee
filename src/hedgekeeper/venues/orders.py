"""The vocabulary every venue speaks: order requests, the venue's view of an order, fills, positions.

Sizes and prices that cross to a venue are exact value objects made by the
instrument at its precision (``Instrument.make_qty`` / ``make_price``): a quantity
is in contracts, a multiple of the lot size; a price is in the instrument's quote
currency (USD per coin; coin for inverse options), a multiple of the tick size.
Fees are ``Money`` in the currency the venue charged them in. Every record keeps
the venue's raw payload, when there is one, under ``raw``.

A ``client_order_id`` is chosen by us before an order is sent and names it for
good: placing the same id twice never makes two orders (the venue, or our adapter
for it, answers the second time with the first order), which is what makes a
retry after a timeout safe.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from typing import Any

from hedgekeeper.portfolio.values import Money, Price, Quantity


class Side(StrEnum):
    """Buy or sell."""

    BUY = "buy"
    SELL = "sell"

    @property
    def sign(self) -> int:
        """Return +1 for a buy, -1 for a sell."""
        return 1 if self is Side.BUY else -1

    @classmethod
    def of(cls, signed_size: float | Decimal) -> Side:
        """Return the side that trades a signed size: BUY for > 0, SELL otherwise.

        >>> Side.of(-0.5), Side.of(2)
        (<Side.SELL: 'sell'>, <Side.BUY: 'buy'>)
        """
        return cls.BUY if signed_size > 0 else cls.SELL


class OrderType(StrEnum):
    """A market order takes what the book offers; a limit order never trades through its price."""

    MARKET = "market"
    LIMIT = "limit"


class TimeInForce(StrEnum):
    """How long an order works: until cancelled, immediate-or-cancel, fill-or-kill, or post-only (maker or nothing)."""

    GTC = "gtc"
    IOC = "ioc"
    FOK = "fok"
    POST_ONLY = "post_only"


class OrderStatus(StrEnum):
    """Where an order stands in its life (the transitions are ``execution/order_state.py``'s table)."""

    NEW = "new"  # sent, not yet acknowledged
    ACKNOWLEDGED = "acknowledged"  # accepted by the venue, working
    PARTIALLY_FILLED = "partially_filled"
    FILLED = "filled"
    CANCELLED = "cancelled"
    REJECTED = "rejected"
    EXPIRED = "expired"

    @property
    def is_terminal(self) -> bool:
        """Return whether the order can change no more."""
        return self in _TERMINAL


_TERMINAL = frozenset({OrderStatus.FILLED, OrderStatus.CANCELLED, OrderStatus.REJECTED, OrderStatus.EXPIRED})


class Liquidity(StrEnum):
    """Whether a fill added liquidity to the book (maker) or took it (taker)."""

    MAKER = "maker"
    TAKER = "taker"


@dataclass(frozen=True, slots=True, kw_only=True)
class OrderRequest:
    """An order as we send it.

    Attributes
    ----------
    client_order_id : str, our id for the order, unique per venue and reused on retries
    instrument_id : str
    side : Side
    quantity : Quantity, contracts, a multiple of the lot size
    order_type : OrderType
    price : Price or None, the limit price (None for a market order), quote currency
    time_in_force : TimeInForce
    reduce_only : bool, the order may only shrink a position
    """

    client_order_id: str
    instrument_id: str
    side: Side
    quantity: Quantity
    order_type: OrderType = OrderType.LIMIT
    price: Price | None = None
    time_in_force: TimeInForce = TimeInForce.GTC
    reduce_only: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class VenueOrder:
    """The venue's view of one order at ``ts_ns``.

    Attributes
    ----------
    client_order_id, instrument_id, side, quantity, order_type, price, time_in_force : as sent
    venue_order_id : str, the venue's own id ("" before it gave one)
    status : OrderStatus
    filled_quantity : Decimal, contracts filled so far, >= 0
    average_price : Decimal or None, average fill price, quote currency
    ts_ns : int, when the venue last changed the order, ns since the epoch (UTC)
    reason : str, why the order was rejected, cancelled or expired ("" otherwise)
    raw : the venue's payload, if any
    """

    client_order_id: str
    venue_order_id: str
    instrument_id: str
    side: Side
    quantity: Quantity
    order_type: OrderType
    price: Price | None
    time_in_force: TimeInForce
    status: OrderStatus
    filled_quantity: Decimal = Decimal(0)
    average_price: Decimal | None = None
    ts_ns: int = 0
    reason: str = ""
    raw: Mapping[str, Any] | None = field(default=None, compare=False, repr=False)

    @property
    def remaining_quantity(self) -> Decimal:
        """Return the contracts still to fill (0 once the order is terminal)."""
        return Decimal(0) if self.status.is_terminal else self.quantity.value - self.filled_quantity


@dataclass(frozen=True, slots=True, kw_only=True)
class Fill:
    """One execution reported by a venue.

    Attributes
    ----------
    fill_id : str, the venue's trade id, unique per venue
    client_order_id, venue_order_id, instrument_id : the order filled
    side : Side
    quantity : Quantity, contracts
    price : Price, quote currency
    fee : Money, the fee charged (negative for a rebate), in the currency charged
    liquidity : Liquidity
    ts_ns : int, ns since the epoch (UTC)
    raw : the venue's payload, if any
    """

    fill_id: str
    client_order_id: str
    venue_order_id: str
    instrument_id: str
    side: Side
    quantity: Quantity
    price: Price
    fee: Money
    liquidity: Liquidity
    ts_ns: int
    raw: Mapping[str, Any] | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True, slots=True, kw_only=True)
class VenuePosition:
    """A position as the venue reports it.

    Attributes
    ----------
    instrument_id : str
    size_contracts : Decimal, signed: > 0 long
    entry_price : Decimal or None, average entry price, quote currency
    """

    instrument_id: str
    size_contracts: Decimal
    entry_price: Decimal | None = None

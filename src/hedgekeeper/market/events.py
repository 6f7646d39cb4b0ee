"""Market events: what the engine's loop consumes, from a simulator, a file or a venue.

Every event is an immutable record stamped with ``ts_ns`` (integer nanoseconds since
the epoch, UTC) and the ``stream`` it belongs to (an instrument id, an oracle feed,
a chain). Prices are floats in USD per coin unless the field says otherwise; sizes
are in coin. Events carry no behaviour: validation at the edge lives in
``market/validation.py``, and what the engine does with them in ``engine/``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypeAlias


@dataclass(frozen=True, slots=True)
class Trade:
    """A print on a venue: ``size_coin`` traded at ``price_usd``; ``aggressor`` +1 buy, -1 sell."""

    ts_ns: int
    stream: str
    price_usd: float
    size_coin: float
    aggressor: int


@dataclass(frozen=True, slots=True)
class TopOfBook:
    """The best bid and ask of an instrument, USD per coin and coin."""

    ts_ns: int
    stream: str
    bid_usd: float
    bid_size_coin: float
    ask_usd: float
    ask_size_coin: float

    @property
    def mid_usd(self) -> float:
        """Return the mid price, USD per coin."""
        return 0.5 * (self.bid_usd + self.ask_usd)


@dataclass(frozen=True, slots=True)
class BookUpdate:
    """Level-2 book levels: ``(price_usd, size_coin)`` pairs, best first.

    A snapshot replaces the whole book; a delta sets each listed level, a size of
    zero deleting it.
    """

    ts_ns: int
    stream: str
    bids: tuple[tuple[float, float], ...]
    asks: tuple[tuple[float, float], ...]
    is_snapshot: bool


@dataclass(frozen=True, slots=True)
class OptionQuote:
    """An option's quote: bid, ask and mark implied vols (annualised decimals) and its forward.

    ``bid_vol`` or ``ask_vol`` is NaN when that side is empty; ``forward_usd`` is
    the underlying price the venue marks the option on.
    """

    ts_ns: int
    stream: str
    bid_vol: float
    ask_vol: float
    mark_vol: float
    forward_usd: float


@dataclass(frozen=True, slots=True)
class Funding:
    """A perpetual's funding: ``rate`` per funding interval (decimal), paid by longs when > 0."""

    ts_ns: int
    stream: str
    rate: float
    mark_usd: float


@dataclass(frozen=True, slots=True)
class OracleUpdate:
    """A reference-price round: ``price_usd`` as of ``updated_at_ns``, from feed ``stream``."""

    ts_ns: int
    stream: str
    round_id: int
    price_usd: float
    updated_at_ns: int


@dataclass(frozen=True, slots=True)
class Block:
    """A new block on chain ``stream``: its number and base fee in wei per gas."""

    ts_ns: int
    stream: str
    number: int
    base_fee_wei: int


MarketEvent: TypeAlias = Trade | TopOfBook | BookUpdate | OptionQuote | Funding | OracleUpdate | Block

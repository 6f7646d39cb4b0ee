"""How fast a hedge is worked: the schedule of child orders an executor sends.

A ``Pacing`` turns a hedge (an instrument, a side and a size in contracts) and the
book at its arrival into slices of whole lots at set times:

- ``TwapPacing``: equal slices at fixed intervals (``slices=1`` is one order at once);
- ``AlmgrenChrissPacing``: the Almgren-Chriss optimal trajectory, its number of
  slices chosen by ``pace_hedge`` from the risk the delay carries, on a model
  calibrated from the book at arrival (below).

Calibration of the Almgren-Chriss model from the book. A book whose depth grows
linearly away from the mid, ``rho`` coin per USD of distance, fills a market order
of ``n`` coin at an average ``n / (2 rho)`` beyond the touch. When the book refills
between slices ``tau`` seconds apart, the temporary impact cost of a slice is
``n^2 / (2 rho)`` USD, which is Almgren-Chriss's ``(eta / tau) n^2`` with
``eta = tau / (2 rho)``. ``rho`` is read as the depth within ``depth_bps`` of the mid
on the side taken, over that distance in USD. Read from the mid, that depth makes
the walk's cost include the half spread, so ``eps`` is 0: a cost per coin (the
half spread, the fee) adds ``eps X`` whatever the trajectory and changes no
schedule. ``sigma`` comes from the annualised ``vol`` at the mid. Sizes are
converted between coin and contracts with the instrument's coin per contract at
the mid (``contract_size`` for linear instruments, ``contract_size / mid`` for
inverse ones): in contract units ``sigma`` and ``eps`` scale by it and ``eta`` by
its square.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol

from hedgekeeper.errors import BadData
from hedgekeeper.execution.almgren_chriss import AlmgrenChriss, pace_hedge
from hedgekeeper.execution.slicing import ScheduledSlice, twap_schedule
from hedgekeeper.market.order_book import OrderBook
from hedgekeeper.portfolio.instruments import Instrument
from hedgekeeper.venues.orders import Side


class Pacing(Protocol):
    """Cut a hedge into slices of whole lots at set times."""

    def schedule(self, instrument: Instrument, side: Side, quantity: Decimal, book: OrderBook, now_ns: int
                 ) -> tuple[ScheduledSlice, ...]:
        """Return the slices (sizes in contracts, whole lots, summing to ``quantity``), first at ``now_ns``."""
        ...


@dataclass(frozen=True, slots=True)
class TwapPacing:
    """Equal slices at fixed intervals.

    Parameters
    ----------
    slices : int >= 1, child orders per hedge (1: the whole hedge at once)
    interval_ns : int >= 0, ns between slices
    """

    slices: int = 1
    interval_ns: int = 0

    def __post_init__(self) -> None:
        if self.slices < 1 or self.interval_ns < 0:
            raise BadData(f"TWAP needs slices >= 1 and interval_ns >= 0, got {self.slices} and {self.interval_ns}")

    def schedule(self, instrument: Instrument, side: Side, quantity: Decimal, book: OrderBook, now_ns: int
                 ) -> tuple[ScheduledSlice, ...]:
        """Return ``slices`` slices of ``quantity`` contracts, ``interval_ns`` apart from ``now_ns``."""
        return twap_schedule(quantity, instrument.lot_size, now_ns, self.interval_ns * self.slices, self.slices)


def coin_per_contract(instrument: Instrument, mid_usd: float) -> float:
    """Return the coin one contract is worth at ``mid_usd`` (USD per coin): its delta, coin.

    >>> from hedgekeeper.portfolio.instruments import example_instruments
    >>> coin_per_contract(example_instruments()[0], 100_000.0)  # a 10 USD inverse perpetual
    0.0001
    """
    size = float(instrument.contract_size)
    return size / mid_usd if instrument.is_inverse else size


@dataclass(frozen=True, slots=True)
class AlmgrenChrissPacing:
    """The Almgren-Chriss trajectory on a model calibrated from the book at the hedge's arrival.

    Parameters
    ----------
    interval_ns : int > 0, ns between slices: the time the book is taken to refill
    vol : float, annualised volatility of the underlying, decimal (0.6 is 60%), >= 0
    risk_aversion_per_usd : float, absolute risk aversion ``gamma_u``, per USD, >= 0
    depth_bps : float > 0, the distance from the mid over which the book's depth is read, bps
    max_slices : int >= 1
    """

    interval_ns: int
    vol: float
    risk_aversion_per_usd: float
    depth_bps: float = 10.0
    max_slices: int = 100

    def __post_init__(self) -> None:
        numbers = {"vol": self.vol, "risk_aversion_per_usd": self.risk_aversion_per_usd}
        bad = {name: value for name, value in numbers.items() if not (math.isfinite(value) and value >= 0.0)}
        if self.interval_ns <= 0 or self.max_slices < 1 or not (math.isfinite(self.depth_bps) and self.depth_bps > 0):
            bad |= {"interval_ns": self.interval_ns, "max_slices": self.max_slices, "depth_bps": self.depth_bps}
        if bad:
            raise BadData(f"Almgren-Chriss pacing: out of range {bad}")

    def model(self, instrument: Instrument, side: Side, book: OrderBook) -> AlmgrenChriss:
        """Return the model in contract units, calibrated on ``book`` for trading on ``side``.

        Raises
        ------
        BadData
            If the book has no mid or no depth on the side taken within ``depth_bps``.
        """
        mid_usd = book.mid_usd
        if mid_usd is None:
            raise BadData(f"{instrument.instrument_id}: no mid to calibrate Almgren-Chriss on")
        bid_coin, ask_coin = book.depth_within_bps(self.depth_bps)
        depth_coin = ask_coin if side is Side.BUY else bid_coin
        if depth_coin <= 0.0:
            raise BadData(f"{instrument.instrument_id}: no depth within {self.depth_bps:g} bps on the {side} side")
        rho_coin_per_usd = depth_coin / (mid_usd * self.depth_bps * 1e-4)
        interval_s = self.interval_ns * 1e-9
        coin_model = AlmgrenChriss.from_annual_vol(mid_usd, self.vol, interval_s / (2.0 * rho_coin_per_usd))
        coin = coin_per_contract(instrument, mid_usd)
        return AlmgrenChriss(coin_model.sigma_usd * coin, coin_model.temporary_impact * coin * coin)

    def schedule(self, instrument: Instrument, side: Side, quantity: Decimal, book: OrderBook, now_ns: int
                 ) -> tuple[ScheduledSlice, ...]:
        """Return the optimal trajectory's slices of ``quantity`` contracts from ``now_ns``.

        Examples
        --------
        A book of 1-coin levels 1 USD apart on a 100,000 USD coin (``rho`` = 1 coin per
        USD), 10-second slices: 20 coin at a risk aversion of 1e-3 per USD go in 6
        front-loaded slices; ten times less risk-averse, in 15 smaller ones.

        >>> from hedgekeeper.market.events import BookUpdate
        >>> from hedgekeeper.portfolio.instruments import InstrumentKind, Settlement
        >>> spot = Instrument(instrument_id="BTC-USD", venue="x", kind=InstrumentKind.SPOT,
        ...     settlement=Settlement.LINEAR, underlying="BTC", settlement_currency="USD",
        ...     contract_size=Decimal(1), tick_size=Decimal("0.5"), lot_size=Decimal("0.1"),
        ...     min_size=Decimal("0.1"))
        >>> book = OrderBook()
        >>> book.apply(BookUpdate(0, "X", tuple((99_999.5 - i, 1.0) for i in range(100)),
        ...                       tuple((100_000.5 + i, 1.0) for i in range(100)), True))
        >>> fast = AlmgrenChrissPacing(10_000_000_000, 0.6, 1e-3)
        >>> [str(s.size_coin) for s in fast.schedule(spot, Side.BUY, Decimal(20), book, 0)]
        ['12.8', '4.6', '1.7', '0.6', '0.2', '0.1']
        >>> len(AlmgrenChrissPacing(10_000_000_000, 0.6, 1e-4).schedule(spot, Side.BUY, Decimal(20), book, 0))
        15
        """
        pace = pace_hedge(self.model(instrument, side, book), quantity, instrument.lot_size, self.interval_ns,
                          self.risk_aversion_per_usd, max_slices=self.max_slices)
        return pace.schedule(now_ns)

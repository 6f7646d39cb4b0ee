"""Execute hedges through the smart order router: one parent split across exchanges and pools.

A hedge of an underlying is a change of its delta, in coin; every ``Route`` of
that underlying (a perpetual on one exchange, spot on another, a swap pool)
delivers delta at its own cost. For each hedge the executor

1. converts it to coin at the mid of the instrument the engine named, in whole
   routing lots (``lot_coin``);
2. asks every route for its liquidity as it stands (an order book's levels with
   its taker fee, a pool's exact quote with its gas), each costed against its own
   mid and read once a round (a chain pool is read over RPC), and lets
   ``route_order`` split the parent at least total cost;
3. sends each leg as one immediate-or-cancel order through the ``OrderManager``
   (safety limits, idempotent retries), priced on that same read: on a book,
   limited to the last level the leg needs, so it takes those levels and no
   more; on a pool, limited to the quote's average price plus the route's
   ``tolerance_bps``;
4. once every child of the round is done, re-plans what is left on the refreshed
   sources, for at most ``max_rounds`` rounds; what is still left is logged.

Every fill the venues make is reported once, as the engine books it. Sizes sent to
a venue are contracts of its instrument at the venue's lot, rounded down.
"""

from __future__ import annotations

import asyncio
import logging
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Protocol

from hedgekeeper.errors import BadData
from hedgekeeper.execution.liquidity import BookSource, LiquiditySource
from hedgekeeper.execution.order_manager import OrderManager
from hedgekeeper.execution.pacing import coin_per_contract
from hedgekeeper.execution.pool_source import pool_source
from hedgekeeper.execution.routing import RouteLeg, route_order
from hedgekeeper.execution.simulated_taker import TakerFill
from hedgekeeper.execution.venue_fills import VenueFills
from hedgekeeper.market.order_book import OrderBook
from hedgekeeper.portfolio.instruments import Instrument, InstrumentRegistry
from hedgekeeper.venues.amm.pool import AmmPool
from hedgekeeper.venues.amm.pool_quote import PoolTokens, pool_mid_usd, quote_pool
from hedgekeeper.venues.orders import OrderRequest, OrderType, Side, TimeInForce

logger = logging.getLogger(__name__)


class RouteQuote(Protocol):
    """A route's liquidity read once: the source the router plans on, and the limit price of a leg on it."""

    @property
    def source(self) -> LiquiditySource:
        """Return the liquidity, costed against the route's own mid, named by the instrument id."""
        ...

    def limit_price_usd(self, leg: RouteLeg) -> float:
        """Return the child order's limit price for ``leg``, on the state ``source`` was read from, USD per coin."""
        ...


class Route(Protocol):
    """A place a hedge can go: one instrument on one venue, and its liquidity now."""

    @property
    def instrument(self) -> Instrument:
        """Return the instrument traded there; its ``venue`` names the venue in the order manager."""
        ...

    def quote(self, side: Side) -> RouteQuote | None:
        """Return the liquidity on ``side`` as it stands, read once; None while the route has no mid."""
        ...


@dataclass(frozen=True, slots=True)
class BookQuote:
    """An order book's side read once: its levels with the taker fee, and where a leg's last level lies."""

    source: BookSource
    levels: Sequence[tuple[float, float]]  # (price USD per coin, size coin), best first

    def limit_price_usd(self, leg: RouteLeg) -> float:
        """Return the price of the last level ``leg`` reaches."""
        remaining = float(leg.size_coin) * (1.0 - 1e-12)
        for price, size in self.levels:
            remaining -= size
            if remaining <= 0.0:
                return price
        return self.levels[-1][0]


@dataclass(frozen=True, slots=True)
class PoolQuote:
    """A pool read once: its exact quote as a source, and the limit price of a swap on that state."""

    source: LiquiditySource
    pool: AmmPool
    tokens: PoolTokens
    side: Side
    tolerance_bps: float

    def limit_price_usd(self, leg: RouteLeg) -> float:
        """Return the leg's average price on the pool, ``tolerance_bps`` worse, USD per coin."""
        quote = quote_pool(self.pool, self.tokens, self.side, float(leg.size_coin))
        return quote.average_price_usd * (1.0 + self.side.sign * self.tolerance_bps * 1e-4)


@dataclass(frozen=True)
class BookRoute:
    """An instrument traded on an exchange's order book.

    Parameters
    ----------
    instrument : Instrument
    book : callable returning the venue's book as it stands now: its live feed (which
        shows what our own trades took), e.g. ``SimulatedExchange.book_snapshot``
    taker_fee_rate : float, decimal of the notional
    """

    instrument: Instrument
    book: Callable[[], OrderBook]
    taker_fee_rate: float

    def quote(self, side: Side) -> BookQuote | None:
        """Return the book's levels on the side taken, with the taker fee, against the book's mid; one read."""
        book = self.book()
        if book.mid_usd is None:
            return None
        return BookQuote(BookSource.from_book(self.instrument.instrument_id, self.instrument.venue, book,
                                              self.taker_fee_rate), book.levels(side.sign))


class SwapVenue(Protocol):
    """A venue that swaps through a pool: in process (``PoolVenue``) or on a chain (``ChainPoolVenue``)."""

    name: str
    tokens: PoolTokens

    @property
    def instrument(self) -> Instrument:
        """Return the pool's instrument."""
        ...

    def pool_model(self) -> AmmPool:
        """Return the pool as it stands, on its exact integer math."""
        ...

    def gas_estimate_usd(self) -> float:
        """Return one swap's gas now, USD."""
        ...


@dataclass(frozen=True)
class PoolRoute:
    """A coin/USD pool traded through its swap venue, read as it stands at each round.

    Parameters
    ----------
    venue : SwapVenue, a ``PoolVenue`` or a ``ChainPoolVenue``
    max_coin : float, the largest swap offered to the router, coin
    tolerance_bps : float >= 0, how far beyond the quoted average price a swap may fill, bps
    """

    venue: SwapVenue
    max_coin: float
    tolerance_bps: float = 10.0

    @property
    def instrument(self) -> Instrument:
        """Return the pool's instrument."""
        return self.venue.instrument

    def quote(self, side: Side) -> PoolQuote:
        """Return the pool's exact quote against its own mid, one swap's gas as the fixed cost; one read."""
        pool, tokens = self.venue.pool_model(), self.venue.tokens
        source = pool_source(self.instrument.instrument_id, self.venue.name, pool, tokens,
                             reference_mid_usd=pool_mid_usd(pool, tokens),
                             gas_cost_usd=self.venue.gas_estimate_usd(), max_coin=self.max_coin)
        return PoolQuote(source, pool, tokens, side, self.tolerance_bps)


@dataclass
class _Parent:
    """One hedge being routed: its size, what each route filled, and the children of its rounds."""

    underlying: str
    side: Side
    size_coin: Decimal
    arrival_mid_usd: float
    rounds: int = 0
    children: list[tuple[str, Route]] = field(default_factory=list)  # (client order id, route)

    def filled_coin(self, orders: OrderManager) -> Decimal:
        """Return the coin filled by every child so far, each fill converted at its own price."""
        coin = 0.0
        for client_order_id, route in self.children:
            for fill in orders.orders[client_order_id].fills.values():
                coin += float(fill.quantity.value) * coin_per_contract(route.instrument, float(fill.price.value))
        return Decimal(repr(coin))


@dataclass
class RoutedExecutor:
    """Split each hedge across every route of its underlying at least cost, re-planning after fills.

    Parameters
    ----------
    orders : OrderManager holding every route's venue
    registry : the instruments, by id
    routes : the routes of each underlying
    lot_coin : Decimal, the routing step, coin: at least every route's lot in coin
    max_rounds : int >= 1, routing rounds per hedge (1: no re-planning)
    """

    orders: OrderManager
    registry: InstrumentRegistry
    routes: Mapping[str, Sequence[Route]]
    lot_coin: Decimal
    max_rounds: int = 3
    _parents: list[_Parent] = field(default_factory=list, init=False)
    _parent_of: dict[str, _Parent] = field(default_factory=dict, init=False)
    _loop: asyncio.AbstractEventLoop = field(default_factory=asyncio.new_event_loop, init=False, repr=False)
    _fills: VenueFills = field(init=False, repr=False)

    def __post_init__(self) -> None:
        if not self.lot_coin > 0 or self.max_rounds < 1:
            raise BadData(f"lot_coin must be > 0 and max_rounds >= 1, got {self.lot_coin} and {self.max_rounds}")
        self._fills = VenueFills(self.orders, self.registry, self._loop)

    def execute(self, instrument: Instrument, size_contracts: float, book: OrderBook, now_ns: int
                ) -> list[TakerFill]:
        """Start routing ``size_contracts`` (signed) of ``instrument``'s delta; return the fills made at once."""
        mid_usd = book.mid_usd
        if mid_usd is None or not self.routes.get(instrument.underlying) or not math.isfinite(size_contracts):
            logger.warning("%s: no route for %+g contracts (no mid or no route)", instrument.instrument_id,
                           size_contracts)
            return []
        coin = abs(size_contracts) * coin_per_contract(instrument, mid_usd)
        size_coin = (Decimal(repr(coin)) // self.lot_coin) * self.lot_coin
        if size_coin == 0:
            return []
        parent = _Parent(instrument.underlying, Side.of(size_contracts), size_coin, mid_usd)
        self._parents.append(parent)
        self._route(parent)
        return self.poll(now_ns)

    def poll(self, now_ns: int) -> list[TakerFill]:
        """Re-plan the hedges whose round is done; return the fills the venues made since the last call."""
        if any(not self.orders.orders[child].status.is_terminal for p in self._parents for child, _ in p.children):
            self._loop.run_until_complete(self.orders.reconcile())
        for parent in self._parents:
            if self._round_done(parent) and parent.rounds < self.max_rounds:
                self._route(parent)
        fills = self._fills.new(self._arrival_mid)
        self._parents = [p for p in self._parents if not (self._round_done(p) and self._finished(p))]
        return fills

    def working(self, underlying: str) -> bool:
        """Return whether a hedge of ``underlying`` has children working or rounds to go."""
        return any(parent.underlying == underlying for parent in self._parents)

    def close(self) -> None:
        """Close the executor's event loop (its venues are the caller's to close first)."""
        self._loop.close()

    def _arrival_mid(self, client_order_id: str) -> float | None:
        parent = self._parent_of.get(client_order_id)
        return None if parent is None else parent.arrival_mid_usd

    def _round_done(self, parent: _Parent) -> bool:
        return all(self.orders.orders[child].status.is_terminal for child, _ in parent.children)

    def _remaining_coin(self, parent: _Parent) -> Decimal:
        left = parent.size_coin - parent.filled_coin(self.orders)
        return max(left, Decimal(0)).quantize(self.lot_coin) // self.lot_coin * self.lot_coin

    def _finished(self, parent: _Parent) -> bool:
        left = self._remaining_coin(parent)
        if left > 0 and parent.rounds >= self.max_rounds:
            logger.warning("%s hedge: %s of %s coin left unrouted after %d rounds", parent.underlying, left,
                           parent.size_coin, parent.rounds)
        return left == 0 or parent.rounds >= self.max_rounds

    def _route(self, parent: _Parent) -> None:
        """Route what is left of ``parent`` on the sources as they stand, and send the legs."""
        left = self._remaining_coin(parent)
        parent.rounds += 1
        if left == 0:
            return
        quotes = {route.instrument.instrument_id: (route, quote) for route in self.routes[parent.underlying]
                  if (quote := route.quote(parent.side)) is not None}
        plan = route_order([quote.source for _, quote in quotes.values()], parent.side, left, self.lot_coin,
                           parent.arrival_mid_usd)
        for leg in plan.legs:
            self._send(parent, *quotes[leg.source], leg)

    def _send(self, parent: _Parent, route: Route, quote: RouteQuote, leg: RouteLeg) -> None:
        instrument = route.instrument
        limit_usd = quote.limit_price_usd(leg)
        contracts = float(leg.size_coin) / coin_per_contract(instrument, limit_usd)
        quantity = instrument.make_qty(contracts * (1.0 + 1e-12), round_down=True)
        if quantity.value < max(instrument.min_size, instrument.lot_size):
            return
        request = OrderRequest(
            client_order_id=self.orders.next_client_order_id(), instrument_id=instrument.instrument_id,
            side=parent.side, quantity=quantity, order_type=OrderType.LIMIT,
            price=instrument.make_price(limit_usd, round_down=parent.side is Side.SELL),
            time_in_force=TimeInForce.IOC,
        )
        parent.children.append((request.client_order_id, route))
        self._parent_of[request.client_order_id] = parent
        self._loop.run_until_complete(self.orders.submit(instrument.venue, request))

"""A swap pool as a ``Venue``: orders become swaps on the pool's exact integer math.

The pool is simulated in process (``constant_product.py``, ``concentrated.py``), as
the chain would run it: a swap executes whole at once or not at all, like a
transaction with a minimum out that reverts. So an order is immediate-or-cancel by
nature, and fill-or-kill at the same time:

- a buy asks for exactly its quantity of the coin (exact output), a sell pays
  exactly its quantity in (exact input);
- a limit price bounds the average price (a buy pays at most, a sell gets at
  least ``limit * quantity`` USD), as a router's ``amountInMaximum`` or
  ``amountOutMinimum`` would; beyond it the order ends ``EXPIRED`` and nothing
  moves;
- an order that would rest (GTC, post-only) or amend is refused: a pool has no book.

Each swap pays the pool's fee inside its price and a fixed gas cost in USD,
recorded as the fill's fee. The account holds the coin and the USD stablecoin;
its coin is its position (the pool trades spot). Amounts are exact: the fill's
quantity is the coin's base units, the USD paid or received is kept in
``raw["usd"]`` and the fill's price is that over the quantity (28 significant
digits).
"""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator, Mapping, Sequence
from decimal import Decimal
from types import MappingProxyType
from typing import Any

from hedgekeeper.errors import InvalidOrder, OrderNotFound, UnknownInstrument, VenueRejected
from hedgekeeper.market.events import BookUpdate, TopOfBook, Trade
from hedgekeeper.portfolio.instruments import Instrument, InstrumentKind
from hedgekeeper.portfolio.positions import Balance
from hedgekeeper.portfolio.values import Money, Price, decimal_places
from hedgekeeper.timestamps import TimeSource
from hedgekeeper.venues.amm.errors import AmmError
from hedgekeeper.venues.amm.pool import AmmPool
from hedgekeeper.venues.amm.pool_quote import PoolTokens, pool_mid_usd, quote_pool
from hedgekeeper.venues.base import Capability, Support
from hedgekeeper.venues.orders import (
    Fill,
    Liquidity,
    OrderRequest,
    OrderStatus,
    OrderType,
    Side,
    TimeInForce,
    VenueOrder,
    VenuePosition,
)

CAPABILITIES: Mapping[Capability, Support] = MappingProxyType({
    Capability.IOC: Support.SUPPORTED,
    Capability.FOK: Support.SUPPORTED,
})


class SwapRefusals:
    """What a swap venue cannot do: amend an order (a swap is over once sent), or stream books, trades, fills.

    The streams are refused as absent; a swap's fill is known once ``place`` returns.
    """

    name: str

    async def amend(self, instrument_id: str, client_order_id: str, *, quantity: Decimal | None = None,
                    price: Decimal | None = None) -> VenueOrder:
        """Refuse: a swap cannot be amended."""
        raise InvalidOrder(f"{self.name}: a swap cannot be amended ({client_order_id})")

    def book_stream(self, instrument_id: str) -> AsyncIterator[BookUpdate | TopOfBook]:
        """Refuse: a pool has no book (``Capability.BOOK_STREAM`` is absent)."""
        raise VenueRejected(f"{self.name} offers no {Capability.BOOK_STREAM.value} (capabilities: absent)")

    def trade_stream(self, instrument_id: str) -> AsyncIterator[Trade]:
        """Refuse: ``Capability.TRADE_STREAM`` is absent."""
        raise VenueRejected(f"{self.name} offers no {Capability.TRADE_STREAM.value} (capabilities: absent)")

    def fill_stream(self) -> AsyncIterator[Fill]:
        """Refuse: ``Capability.FILL_STREAM`` is absent."""
        raise VenueRejected(f"{self.name} offers no {Capability.FILL_STREAM.value} (capabilities: absent)")


class PoolVenue(SwapRefusals):
    """The ``Venue`` of one account trading one coin/USD pool.

    Parameters
    ----------
    name : str, the venue's name
    instrument : Instrument, spot, on this venue: quantities in coin, its lot the smallest swap step
    pool : AmmPool, the pool as it stands
    tokens : PoolTokens, which token is the coin, and both tokens' decimals
    clock : TimeSource, stamping orders and fills
    usd_currency : str, the stablecoin's name (a USD currency)
    gas_cost_usd : Decimal >= 0, the USD paid per swap
    balances : mapping currency -> Decimal, what the account holds at the start
    """

    capabilities: Mapping[Capability, Support] = CAPABILITIES

    def __init__(self, name: str, instrument: Instrument, pool: AmmPool, tokens: PoolTokens, clock: TimeSource, *,
                 usd_currency: str = "USDC", gas_cost_usd: Decimal = Decimal(0),
                 balances: Mapping[str, Decimal] | None = None) -> None:
        if instrument.kind is not InstrumentKind.SPOT or instrument.venue != name:
            raise InvalidOrder(f"pool venue {name!r} trades a spot instrument of its own, "
                               f"got {instrument.instrument_id} ({instrument.kind}, venue {instrument.venue!r})")
        if gas_cost_usd < 0:
            raise InvalidOrder(f"pool venue {name!r}: gas_cost_usd must be >= 0, got {gas_cost_usd}")
        self.name = name
        self.instrument = instrument
        self.pool = pool
        self.tokens = tokens
        self.clock = clock
        self.usd_currency = usd_currency
        self.gas_cost_usd = gas_cost_usd
        self._balances = {instrument.underlying: Decimal(0), usd_currency: Decimal(0)} | dict(balances or {})
        self._orders: dict[str, VenueOrder] = {}
        self._fills: list[Fill] = []
        self._sequence = itertools.count(1)

    def pool_model(self) -> AmmPool:
        """Return the pool as it stands."""
        return self.pool

    def mid_usd(self) -> float:
        """Return the pool's marginal price before fees, USD per coin."""
        return pool_mid_usd(self.pool, self.tokens)

    def gas_estimate_usd(self) -> float:
        """Return one swap's gas, USD."""
        return float(self.gas_cost_usd)

    async def instruments(self) -> Sequence[Instrument]:
        """Return the pool's one instrument."""
        return [self.instrument]

    async def place(self, request: OrderRequest) -> VenueOrder:
        """Swap ``request``'s quantity at once, whole or not at all; return the order (idempotent on its id).

        Raises
        ------
        UnknownInstrument
            If the order is not for the pool's instrument.
        InvalidOrder
            If it would rest (GTC, post-only), its size is off the lot, or a market order carries a price.
        """
        known = self._orders.get(request.client_order_id)
        if known is not None:
            return known
        problem = self._problem(request)
        if problem is not None:
            self._orders[request.client_order_id] = self._view(request, OrderStatus.REJECTED, reason=problem)
            raise InvalidOrder(f"{self.name}: order {request.client_order_id} refused: {problem}")
        order = self._swap(request)
        self._orders[request.client_order_id] = order
        return order

    def _problem(self, request: OrderRequest) -> str | None:
        return swap_request_problem(self.name, self.instrument, request)

    def _swap(self, request: OrderRequest) -> VenueOrder:
        try:
            quote = quote_pool(self.pool, self.tokens, request.side, float(request.quantity.value))
        except AmmError as error:
            return self._view(request, OrderStatus.EXPIRED, reason=f"the pool cannot fill it: {error}")
        coin_units, usd_units = ((quote.swap.amount_out, quote.swap.amount_in) if request.side is Side.BUY
                                 else (quote.swap.amount_in, quote.swap.amount_out))
        coin = Decimal(coin_units).scaleb(-self.tokens.coin_decimals)
        usd = Decimal(usd_units).scaleb(-self.tokens.usd_decimals)
        if coin != request.quantity.value:
            return self._view(request, OrderStatus.EXPIRED,
                              reason=f"{coin} coin in base units is not the {request.quantity} asked for")
        if request.price is not None and request.side.sign * (usd - request.price.value * coin) > 0:
            return self._view(request, OrderStatus.EXPIRED,
                              reason=f"slippage: {usd} USD for {coin} coin is beyond the limit {request.price.value}")
        self.pool = quote.swap.pool
        self._balances[self.instrument.underlying] += request.side.sign * coin
        self._balances[self.usd_currency] -= request.side.sign * usd + self.gas_cost_usd
        average = usd / coin
        sequence = next(self._sequence)
        fill = Fill(
            fill_id=f"{self.name}-swap-{sequence}", client_order_id=request.client_order_id,
            venue_order_id=f"{self.name}-{sequence}", instrument_id=request.instrument_id, side=request.side,
            quantity=request.quantity, price=Price(average, decimal_places(average)),
            fee=Money(self.gas_cost_usd, self.usd_currency), liquidity=Liquidity.TAKER, ts_ns=self.clock.now_ns(),
            raw={"usd": str(usd), "pool_fee": quote.swap.fee, "mid_before_usd": quote.mid_price_usd},
        )
        self._fills.append(fill)
        return self._view(request, OrderStatus.FILLED, venue_order_id=fill.venue_order_id,
                          filled=request.quantity.value, average=average)

    def _view(self, request: OrderRequest, status: OrderStatus, *, reason: str = "", venue_order_id: str = "",
              filled: Decimal = Decimal(0), average: Decimal | None = None) -> VenueOrder:
        return swap_order_view(request, status, self.clock.now_ns(), reason=reason, venue_order_id=venue_order_id,
                               filled=filled, average=average)

    async def cancel(self, instrument_id: str, client_order_id: str) -> VenueOrder:
        """Return the order as it is: a swap is over the moment it is placed."""
        order = self._orders.get(client_order_id)
        if order is None or order.instrument_id != instrument_id:
            raise OrderNotFound(f"{self.name}: no order {client_order_id} on {instrument_id}")
        return order

    async def order(self, instrument_id: str, client_order_id: str) -> VenueOrder | None:
        """Return the order's view, None if the venue never saw it."""
        order = self._orders.get(client_order_id)
        return order if order is not None and order.instrument_id == instrument_id else None

    async def open_orders(self, instrument_id: str | None = None) -> Sequence[VenueOrder]:
        """Return no order: none ever rests."""
        return []

    async def fills(self, since_ns: int = 0) -> Sequence[Fill]:
        """Return the swaps at or after ``since_ns`` (ns since the epoch), oldest first."""
        return [fill for fill in self._fills if fill.ts_ns >= since_ns]

    async def positions(self) -> Sequence[VenuePosition]:
        """Return the coin held as a spot position (contracts are coin), if any."""
        held = self._balances[self.instrument.underlying]
        return [VenuePosition(instrument_id=self.instrument.instrument_id, size_contracts=held)] if held else []

    async def balances(self) -> Sequence[Balance]:
        """Return the coin and the stablecoin held, exact."""
        return [Balance(self.name, Money(amount, currency)) for currency, amount in self._balances.items()]

    async def close(self) -> None:
        """Release nothing: the pool lives in process."""


def swap_request_problem(venue_name: str, instrument: Instrument, request: OrderRequest) -> str | None:
    """Return why a swap venue refuses ``request`` before trying it, or None if it may be tried.

    A swap executes at once or not at all, so an order that would rest (a GTC or
    post-only limit) is refused, as are a market order with a price and a size that
    is not a positive whole number of lots. Shared by every venue that turns
    orders into swaps (``PoolVenue``, ``chain.venue.ChainPoolVenue``).

    Raises
    ------
    UnknownInstrument
        If ``request`` is not for ``instrument``.
    """
    if request.instrument_id != instrument.instrument_id:
        raise UnknownInstrument(f"{venue_name} trades {instrument.instrument_id}, not {request.instrument_id}")
    if request.time_in_force in (TimeInForce.GTC, TimeInForce.POST_ONLY) and request.order_type is OrderType.LIMIT:
        return f"a swap cannot rest: time in force must be IOC or FOK, got {request.time_in_force}"
    if request.order_type is OrderType.MARKET and request.price is not None:
        return "a market order carries no price"
    if not instrument.is_tradable_size(request.quantity) or request.quantity.value == 0:
        return f"size {request.quantity} is not a whole number of lots of {instrument.lot_size}"
    return None


def swap_order_view(request: OrderRequest, status: OrderStatus, ts_ns: int, *, reason: str = "",
                    venue_order_id: str = "", filled: Decimal = Decimal(0), average: Decimal | None = None,
                    raw: Mapping[str, Any] | None = None) -> VenueOrder:
    """Return a swap venue's view of ``request``: its status at ``ts_ns`` (ns since the epoch), fill and reason.

    ``filled`` is in contracts, ``average`` the average price in the quote currency.
    """
    return VenueOrder(
        client_order_id=request.client_order_id, venue_order_id=venue_order_id,
        instrument_id=request.instrument_id, side=request.side, quantity=request.quantity,
        order_type=request.order_type, price=request.price, time_in_force=request.time_in_force,
        status=status, filled_quantity=filled, average_price=average, ts_ns=ts_ns, reason=reason, raw=raw,
    )

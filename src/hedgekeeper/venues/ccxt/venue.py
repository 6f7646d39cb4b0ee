"""A real exchange behind the ``Venue`` protocol, through ccxt: Deribit, Binance USD-M, OKX, Bybit.

``create_ccxt_venue(config)`` reads the credentials from the environment and builds
the exchange; markets load on first use, and only the configured ``market_ids``
become instruments. Every method of ``venues/base.py`` is here: the book and trade
streams and our fills (and, on Deribit, the options' marks) come from the venue's
websockets through ccxt.pro, the private ones authenticated as each venue documents;
amend is the venue's own (``edit_order``).

Placing is idempotent on the client order id, in this order:

1. an id this venue already placed or saw returns that order;
2. on Deribit, whose labels may repeat, the venue is asked first (by label);
3. the order is sent once. If no answer comes (a timeout, a network error), the
   order may or may not have arrived: after a backoff the venue is asked by client
   id, and the order is sent again, with the same id, only if it is certainly
   absent, at most ``max_retries`` times. If the venue refuses an id it already
   has (Binance -4116, OKX 51016, Bybit 110072), the existing order is returned.

Answers that carry ids only (OKX and Bybit creates, cancels and amends) are
completed from what was sent, or by asking the venue for the order.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from dataclasses import replace
from decimal import Decimal
from typing import Any

import aiohttp

from hedgekeeper.errors import ConfigError, InvalidOrder, OrderNotFound, VenueRejected, VenueUnavailable
from hedgekeeper.market.events import BookUpdate, OptionQuote, TopOfBook, Trade
from hedgekeeper.portfolio.instruments import Instrument, InstrumentRegistry
from hedgekeeper.portfolio.positions import Balance
from hedgekeeper.timestamps import NS_PER_MS
from hedgekeeper.venues.base import Capability, Support
from hedgekeeper.venues.ccxt.client import CcxtClient, build_exchange
from hedgekeeper.venues.ccxt.config import CcxtVenueConfig, read_credentials
from hedgekeeper.venues.ccxt.dialects import Dialect, dialect_of
from hedgekeeper.venues.ccxt.lookups import LOOKUPS
from hedgekeeper.venues.ccxt.parsing import (
    amount_of,
    balances_from_ccxt,
    book_from_ccxt,
    create_order_arguments,
    client_order_id_of,
    fill_from_ccxt,
    instrument_from_market,
    option_quote_from_ccxt,
    order_from_ccxt,
    position_from_ccxt,
    trade_from_ccxt,
)
from hedgekeeper.venues.orders import Fill, OrderRequest, OrderType, VenueOrder, VenuePosition

logger = logging.getLogger(__name__)

Market = Mapping[str, Any]


def create_ccxt_venue(
    config: CcxtVenueConfig, environment: dict[str, str] | None = None,
    session: aiohttp.ClientSession | None = None, settings: Mapping[str, Any] | None = None,
) -> CcxtVenue:
    """Return the venue ``config`` describes, credentials read from ``environment`` (default ``os.environ``).

    Parameters
    ----------
    config : the venue's configuration
    environment : where the variables named by ``config`` are read
    session : an HTTP session to send requests through (see ``build_exchange``)
    settings : more ccxt settings (see ``build_exchange``)

    Raises
    ------
    ConfigError
        If a credential variable is unset.
    """
    exchange = build_exchange(config, read_credentials(config, environment), session, settings)
    return CcxtVenue(CcxtClient(exchange, config), dialect_of(config.exchange))


class CcxtVenue:
    """One exchange account through ccxt, as a ``Venue`` (see the module docstring).

    Parameters
    ----------
    client : the transport (``CcxtClient``)
    dialect : the exchange's conventions
    """

    def __init__(self, client: CcxtClient, dialect: Dialect) -> None:
        self.name: str = dialect.venue
        self.capabilities: Mapping[Capability, Support] = dialect.capabilities
        self._client = client
        self._dialect = dialect
        self._load_lock = asyncio.Lock()
        self._registry: InstrumentRegistry | None = None
        self._markets: dict[str, Market] = {}
        self._orders: dict[str, VenueOrder] = {}  # by client order id: our latest view
        self._client_ids: dict[str, str] = {}  # venue order id -> client order id

    # ----------------------------------------------------------------- markets

    async def _loaded(self) -> InstrumentRegistry:
        async with self._load_lock:
            if self._registry is None:
                markets = await self._client.load_markets()
                self._registry = InstrumentRegistry(self._instrument(market) for market in self._configured(markets))
        return self._registry

    def _configured(self, markets: Mapping[str, Market]) -> list[Market]:
        by_id: dict[str, list[Market]] = {}
        for market in markets.values():
            by_id.setdefault(market["id"], []).append(market)
        missing = [market_id for market_id in self._client.config.market_ids if market_id not in by_id]
        if missing:
            raise ConfigError(f"{self._dialect.exchange_id} lists no market {', '.join(missing)} (market_ids)")
        chosen = []
        for market_id in self._client.config.market_ids:
            if len(by_id[market_id]) > 1:
                symbols = [market["symbol"] for market in by_id[market_id]]
                raise ConfigError(f"{self._dialect.exchange_id} market id {market_id!r} is ambiguous: {symbols}")
            chosen.append(by_id[market_id][0])
        return chosen

    def _instrument(self, market: Market) -> Instrument:
        instrument = instrument_from_market(market, self._dialect)
        self._markets[instrument.instrument_id] = market
        return instrument

    async def _resolve(self, instrument_id: str) -> tuple[Instrument, Market]:
        registry = await self._loaded()
        instrument = registry.get(instrument_id)
        return instrument, self._markets[instrument_id]

    async def _scope(self, instrument_id: str | None) -> list[tuple[Instrument, Market]]:
        registry = await self._loaded()
        ids = [instrument.instrument_id for instrument in registry] if instrument_id is None else [instrument_id]
        return [await self._resolve(one) for one in ids]

    async def instruments(self) -> Sequence[Instrument]:
        """Return the configured markets as instruments, with their tick, lot and minimum sizes."""
        return list(await self._loaded())

    # ------------------------------------------------------------------ orders

    def _action(self, verb: str, market: Market, client_order_id: str = "") -> str:
        return " ".join(part for part in (self._dialect.exchange_id, verb, market["id"], client_order_id) if part)

    def _remember(self, order: VenueOrder) -> VenueOrder:
        if order.client_order_id:  # orders placed elsewhere may have none
            self._orders[order.client_order_id] = order
            if order.venue_order_id:
                self._client_ids[order.venue_order_id] = order.client_order_id
        return order

    def _view(self, raw: Mapping[str, Any], instrument: Instrument,
              known: OrderRequest | VenueOrder | None = None) -> VenueOrder:
        if known is None:
            client_order_id = client_order_id_of(raw, self._dialect) or self._client_ids.get(str(raw.get("id")), "")
            known = self._orders.get(client_order_id)
        return self._remember(order_from_ccxt(raw, instrument, self._dialect, known))

    async def _lookup(self, instrument: Instrument, market: Market, client_order_id: str) -> VenueOrder | None:
        lookup = LOOKUPS[self._dialect.exchange_id]
        raw = await self._client.read(self._action("order", market, client_order_id),
                                      lambda: lookup(self._client.exchange, market, client_order_id))
        if raw is None:
            return None
        return self._remember(order_from_ccxt(raw, instrument, self._dialect, self._orders.get(client_order_id)))

    async def place(self, request: OrderRequest) -> VenueOrder:
        """Send ``request`` and return the venue's view; idempotent on the client order id.

        Raises
        ------
        InvalidOrder
            If the id was used for another instrument, the venue refuses the id's
            format, or the venue refuses the order.
        InsufficientMargin, VenueRejected
            If the venue refuses the order.
        RequestTimeout, VenueUnavailable
            If no answer came and the venue could not be asked whether the order
            arrived: placing the same request again later is safe.
        """
        instrument, market = await self._resolve(request.instrument_id)
        known = self._orders.get(request.client_order_id)
        if known is not None:
            if known.instrument_id != request.instrument_id:
                raise InvalidOrder(f"client order id {request.client_order_id} is already used for "
                                   f"{known.instrument_id}, not {request.instrument_id}")
            return known
        arguments = create_order_arguments(request, instrument, market["symbol"], self._dialect)
        if not self._dialect.unique_client_order_ids:
            existing = await self._lookup(instrument, market, request.client_order_id)
            if existing is not None:
                return existing
        action = self._action("create_order", market, request.client_order_id)
        exchange = self._client.exchange
        attempt = 0
        while True:
            try:
                raw = await self._client.write(action, lambda: exchange.create_order(
                    arguments.symbol, arguments.type, arguments.side, arguments.amount, arguments.price,
                    dict(arguments.params)))
                return self._view(raw, instrument, request)
            except InvalidOrder:
                existing = (await self._lookup(instrument, market, request.client_order_id)
                            if self._dialect.unique_client_order_ids else None)
                if existing is None:
                    raise
                return existing  # the venue refused a duplicate of an order it has
            except VenueUnavailable as error:
                wait_s = self._client.config.backoff_s(attempt)
                logger.warning("%s: no answer (%s); asking for the order in %.3g s", action, error, wait_s)
                await asyncio.sleep(wait_s)
                existing = await self._lookup(instrument, market, request.client_order_id)
                if existing is not None:
                    return existing
                if attempt >= self._client.config.max_retries:
                    raise
                attempt += 1  # certainly absent: send it again, same client id

    async def order(self, instrument_id: str, client_order_id: str) -> VenueOrder | None:
        """Return the venue's view of the order, None if the venue has no order with that id."""
        instrument, market = await self._resolve(instrument_id)
        return await self._lookup(instrument, market, client_order_id)

    async def _current(self, instrument: Instrument, market: Market, client_order_id: str) -> VenueOrder:
        view = self._orders.get(client_order_id)
        if view is None:
            view = await self._lookup(instrument, market, client_order_id)
        if view is None:
            raise OrderNotFound(f"{self._action('order', market, client_order_id)}: the venue has no such order")
        return view

    async def _settled(self, raw: Mapping[str, Any], instrument: Instrument, market: Market,
                       view: VenueOrder) -> VenueOrder:
        # an answer with ids only says the request was taken, not what the order became
        if raw.get("status") is None:
            latest = await self._lookup(instrument, market, view.client_order_id)
            if latest is not None:
                return latest
        return self._view(raw, instrument, view)

    async def cancel(self, instrument_id: str, client_order_id: str) -> VenueOrder:
        """Cancel the order and return its final view; a finished order is returned as it is.

        Raises
        ------
        OrderNotFound
            If the venue has no order with that client id.
        """
        instrument, market = await self._resolve(instrument_id)
        view = await self._current(instrument, market, client_order_id)
        if view.status.is_terminal:
            return view
        exchange = self._client.exchange
        try:
            raw = await self._client.write(self._action("cancel_order", market, client_order_id),
                                           lambda: exchange.cancel_order(view.venue_order_id, market["symbol"]))
        except VenueRejected:
            latest = await self._lookup(instrument, market, client_order_id)
            if latest is not None and latest.status.is_terminal:
                return latest  # it filled or expired before the cancel arrived
            raise
        return await self._settled(raw, instrument, market, view)

    async def amend(self, instrument_id: str, client_order_id: str, *, quantity: Decimal | None = None,
                    price: Decimal | None = None) -> VenueOrder:
        """Change a working limit order's total quantity (contracts) or price (quote currency).

        Raises
        ------
        InvalidOrder
            If nothing changes, the order is a market order or finished, or the new
            quantity or price is off the instrument's lot or tick grid.
        OrderNotFound
            If the venue has no order with that client id.
        """
        instrument, market = await self._resolve(instrument_id)
        if quantity is None and price is None:
            raise InvalidOrder(f"amend of {client_order_id}: give a quantity or a price")
        view = await self._current(instrument, market, client_order_id)
        if view.status.is_terminal or view.order_type is OrderType.MARKET:
            raise InvalidOrder(f"amend of {client_order_id}: a {view.status.value} {view.order_type.value} "
                               "order cannot change")
        new_quantity = view.quantity if quantity is None else instrument.make_qty(quantity, round_down=True)
        new_price = view.price if price is None else instrument.make_price(price, round_down=True)
        off_quantity = quantity is not None and new_quantity.value != quantity
        if off_quantity or (price is not None and new_price.value != price):
            raise InvalidOrder(f"amend of {client_order_id}: quantity {quantity} or price {price} is off the "
                               f"lot {instrument.lot_size} or tick {instrument.tick_size} of {instrument_id}")
        amount = amount_of(new_quantity, instrument, self._dialect)
        exchange = self._client.exchange
        raw = await self._client.write(
            self._action("edit_order", market, client_order_id),
            lambda: exchange.edit_order(view.venue_order_id, market["symbol"], view.order_type.value,
                                        view.side.value, amount, str(new_price)))
        return await self._settled(raw, instrument, market, replace(view, quantity=new_quantity, price=new_price))

    async def open_orders(self, instrument_id: str | None = None) -> Sequence[VenueOrder]:
        """Return the working orders of one instrument, or of every configured one."""
        orders = []
        for instrument, market in await self._scope(instrument_id):
            raws = await self._client.read(self._action("fetch_open_orders", market),
                                           lambda market=market: self._client.exchange.fetch_open_orders(
                                               market["symbol"]))
            orders.extend(self._view(raw, instrument) for raw in raws)
        return orders

    # ------------------------------------------------------------------- fills

    async def _trades(self, market: Market, since_ms: int | None) -> list[Mapping[str, Any]]:
        dialect = self._dialect
        exchange = self._client.exchange
        action = self._action("fetch_my_trades", market)

        params = dict(dialect.trade_query_params)
        if params.get("paginate"):
            params["maxEntriesPerRequest"] = dialect.trades_page_size  # ccxt's pages default to 1000

        def page(start_ms: int | None) -> Callable[[], Awaitable[list[Mapping[str, Any]]]]:
            return lambda: exchange.fetch_my_trades(market["symbol"], start_ms, dialect.trades_page_size, dict(params))

        trades: dict[str, Mapping[str, Any]] = {}
        start_ms = since_ms
        while True:
            batch = await self._client.read(action, page(start_ms))
            fresh = [trade for trade in batch if str(trade["id"]) not in trades]
            trades.update((str(trade["id"]), trade) for trade in fresh)
            if not dialect.pages_trades_forward or len(batch) < dialect.trades_page_size or not fresh:
                return list(trades.values())
            start_ms = max(int(trade["timestamp"]) for trade in batch)

    async def fills(self, since_ns: int = 0) -> Sequence[Fill]:
        """Return our fills at or after ``since_ns`` (ns since the epoch), oldest first, every instrument.

        A fill's client order id comes from the venue, or, where the venue leaves it
        out (Binance), from the orders this venue placed or looked up ("" otherwise).
        """
        fills = []
        for instrument, market in await self._scope(None):
            # no start time at all asks for the venue's default window (Bybit reads 0 as 1970 + 7 days)
            for trade in await self._trades(market, since_ns // NS_PER_MS if since_ns > 0 else None):
                fill = fill_from_ccxt(trade, instrument, self._dialect,
                                      self._client_ids.get(str(trade.get("order")), ""))
                if fill.ts_ns >= since_ns:
                    fills.append(fill)
        return sorted(fills, key=lambda fill: (fill.ts_ns, fill.fill_id))

    # ----------------------------------------------------- positions, balances

    async def positions(self) -> Sequence[VenuePosition]:
        """Return the open positions in the configured instruments, in contracts (> 0 long)."""
        scope = await self._scope(None)
        by_symbol = {market["symbol"]: instrument for instrument, market in scope}
        groups = [[symbol] for symbol in by_symbol] if self._dialect.positions_per_market else [list(by_symbol)]
        positions = []
        for symbols in groups:
            raws = await self._client.read(f"{self._dialect.exchange_id} fetch_positions {' '.join(symbols)}",
                                           lambda symbols=symbols: self._client.exchange.fetch_positions(symbols))
            for raw in raws:
                instrument = by_symbol.get(raw.get("symbol"))
                if instrument is None:
                    continue
                position = position_from_ccxt(raw, instrument, self._dialect)
                if position.size_contracts != 0:
                    positions.append(position)
        return positions

    async def balances(self) -> Sequence[Balance]:
        """Return the account's cash per currency (wallet balance without unrealised P&L)."""
        await self._loaded()
        raw = await self._client.read(f"{self._dialect.exchange_id} fetch_balance",
                                      self._client.exchange.fetch_balance)
        return balances_from_ccxt(raw, self._dialect)

    # ---------------------------------------------------------------- streams

    def _absent(self, capability: Capability) -> VenueRejected:
        return VenueRejected(f"{self.name} offers no {capability.value} (capabilities: absent)")

    async def book_stream(self, instrument_id: str) -> AsyncIterator[BookUpdate | TopOfBook]:
        """Yield the instrument's book as the venue's websocket updates it, a snapshot each time (ccxt.pro).

        Transient failures are retried as any read; the stream ends only when the caller stops.
        """
        instrument, market = await self._resolve(instrument_id)
        exchange = self._client.exchange
        action = self._action("watch_order_book", market)
        while True:
            book = await self._client.read(action, lambda: exchange.watch_order_book(market["symbol"]))
            yield book_from_ccxt(book, instrument, self._dialect)

    async def trade_stream(self, instrument_id: str) -> AsyncIterator[Trade]:
        """Yield the instrument's public trades from the venue's websocket, each once, oldest first (ccxt.pro)."""
        instrument, market = await self._resolve(instrument_id)
        exchange = self._client.exchange
        action = self._action("watch_trades", market)
        seen: set[str] = set()
        while True:
            for trade in await self._client.read(action, lambda: exchange.watch_trades(market["symbol"])):
                if str(trade.get("id")) not in seen:
                    seen.add(str(trade.get("id")))
                    yield trade_from_ccxt(trade, instrument, self._dialect)

    async def mark_stream(self, instrument_id: str) -> AsyncIterator[OptionQuote]:
        """Yield the option's bid, ask and mark implied vols from the venue's ticker websocket (ccxt.pro).

        Raises
        ------
        VenueRejected
            If the venue offers no option marks (``Capability.MARK_STREAM`` absent).
        ConfigError
            If the instrument is not an option.
        """
        if self.capabilities.get(Capability.MARK_STREAM, Support.ABSENT) is Support.ABSENT:
            raise self._absent(Capability.MARK_STREAM)
        instrument, market = await self._resolve(instrument_id)
        if not instrument.is_option:
            raise ConfigError(f"{instrument_id} is not an option: marks are streamed for options only")
        exchange = self._client.exchange
        action = self._action("watch_ticker", market)
        while True:
            ticker = await self._client.read(action, lambda: exchange.watch_ticker(market["symbol"]))
            yield option_quote_from_ccxt(exchange.parse_greeks(ticker["info"], market), instrument, self._dialect)

    async def fill_stream(self) -> AsyncIterator[Fill]:
        """Yield our fills in the configured instruments from the venue's private websocket, each once (ccxt.pro).

        A fill's client order id is the one the streamed trade carries (in the dialect's
        ``streamed_client_order_id_field`` where ccxt leaves it in the raw event), else that of
        an order this venue placed or looked up; its fee is positive when paid
        (``Dialect.streamed_fee_sign``).

        Raises
        ------
        VenueRejected
            If the adapter offers no fill stream for this venue (``Capability.FILL_STREAM``
            absent): its fills are polled with ``fills``.
        """
        if self.capabilities.get(Capability.FILL_STREAM, Support.ABSENT) is Support.ABSENT:
            raise self._absent(Capability.FILL_STREAM)
        by_symbol = {market["symbol"]: instrument for instrument, market in await self._scope(None)}
        dialect = self._dialect
        exchange = self._client.exchange
        action = f"{dialect.exchange_id} watch_my_trades"
        seen: set[str] = set()
        while True:  # ccxt hands out every trade it holds each time: the new ones are those not seen
            for trade in await self._client.read(action, lambda: exchange.watch_my_trades()):
                instrument = by_symbol.get(trade.get("symbol"))
                if instrument is None or str(trade["id"]) in seen:
                    continue
                seen.add(str(trade["id"]))
                fee = trade.get("fee") or {}
                if fee.get("cost") is not None:
                    trade = {**trade, "fee": {**fee, "cost": fee["cost"] * dialect.streamed_fee_sign}}
                streamed_id = (trade.get("info") or {}).get(dialect.streamed_client_order_id_field or "")
                yield fill_from_ccxt(trade, instrument, dialect,
                                     streamed_id or self._client_ids.get(str(trade.get("order")), ""))

    async def close(self) -> None:
        """Close the exchange's connections."""
        await self._client.close()

"""The simulated exchange, synchronous: order intake with latency, matching, accounts, records, liquidation.

``ExchangeCore`` is what a backtest drives directly (the asynchronous ``Venue`` of
``venue.py`` wraps it). It trades futures and perpetuals, linear and inverse, for
any number of accounts, each with its balances and positions (``accounts.py``).

Time. The core reads the time of a request from its ``Clock``. A place or amend
sent at ``t`` reaches the matching engine at ``t + order_latency_ns``, a cancel at
``t + cancel_latency_ns``. Requests in flight are handled, in arrival order, when
time reaches them: on a market event (before the event, for arrivals at or before
its timestamp, as the engine loop fires due timers before an event), on the
clock's timer (the core schedules one per request), or on the next request. So an
order sent at ``t`` meets the book as it is at ``t + latency``. Market events older
than the exchange's time are refused (logged). No randomness: the same inputs give
the same fills.

Rejections. ``submit`` raises at once what it can check on receipt, the request
being recorded as ``REJECTED`` with the reason: ``UnknownInstrument``, and
``InvalidOrder`` for a price off the tick, a size off the lot or under the minimum,
a market order with a price or post-only. What depends on the state at arrival
(margin, post-only crossing, reduce-only) is decided at arrival: ``InsufficientMargin``
or ``InvalidOrder``, raised by ``submit`` too when the order arrives before it
returns (zero latency), else recorded on the order (status ``REJECTED``, reason)
for ``order()`` to tell. A second ``submit`` with a known client order id returns
the order as it is, rejected or not, and makes nothing new.

Orders. Matching follows ``matching.py`` (price-time priority, queue positions,
self-trade prevention by cancelling the resting order). A limit order rests what
it does not fill (GTC); IOC, FOK and market orders never rest: what remains ends
``EXPIRED`` (Binance's status for a remainder cancelled by the order's own rules).
A market order is bounded by ``market_protection_bps`` beyond the best opposite
price at its arrival, if set. A reduce-only order is refused at arrival if it
would not reduce the position or is larger than it. An amend keeps the order's
place when it only lowers the quantity; a new price or a larger quantity puts it
at the back (it may then trade at once, as a new order would).

Money. Each fill pays the maker or taker rate of the venue's ``VenueFees`` on its
notional, in the account's currency, once (``Fill.fee``). Funding events of a
perpetual settle every position at their rate and mark (longs pay when the rate is
positive). The mark of an instrument is its public mid, else the last public trade
or fill price; a funding event sets it to its own mark until the next update.

Liquidation. After every event and every arrival, each account currency holding
positions is checked: when its equity (balance plus unrealised P&L at the marks)
is below its maintenance margin (``margin.py``), its working orders in that
currency are cancelled and each position is closed by a market order against the
book, the rest at the mark if the book runs out (against the exchange itself),
paying the taker fee. The closing orders are recorded (``liquidation-<n>``, status
``FILLED``) and their fills carry the reason in ``raw["liquidation"]``.

Records: every fill (``fills``, oldest first), every change of every order
(``order_updates``), every funding payment (``funding_payments``).
"""

from __future__ import annotations

import bisect
import itertools
import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, ClassVar, NoReturn

from hedgekeeper.engine.clock import Clock
from hedgekeeper.errors import (
    BadData,
    ConfigError,
    InsufficientMargin,
    InvalidOrder,
    OrderNotFound,
    UnknownInstrument,
    VenueRejected,
)
from hedgekeeper.execution.fees import FeeSchedule
from hedgekeeper.market.events import BookUpdate, Funding, MarketEvent, TopOfBook, Trade
from hedgekeeper.portfolio.instruments import Instrument, InstrumentKind, InstrumentRegistry
from hedgekeeper.portfolio.positions import Balance
from hedgekeeper.portfolio.values import Money, Price, Quantity
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
from hedgekeeper.venues.simulated.accounting import fee_amount
from hedgekeeper.venues.simulated.accounts import Ledger
from hedgekeeper.venues.simulated.config import SimulatedExchangeConfig
from hedgekeeper.venues.simulated.latency import PendingAction, PendingActions
from hedgekeeper.venues.simulated.margin import ExchangeMargin
from hedgekeeper.venues.simulated.matching import Execution, MatchingEngine
from hedgekeeper.venues.simulated.risk import AccountRisk, Breach, show
from hedgekeeper.venues.simulated.streams import Broadcast
from hedgekeeper.venues.simulated.units import checked_price, contracts_of_coin, exact, public_level, public_price
from hedgekeeper.venues.simulated.working_order import WorkingOrder

logger = logging.getLogger(__name__)

ZERO = Decimal(0)
_TRADED_KINDS = (InstrumentKind.FUTURE, InstrumentKind.PERPETUAL)
#: The counterparty of a liquidation's remainder closed at the mark.
EXCHANGE_COUNTERPARTY = "exchange"


@dataclass(frozen=True, slots=True)
class FundingPayment:
    """What one account paid at one funding (negative: received), in its settlement currency."""

    ts_ns: int
    account: str
    instrument_id: str
    rate: Decimal
    mark_usd: Decimal
    paid: Money


class ExchangeCore:
    """A simulated exchange for futures and perpetuals (see the module docstring).

    Parameters
    ----------
    config : SimulatedExchangeConfig
    instruments : the instruments traded, all of venue ``config.name``
    fees : FeeSchedule with rates for ``config.name``
    clock : Clock stamping requests and firing their arrivals

    Raises
    ------
    ConfigError
        If an instrument is of another venue or kind, or fee or margin rates are missing.

    Examples
    --------
    Buy 200 contracts (2,000 USD of face) of Deribit's perpetual from a book showing
    1,000 USD at 100,000 and 10,000 USD at 100,000.5, paying 5 bps of each fill's
    face in BTC (a quotient, kept to Decimal's 28 digits):

    >>> from hedgekeeper.engine.clock import SimulatedClock
    >>> from hedgekeeper.execution.fees import VenueFees
    >>> from hedgekeeper.market.events import BookUpdate
    >>> from hedgekeeper.portfolio.instruments import example_instruments
    >>> perpetual = example_instruments()[0]
    >>> core = ExchangeCore(SimulatedExchangeConfig(name="deribit", balances={"BTC": Decimal(1)}), [perpetual],
    ...     FeeSchedule(venues={"deribit": VenueFees(taker=0.0005, maker=0.0)}), SimulatedClock(start_ns=0))
    >>> core.on_market_event(BookUpdate(0, perpetual.instrument_id, ((99_999.5, 0.01),),
    ...     ((100_000.0, 0.01), (100_000.5, 0.1)), True))
    >>> request = OrderRequest(client_order_id="a-1", instrument_id=perpetual.instrument_id, side=Side.BUY,
    ...     quantity=perpetual.make_qty(200, round_down=True), order_type=OrderType.MARKET)
    >>> core.submit(request).status
    <OrderStatus.FILLED: 'filled'>
    >>> [(str(fill.price), str(fill.quantity), str(fill.fee)) for fill in core.fills()]
    [('100000.0', '100', '0.000005 BTC'), ('100000.5', '100', '0.000004999975000124999375003124984 BTC')]
    """

    def __init__(
        self, config: SimulatedExchangeConfig, instruments: Iterable[Instrument], fees: FeeSchedule, clock: Clock
    ) -> None:
        self.config = config
        self.clock = clock
        self.registry = InstrumentRegistry(instruments)
        for instrument in self.registry:
            if instrument.venue != config.name or instrument.kind not in _TRADED_KINDS:
                raise ConfigError(
                    f"the simulated exchange {config.name!r} trades its own futures and perpetuals; "
                    f"{instrument.instrument_id} is a {instrument.kind} of {instrument.venue!r}"
                )
        rates = fees.rates(config.name)
        self._maker_rate = Decimal(repr(rates.maker))
        self._taker_rate = Decimal(repr(rates.taker))
        self._engines = {instrument.instrument_id: MatchingEngine(instrument) for instrument in self.registry}
        self._ledgers: dict[str, Ledger] = {config.account: Ledger(config.account, config.balances)}
        self._orders: dict[tuple[str, str], WorkingOrder] = {}
        self._open: dict[str, dict[str, WorkingOrder]] = {}  # account -> venue order id -> order in the book
        self._fills: dict[str, list[Fill]] = {}
        self._marks: dict[str, Decimal] = {}
        self._risk = AccountRisk(self.registry, ExchangeMargin(config.margin, self.registry), self._ledgers,
                                 self._open, self._marks)
        self._pending = PendingActions()
        self._now_ns = clock.now_ns()
        self._priorities = itertools.count()
        self._venue_ids = itertools.count(1)
        self._fill_ids = itertools.count(1)
        self._liquidation_ids = itertools.count(1)
        self.order_updates: list[tuple[str, VenueOrder]] = []
        self.funding_payments: list[FundingPayment] = []
        self.book_events: Broadcast[BookUpdate | TopOfBook] = Broadcast()
        self.trade_events: Broadcast[Trade] = Broadcast()
        self._fill_feeds: dict[str, Broadcast[Fill]] = {}

    @property
    def name(self) -> str:
        """Return the venue's name."""
        return self.config.name

    # Requests.

    def submit(self, request: OrderRequest, account: str | None = None) -> VenueOrder:
        """Send ``request`` for ``account`` (default: the configured one); return the order as it stands.

        Raises
        ------
        UnknownInstrument, InvalidOrder, InsufficientMargin
            If the order is refused before this returns (see the module docstring).
        """
        account = account or self.config.account
        known = self._orders.get((account, request.client_order_id))
        if known is not None:
            return known.view()
        now_ns = self.clock.now_ns()
        order = WorkingOrder(
            account=account, request=request, venue_order_id=f"{self.name}-{next(self._venue_ids)}",
            quantity=request.quantity, price=request.price, priority=next(self._priorities), ts_ns=now_ns,
        )
        self._orders[(account, request.client_order_id)] = order
        self._ledger(account)
        try:
            instrument = self.registry.get(request.instrument_id)
        except UnknownInstrument as error:
            self._reject(order, now_ns, error)
        problem = _request_problem(instrument, request)
        if problem is not None:
            self._reject(order, now_ns, InvalidOrder(f"order {request.client_order_id}: {problem}"))
        self._record(order)
        action = self._send(now_ns + self.config.order_latency_ns, lambda at: self._arrive_place(order, at))
        if action.error is not None:
            raise action.error
        return order.view()

    def request_cancel(self, instrument_id: str, client_order_id: str, account: str | None = None) -> VenueOrder:
        """Send a cancel; return the order as it stands (a terminal order as it is).

        Raises
        ------
        OrderNotFound
            If the account has no such order.
        """
        order = self._find(instrument_id, client_order_id, account)
        if not order.status.is_terminal:
            self._send(self.clock.now_ns() + self.config.cancel_latency_ns, lambda at: self._arrive_cancel(order, at))
        return order.view()

    def request_amend(
        self,
        instrument_id: str,
        client_order_id: str,
        *,
        quantity: Decimal | None = None,
        price: Decimal | None = None,
        account: str | None = None,
    ) -> VenueOrder:
        """Send an amend of a working limit order's quantity (contracts) or price; return the order as it stands.

        Raises
        ------
        OrderNotFound
            If the account has no such order.
        InvalidOrder
            If the order is terminal or a market order, nothing changes, the new values
            break the instrument's rules, or (decided at arrival, raised when that is
            before this returns) the new quantity is not above the filled quantity or a
            post-only order's new price would cross.
        InsufficientMargin
            If the larger order needs more margin than is free (decided at arrival).
        """
        order = self._find(instrument_id, client_order_id, account)
        instrument = self.registry.get(instrument_id)
        problem = _amend_problem(order, instrument, quantity, price)
        if problem is not None:
            raise InvalidOrder(f"amend of order {client_order_id}: {problem}")
        new_quantity = order.quantity if quantity is None else instrument.make_qty(quantity, round_down=True)
        new_price = order.price if price is None else instrument.make_price(price, round_down=True)
        assert new_price is not None, "a market order is refused above"
        action = self._send(
            self.clock.now_ns() + self.config.order_latency_ns,
            lambda at: self._arrive_amend(order, new_quantity, new_price, at),
        )
        if action.error is not None:
            raise action.error
        return order.view()

    def deposit(self, account: str, currency: str, amount: Decimal) -> None:
        """Credit ``amount`` of ``currency`` to ``account`` (creating the account), e.g. starting collateral."""
        self._ledger(account).credit(currency, amount)

    # Time and market data.

    def process_due(self, now_ns: int | None = None) -> int:
        """Handle the requests arrived by ``now_ns`` (default: the clock's time); return how many."""
        now_ns = self.clock.now_ns() if now_ns is None else now_ns
        handled = 0
        while (action := self._pending.pop_due(now_ns)) is not None:
            at_ns = max(action.arrival_ns, self._now_ns)
            self._now_ns = at_ns
            try:
                action.run(at_ns)
            except VenueRejected as error:
                action.error = error
                logger.info("%s: refused at arrival: %s", self.name, error)
            self._check_liquidations(at_ns)
            handled += 1
        return handled

    def on_market_event(self, event: MarketEvent) -> None:
        """Take in a market event: the book, trades and funding of the instruments traded; others are ignored.

        Requests arrived by the event's time are handled first. A bad or out-of-order
        event is refused with a logged reason and changes nothing.
        """
        handler = self._handlers.get(type(event))
        if handler is None:
            return
        ts_ns = event.ts_ns
        if ts_ns < self._now_ns:
            logger.warning("%s: refused %s at %d: older than the exchange's time %d",
                           self.name, type(event).__name__, ts_ns, self._now_ns)
            return
        self.process_due(ts_ns)
        self._now_ns = ts_ns
        engine = self._engines.get(event.stream)
        if engine is None:
            return
        try:
            handler(self, engine, event)
        except BadData as error:
            logger.warning("%s: refused %s of %s at %d: %s", self.name, type(event).__name__,
                           engine.instrument.instrument_id, ts_ns, error)
            return
        self._check_liquidations(ts_ns)

    def _on_book(self, engine: MatchingEngine, event: BookUpdate | TopOfBook) -> None:
        instrument = engine.instrument
        if isinstance(event, TopOfBook):
            bid = public_level(instrument, event.bid_usd, event.bid_size_coin, is_bid=True)
            ask = public_level(instrument, event.ask_usd, event.ask_size_coin, is_bid=False)
            executions = engine.apply_top(bid, ask)
        else:
            bids = [public_level(instrument, price, size, is_bid=True) for price, size in event.bids]
            asks = [public_level(instrument, price, size, is_bid=False) for price, size in event.asks]
            executions = engine.apply_update(bids, asks, is_snapshot=event.is_snapshot)
        self._settle(instrument, executions, event.ts_ns)
        self._refresh_mark(engine, None)
        self.book_events.publish(event)

    def _on_trade(self, engine: MatchingEngine, event: Trade) -> None:
        if event.aggressor not in (1, -1):
            raise BadData(f"trade aggressor must be +1 or -1, got {event.aggressor!r}")
        instrument = engine.instrument
        aggressor = Side.BUY if event.aggressor > 0 else Side.SELL
        # Round the print so that it reaches no more of our orders than it did.
        price = public_price(instrument, event.price_usd, is_bid=aggressor is Side.BUY)
        contracts = contracts_of_coin(instrument, event.size_coin, price)
        self._settle(instrument, engine.apply_trade(price, contracts, aggressor), event.ts_ns)
        self._refresh_mark(engine, price)
        self.trade_events.publish(event)

    def _on_funding(self, engine: MatchingEngine, event: Funding) -> None:
        instrument = engine.instrument
        if instrument.kind is not InstrumentKind.PERPETUAL:
            raise BadData(f"funding applies to perpetuals, not the {instrument.kind} {instrument.instrument_id}")
        rate = exact(event.rate, f"funding rate of {instrument.instrument_id}")
        mark_usd = checked_price(instrument, event.mark_usd)
        self._marks[instrument.instrument_id] = mark_usd
        for name in sorted(self._ledgers):
            paid = self._ledgers[name].pay_funding(instrument, rate, mark_usd)
            if paid != 0:
                self.funding_payments.append(FundingPayment(
                    event.ts_ns, name, instrument.instrument_id, rate, mark_usd,
                    Money(paid, instrument.settlement_currency),
                ))

    _handlers: ClassVar[dict[type, Callable[[ExchangeCore, MatchingEngine, Any], None]]] = {
        BookUpdate: _on_book, TopOfBook: _on_book, Trade: _on_trade, Funding: _on_funding,
    }

    # Arrivals at the matching engine.

    def _arrive_place(self, order: WorkingOrder, at_ns: int) -> None:
        if order.status.is_terminal:  # cancelled while in flight
            return
        instrument = self.registry.get(order.request.instrument_id)
        engine = self._engines[instrument.instrument_id]
        side, limit = order.side, order.limit
        if order.request.reduce_only:
            problem = self._risk.reduce_only_problem(order)
            if problem is not None:
                self._reject(order, at_ns, InvalidOrder(f"order {order.request.client_order_id}: {problem}"))
        if order.time_in_force is TimeInForce.POST_ONLY and limit is not None and engine.would_cross(side, limit):
            best = engine.opposite_book(side).best()
            self._reject(order, at_ns, InvalidOrder(
                f"order {order.request.client_order_id}: post-only {side} at {limit} would cross the best "
                f"{'ask' if side is Side.BUY else 'bid'} {best}"
            ))
        reference = limit if limit is not None else engine.opposite_book(side).best()
        if not order.request.reduce_only and reference is not None:  # no reference: nothing can trade
            problem = self._risk.margin_problem(order, order.remaining, reference)
            if problem is not None:
                self._reject(order, at_ns, InsufficientMargin(f"order {order.request.client_order_id}: {problem}"))
        self._set_status(order, OrderStatus.ACKNOWLEDGED, at_ns)
        if order.is_market:
            limit = self._protection_limit(engine, side)
        if order.time_in_force is TimeInForce.FOK:
            fillable = engine.fillable(order, limit)
            if fillable < order.remaining:
                self._set_status(order, OrderStatus.EXPIRED, at_ns,
                                 f"fill-or-kill: only {fillable} of {order.remaining} could fill")
                return
        self._trade(order, engine, limit, at_ns)

    def _trade(self, order: WorkingOrder, engine: MatchingEngine, limit: Decimal | None, at_ns: int) -> None:
        # Match an arrived (or re-priced) order, then rest or expire what remains.
        outcome = engine.match(order, limit)
        for resting in outcome.self_trade_cancelled:
            self._set_status(resting, OrderStatus.CANCELLED, at_ns,
                             f"self-trade prevention: cancelled against incoming order {order.request.client_order_id}")
        self._settle(engine.instrument, outcome.executions, at_ns)
        if order.remaining <= 0:
            return
        if order.is_market or order.time_in_force in (TimeInForce.IOC, TimeInForce.FOK):
            what = "market order" if order.is_market else f"{order.time_in_force} order"
            where = "the book ran out" if limit is None else f"nothing left at or better than {limit}"
            self._set_status(order, OrderStatus.EXPIRED, at_ns,
                             f"{what}: {order.remaining} of {order.quantity} unfilled, {where}")
            return
        engine.rest(order)
        self._open.setdefault(order.account, {})[order.venue_order_id] = order

    def _arrive_cancel(self, order: WorkingOrder, at_ns: int) -> None:
        if order.status.is_terminal:
            return
        in_flight = order.status is OrderStatus.NEW
        reason = "cancelled before it reached the book" if in_flight else "cancelled by request"
        self._set_status(order, OrderStatus.CANCELLED, at_ns, reason)

    def _arrive_amend(self, order: WorkingOrder, quantity: Quantity, price: Price, at_ns: int) -> None:
        cid = order.request.client_order_id
        if order.status.is_terminal or order.status is OrderStatus.NEW:
            raise InvalidOrder(f"amend of order {cid}: it is {order.status} at arrival")
        if quantity.value <= order.filled:
            raise InvalidOrder(f"amend of order {cid}: quantity {quantity} is not above the {order.filled} filled")
        engine = self._engines[order.request.instrument_id]
        repriced = price != order.price
        if order.time_in_force is TimeInForce.POST_ONLY and repriced and engine.would_cross(order.side, price.value):
            raise InvalidOrder(f"amend of order {cid}: post-only {order.side} at {price} would cross")
        keeps_place = not repriced and quantity.value <= order.quantity.value
        if not keeps_place:
            problem = self._risk.margin_problem(order, quantity.value - order.filled, price.value, replacing=order)
            if problem is not None:
                raise InsufficientMargin(f"amend of order {cid}: {problem}")
        order.ts_ns = at_ns
        if keeps_place:
            order.quantity = quantity
            self._record(order)
            return
        engine.remove(order)
        del self._open[order.account][order.venue_order_id]
        order.quantity, order.price, order.priority = quantity, price, next(self._priorities)
        self._record(order)
        self._trade(order, engine, price.value, at_ns)

    # Fills and money.

    def _settle(self, instrument: Instrument, executions: Sequence[Execution], at_ns: int, *,
                counterparty: str = "public", liquidation: str | None = None) -> None:
        # Book each execution for our orders on either side (``counterparty`` names the side that is none
        # of ours), then update the statuses of the orders touched.
        touched: dict[int, WorkingOrder] = {}
        for execution in executions:
            for order, other, liquidity, rate in (
                (execution.taker, execution.maker, Liquidity.TAKER, self._taker_rate),
                (execution.maker, execution.taker, Liquidity.MAKER, self._maker_rate),
            ):
                if order is not None:
                    self._book_fill(order, instrument, execution, liquidity, rate, at_ns,
                                    counterparty if other is None else other.account, liquidation)
                    touched[id(order)] = order
        for order in touched.values():
            if order.remaining <= 0:
                self._set_status(order, OrderStatus.FILLED, at_ns, order.reason)
            elif order.status is OrderStatus.ACKNOWLEDGED:
                self._set_status(order, OrderStatus.PARTIALLY_FILLED, at_ns)
            else:
                order.ts_ns = at_ns
                self._record(order)

    def _book_fill(self, order: WorkingOrder, instrument: Instrument, execution: Execution, liquidity: Liquidity,
                   rate: Decimal, at_ns: int, counterparty: str, liquidation: str | None) -> None:
        fee = fee_amount(instrument, execution.quantity, execution.price, rate)
        fill = Fill(
            fill_id=f"{self.name}-fill-{next(self._fill_ids)}", client_order_id=order.request.client_order_id,
            venue_order_id=order.venue_order_id, instrument_id=instrument.instrument_id, side=order.side,
            quantity=instrument.make_qty(execution.quantity, round_down=True),
            price=instrument.make_price(execution.price, round_down=True),
            fee=Money(fee, instrument.settlement_currency), liquidity=liquidity, ts_ns=at_ns,
            raw={"account": order.account, "counterparty": counterparty}
            | ({"liquidation": liquidation} if liquidation else {}),
        )
        self._ledgers[order.account].apply_fill(instrument, order.side.sign * execution.quantity, execution.price, fee)
        self._fills.setdefault(order.account, []).append(fill)
        feed = self._fill_feeds.get(order.account)
        if feed is not None:
            feed.publish(fill)
        engine = self._engines[instrument.instrument_id]
        self._refresh_mark(engine, execution.price)

    # Margin and liquidation.

    def margin(self, currency: str, account: str | None = None) -> tuple[Decimal, Decimal]:
        """Return the account's (initial, maintenance) margin in ``currency``, working orders included."""
        return self._risk.requirement(self._ledger(account or self.config.account).name, currency)

    def equity(self, currency: str, account: str | None = None) -> Decimal:
        """Return the account's balance of ``currency`` plus the unrealised P&L at the marks of what settles in it."""
        return self._risk.equity(self._ledger(account or self.config.account).name, currency)

    def _check_liquidations(self, at_ns: int) -> None:
        # Liquidate every account currency under maintenance; again, as liquidations move other accounts.
        while breaches := self._risk.breaches():
            for breach in breaches:
                self._liquidate(breach, at_ns)

    def _liquidate(self, breach: Breach, at_ns: int) -> None:
        account, currency = breach.account, breach.currency
        reason = (f"liquidation: equity {show(breach.equity)} {currency} below the maintenance margin "
                  f"{show(breach.maintenance)} {currency}")
        logger.warning("%s: account %s: %s", self.name, account, reason)
        for order in list(self._open.get(account, {}).values()):
            if self.registry.get(order.request.instrument_id).settlement_currency == currency:
                self._set_status(order, OrderStatus.CANCELLED, at_ns, reason)
        ledger = self._ledgers[account]
        for instrument_id in sorted(ledger.positions):
            instrument = self.registry.get(instrument_id)
            if instrument.settlement_currency != currency:
                continue
            held = ledger.positions[instrument_id]
            request = OrderRequest(
                client_order_id=f"liquidation-{next(self._liquidation_ids)}", instrument_id=instrument_id,
                side=Side.of(-held.size_contracts), order_type=OrderType.MARKET, time_in_force=TimeInForce.IOC,
                quantity=instrument.make_qty(abs(held.size_contracts), round_down=True),
            )
            order = WorkingOrder(
                account=account, request=request, venue_order_id=f"{self.name}-{next(self._venue_ids)}",
                quantity=request.quantity, price=None, priority=next(self._priorities), ts_ns=at_ns, reason=reason,
            )
            self._orders[(account, request.client_order_id)] = order
            self._set_status(order, OrderStatus.ACKNOWLEDGED, at_ns, reason)
            engine = self._engines[instrument_id]
            self._settle(instrument, engine.match(order, None).executions, at_ns, liquidation=reason)
            rest = order.remaining
            if rest > 0:  # the book ran out: the exchange takes the rest at the mark
                mark = self._marks.get(instrument_id, held.entry_usd)
                price = instrument.make_price(mark, round_down=order.side is Side.SELL).value
                order.fill(rest, price)
                self._settle(instrument, [Execution(price, rest, order, None)], at_ns,
                             counterparty=EXCHANGE_COUNTERPARTY, liquidation=reason)

    # Records and views.

    def _send(self, arrival_ns: int, run: Callable[[int], None]) -> PendingAction:
        action = PendingAction(arrival_ns, run)
        self._pending.push(action)
        self.clock.schedule(arrival_ns, self.process_due)
        self.process_due()
        return action

    def _ledger(self, account: str) -> Ledger:
        # An account the exchange has not seen yet is an empty one.
        ledger = self._ledgers.get(account)
        if ledger is None:
            ledger = self._ledgers[account] = Ledger(account)
        return ledger

    def _find(self, instrument_id: str, client_order_id: str, account: str | None) -> WorkingOrder:
        order = self._orders.get((account or self.config.account, client_order_id))
        if order is None or order.request.instrument_id != instrument_id:
            raise OrderNotFound(f"{self.name}: no order {client_order_id!r} of {instrument_id}")
        return order

    def _record(self, order: WorkingOrder) -> None:
        self.order_updates.append((order.account, order.view()))

    def _set_status(self, order: WorkingOrder, status: OrderStatus, at_ns: int, reason: str = "") -> None:
        order.status, order.ts_ns, order.reason = status, at_ns, reason
        if status.is_terminal:
            self._engines[order.request.instrument_id].remove(order)
            self._open.get(order.account, {}).pop(order.venue_order_id, None)
        self._record(order)

    def _reject(self, order: WorkingOrder, at_ns: int, error: VenueRejected | UnknownInstrument) -> NoReturn:
        if order.request.instrument_id in self._engines:
            self._set_status(order, OrderStatus.REJECTED, at_ns, str(error))
        else:  # an unknown instrument has no book to leave
            order.status, order.ts_ns, order.reason = OrderStatus.REJECTED, at_ns, str(error)
            self._record(order)
        raise error

    def _refresh_mark(self, engine: MatchingEngine, last_price: Decimal | None) -> None:
        mid = engine.public_mid()
        mark = mid if mid is not None else last_price
        if mark is not None:
            self._marks[engine.instrument.instrument_id] = mark

    def _protection_limit(self, engine: MatchingEngine, side: Side) -> Decimal | None:
        bps = self.config.market_protection_bps
        best = engine.opposite_book(side).best()
        if bps is None or best is None:
            return None
        band = Decimal(repr(bps)) / 10_000
        return engine.instrument.make_price(best * (1 + side.sign * band), round_down=side is Side.BUY).value

    def mark(self, instrument_id: str) -> Decimal | None:
        """Return the instrument's mark price, USD per coin, None before any market data or fill."""
        return self._marks.get(instrument_id)

    def book(self, instrument_id: str) -> MatchingEngine:
        """Return the instrument's matching engine (its book), to read.

        Raises
        ------
        UnknownInstrument
            If the exchange does not trade it.
        """
        return self._engines[self.registry.get(instrument_id).instrument_id]

    def order(self, instrument_id: str, client_order_id: str, account: str | None = None) -> VenueOrder | None:
        """Return the order's view, None if the exchange never saw it."""
        order = self._orders.get((account or self.config.account, client_order_id))
        return None if order is None or order.request.instrument_id != instrument_id else order.view()

    def open_orders(self, instrument_id: str | None = None, account: str | None = None) -> list[VenueOrder]:
        """Return the account's working orders in the book, of one instrument or all, oldest first."""
        orders = self._open.get(account or self.config.account, {}).values()
        return [o.view() for o in sorted(orders, key=lambda o: o.priority)
                if instrument_id is None or o.request.instrument_id == instrument_id]

    def fills(self, since_ns: int = 0, account: str | None = None) -> list[Fill]:
        """Return the account's fills at or after ``since_ns``, oldest first."""
        fills = self._fills.get(account or self.config.account, [])
        return fills[bisect.bisect_left(fills, since_ns, key=lambda fill: fill.ts_ns):]

    def positions(self, account: str | None = None) -> list[VenuePosition]:
        """Return the account's open positions, by instrument id."""
        ledger = self._ledger(account or self.config.account)
        return [VenuePosition(instrument_id=i, size_contracts=held.size_contracts, entry_price=held.entry_usd)
                for i, held in sorted(ledger.positions.items())]

    def balances(self, account: str | None = None) -> list[Balance]:
        """Return the account's balances, one per currency, by currency."""
        ledger = self._ledger(account or self.config.account)
        return [Balance(self.name, Money(amount, currency)) for currency, amount in sorted(ledger.balances.items())]

    def fill_feed(self, account: str | None = None) -> Broadcast[Fill]:
        """Return the feed of the account's fills as they happen."""
        return self._fill_feeds.setdefault(account or self.config.account, Broadcast())

    def close(self) -> None:
        """End every stream."""
        for feed in (self.book_events, self.trade_events, *self._fill_feeds.values()):
            feed.close()


def _amend_problem(
    order: WorkingOrder, instrument: Instrument, quantity: Decimal | None, price: Decimal | None
) -> str | None:
    """Return why an amend of ``order`` to ``quantity`` and ``price`` is refused on receipt, None if it is not."""
    if order.status.is_terminal:
        return f"it is {order.status}"
    if order.is_market:
        return "a market order cannot be amended"
    if quantity is None and price is None:
        return "nothing to change"
    for name, value, step, what in (("quantity", quantity, instrument.lot_size, "lot size"),
                                    ("price", price, instrument.tick_size, "tick size")):
        if value is not None and (value <= 0 or value % step != 0):
            return f"{name} {value} is not a positive multiple of the {what} {step}"
    if quantity is not None and quantity < instrument.min_size:
        return f"quantity {quantity} is below the minimum size {instrument.min_size}"
    return None


def _request_problem(instrument: Instrument, request: OrderRequest) -> str | None:
    """Return what breaks the instrument's rules in ``request``, None if nothing does."""
    quantity = request.quantity.value
    if quantity <= 0:
        return f"quantity must be > 0, got {quantity}"
    if quantity % instrument.lot_size != 0:
        return f"quantity {quantity} is not a multiple of the lot size {instrument.lot_size}"
    if quantity < instrument.min_size:
        return f"quantity {quantity} is below the minimum size {instrument.min_size}"
    if request.order_type is OrderType.MARKET:
        if request.price is not None:
            return f"a market order takes no price, got {request.price}"
        if request.time_in_force is TimeInForce.POST_ONLY:
            return "a market order cannot be post-only"
        return None
    if request.price is None:
        return "a limit order needs a price"
    if request.price.value <= 0:
        return f"price must be > 0, got {request.price}"
    if request.price.value % instrument.tick_size != 0:
        return f"price {request.price} is not a multiple of the tick size {instrument.tick_size}"
    return None

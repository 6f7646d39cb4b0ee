"""The exchange's risk checks of its accounts: equity, margin, the margin check of an order, reduce-only.

Everything is per account and currency (each currency margined on its own, as
Deribit and Binance do without cross-collateral). Positions and working orders are
valued at the instrument's mark; without a mark, at the position's entry price, or
at the limit price of a working order (a market order: the best opposite price at
its arrival). An order is refused for margin when it raises the initial margin of
its currency above the equity (balance plus unrealised P&L): its initial margin
exceeds the free collateral. The rates are ``margin.py``'s.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal

from hedgekeeper.portfolio.instruments import InstrumentRegistry
from hedgekeeper.venues.orders import Side
from hedgekeeper.venues.simulated.accounts import Ledger
from hedgekeeper.venues.simulated.margin import ExchangeMargin
from hedgekeeper.venues.simulated.working_order import WorkingOrder

ZERO = Decimal(0)


def show(amount: Decimal) -> str:
    """Return ``amount`` for a message: ten significant digits at most, no exponent, no trailing zeros.

    >>> show(Decimal("1900.0")), show(Decimal("0.00012345678901234")), show(Decimal("-445.00"))
    ('1900', '0.0001234567890', '-445')
    """
    rounded = Decimal(f"{amount:.10g}")
    return f"{rounded.normalize():f}" if rounded == rounded.to_integral_value() else f"{rounded:f}"


@dataclass
class _Exposure:
    """An account's position and working orders in one instrument, contracts, and a price to value them."""

    position: Decimal = ZERO
    buys: Decimal = ZERO
    sells: Decimal = ZERO
    price_hint: Decimal | None = None

    def add(self, side: Side, contracts: Decimal, limit: Decimal | None) -> None:
        if side is Side.BUY:
            self.buys += contracts
        else:
            self.sells += contracts
        if self.price_hint is None:
            self.price_hint = limit


@dataclass(frozen=True, slots=True)
class Breach:
    """An account currency whose equity is under its maintenance margin."""

    account: str
    currency: str
    equity: Decimal
    maintenance: Decimal


class AccountRisk:
    """Risk views over the exchange's state, which it reads and never changes.

    Parameters
    ----------
    registry : the instruments traded
    margin : ExchangeMargin, the rates
    ledgers : account -> Ledger
    open_orders : account -> venue order id -> working order in the book
    marks : instrument id -> mark price, USD per coin
    """

    def __init__(self, registry: InstrumentRegistry, margin: ExchangeMargin, ledgers: Mapping[str, Ledger],
                 open_orders: Mapping[str, Mapping[str, WorkingOrder]], marks: Mapping[str, Decimal]) -> None:
        self.registry = registry
        self.margin = margin
        self.ledgers = ledgers
        self.open_orders = open_orders
        self.marks = marks

    def equity(self, account: str, currency: str) -> Decimal:
        """Return the balance of ``currency`` plus the unrealised P&L at the marks of the positions settled in it."""
        ledger = self.ledgers[account]
        held = [self.registry.get(i) for i in ledger.positions]
        return ledger.equity(currency, [i for i in held if i.settlement_currency == currency], self.marks)

    def _exposures(self, account: str, currency: str, replacing: WorkingOrder | None) -> dict[str, _Exposure]:
        exposures: dict[str, _Exposure] = {}
        for instrument_id, held in self.ledgers[account].positions.items():
            if self.registry.get(instrument_id).settlement_currency == currency:
                exposures[instrument_id] = _Exposure(position=held.size_contracts, price_hint=held.entry_usd)
        for order in self.open_orders.get(account, {}).values():
            instrument_id = order.request.instrument_id
            if order is not replacing and self.registry.get(instrument_id).settlement_currency == currency:
                exposures.setdefault(instrument_id, _Exposure()).add(order.side, order.remaining, order.limit)
        return exposures

    def _requirement(self, exposures: Mapping[str, _Exposure]) -> tuple[Decimal, Decimal]:
        initial = maintenance = ZERO
        for instrument_id, exposure in exposures.items():
            price = self.marks.get(instrument_id, exposure.price_hint)
            if price is None:
                continue
            more = self.margin.requirement(
                self.registry.get(instrument_id), exposure.position, exposure.buys, exposure.sells, price)
            initial += more[0]
            maintenance += more[1]
        return initial, maintenance

    def requirement(self, account: str, currency: str) -> tuple[Decimal, Decimal]:
        """Return the (initial, maintenance) margin of the account in ``currency``, working orders included."""
        return self._requirement(self._exposures(account, currency, None))

    def margin_problem(self, order: WorkingOrder, contracts: Decimal, reference: Decimal,
                       replacing: WorkingOrder | None = None) -> str | None:
        """Return why ``contracts`` more of ``order`` at ``reference`` (USD per coin) cannot be carried, or None.

        ``replacing`` is the working order an amend replaces, left out of the count.
        """
        instrument = self.registry.get(order.request.instrument_id)
        currency = instrument.settlement_currency
        initial_before, _ = self.requirement(order.account, currency)
        exposures = self._exposures(order.account, currency, replacing)
        exposures.setdefault(instrument.instrument_id, _Exposure()).add(order.side, contracts, reference)
        initial_after, _ = self._requirement(exposures)
        equity = self.equity(order.account, currency)
        if initial_after <= initial_before or initial_after <= equity:
            return None
        return (f"initial margin would be {show(initial_after)} {currency} with the order, above the equity "
                f"{show(equity)} {currency} (free collateral {show(equity - initial_before)} {currency})")

    def reduce_only_problem(self, order: WorkingOrder) -> str | None:
        """Return why a reduce-only ``order`` would not only reduce its account's position, or None."""
        held = self.ledgers[order.account].positions.get(order.request.instrument_id)
        size = ZERO if held is None else held.size_contracts
        if size * order.side.sign >= 0:
            return f"reduce-only {order.side} would not reduce the position of {size} contracts"
        if order.remaining > abs(size):
            return f"reduce-only {order.side} of {order.remaining} is larger than the position of {size} contracts"
        return None

    def breaches(self) -> list[Breach]:
        """Return the account currencies holding positions whose equity is under their maintenance margin."""
        found = []
        for account in sorted(self.ledgers):
            positions = self.ledgers[account].positions
            for currency in sorted({self.registry.get(i).settlement_currency for i in positions}):
                equity = self.equity(account, currency)
                _, maintenance = self.requirement(account, currency)
                if equity < maintenance:
                    found.append(Breach(account, currency, equity, maintenance))
        return found

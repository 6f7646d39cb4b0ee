"""Fills of venue accounts as the engine books them: each once, priced in USD against the order's arrival mid."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from hedgekeeper.execution.fill_record import FillRecord
from hedgekeeper.execution.order_manager import OrderManager
from hedgekeeper.execution.simulated_taker import TakerFill
from hedgekeeper.portfolio.instruments import InstrumentRegistry
from hedgekeeper.portfolio.values import is_usd_currency
from hedgekeeper.venues.orders import Fill

ArrivalMid = Callable[[str], float | None]
"""The mid (USD per coin) when the order of a client order id was decided; None for an order not ours."""


@dataclass
class VenueFills:
    """Report every fill of every venue account once, oldest first per venue.

    Parameters
    ----------
    orders : OrderManager holding the venues
    registry : the instruments, by id
    loop : the event loop the venues are driven from
    """

    orders: OrderManager
    registry: InstrumentRegistry
    loop: asyncio.AbstractEventLoop
    _seen: set[tuple[str, str]] = field(default_factory=set, init=False)

    def new(self, arrival_mid: ArrivalMid, names: Iterable[str] | None = None) -> list[TakerFill]:
        """Return the fills not reported yet, asking each venue (of ``names``, default all) by ``fills``.

        A fill not ours (a liquidation) is measured against its own price.
        """
        fills: list[TakerFill] = []
        for name in self.orders.venues if names is None else names:
            venue = self.orders.venues[name]
            fills += self.report(name, self.loop.run_until_complete(venue.fills(0)), arrival_mid)
        return fills

    def report(self, venue: str, fills: Iterable[Fill], arrival_mid: ArrivalMid) -> list[TakerFill]:
        """Return those of ``venue``'s ``fills`` not reported yet (from any source), priced as ``new`` prices them."""
        fresh: list[TakerFill] = []
        for fill in fills:
            if (venue, fill.fill_id) not in self._seen:
                self._seen.add((venue, fill.fill_id))
                fresh.append(self._taker_fill(venue, fill, arrival_mid(fill.client_order_id)))
        return fresh

    def _taker_fill(self, venue: str, fill: Fill, mid_usd: float | None) -> TakerFill:
        instrument = self.registry.get(fill.instrument_id)
        price = float(fill.price.value)
        contracts = float(fill.quantity.value) * fill.side.sign
        coin = contracts * float(instrument.contract_size) / (price if instrument.is_inverse else 1.0)
        fee = float(fill.fee.amount)
        fee_usd = fee if is_usd_currency(fill.fee.currency) else fee * price
        if is_usd_currency(fill.fee.currency) and not is_usd_currency(instrument.margin_currency) \
                and not instrument.is_inverse:
            fee = fee_usd / price  # a USD fee (a swap's gas) booked in a spot account's coin, at the fill's price
        mid = price if mid_usd is None else mid_usd
        return TakerFill(
            record=FillRecord(
                ts_ns=fill.ts_ns, instrument_id=fill.instrument_id, venue=venue, size_contracts=contracts,
                price_usd=price, mid_usd=mid, notional_usd=abs(coin) * price, fee_usd=fee_usd,
                slippage_usd=(price - mid) * coin,
            ),
            price=price,
            fee=fee,
        )

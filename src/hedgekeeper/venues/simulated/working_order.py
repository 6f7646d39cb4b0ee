"""An order as the simulated exchange holds it while it works: mutable, exact, with its queue position.

The exchange's answers are frozen ``VenueOrder`` views of it (``view``). Quantities
are ``Decimal`` contracts and prices ``Decimal`` in the quote currency (USD per
coin); a market order has no price.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from hedgekeeper.portfolio.values import Price, Quantity
from hedgekeeper.venues.orders import OrderRequest, OrderStatus, OrderType, Side, TimeInForce, VenueOrder


@dataclass(eq=False, slots=True)
class WorkingOrder:
    """One order at the exchange.

    Attributes
    ----------
    account : the account that sent it
    request : the order as sent
    venue_order_id : the exchange's id
    quantity : Quantity, contracts (an amend may change it)
    price : Price or None, the limit price, quote currency (an amend may change it)
    priority : int, the time priority at its price level: lower is earlier; renewed
        when an amend loses the order its place
    status : OrderStatus
    filled : Decimal, contracts filled so far
    filled_cost : Decimal, the sum of fill quantity times price, quote currency
    queue_ahead : Decimal, public contracts ahead of it at its price level
    ts_ns : int, when it last changed, ns since the epoch
    reason : str, why it was rejected, cancelled or expired
    """

    account: str
    request: OrderRequest
    venue_order_id: str
    quantity: Quantity
    price: Price | None
    priority: int
    status: OrderStatus = OrderStatus.NEW
    filled: Decimal = Decimal(0)
    filled_cost: Decimal = Decimal(0)
    queue_ahead: Decimal = Decimal(0)
    ts_ns: int = 0
    reason: str = ""

    @property
    def side(self) -> Side:
        """Return the order's side."""
        return self.request.side

    @property
    def limit(self) -> Decimal | None:
        """Return the limit price as a Decimal, None for a market order."""
        return None if self.price is None else self.price.value

    @property
    def remaining(self) -> Decimal:
        """Return the contracts still to fill (0 once terminal)."""
        return Decimal(0) if self.status.is_terminal else self.quantity.value - self.filled

    def fill(self, quantity_contracts: Decimal, price: Decimal) -> None:
        """Count a fill of ``quantity_contracts`` at ``price`` (its status is the exchange's to set)."""
        self.filled += quantity_contracts
        self.filled_cost += quantity_contracts * price

    def view(self) -> VenueOrder:
        """Return the venue's frozen view of the order."""
        return VenueOrder(
            client_order_id=self.request.client_order_id, venue_order_id=self.venue_order_id,
            instrument_id=self.request.instrument_id, side=self.side, quantity=self.quantity,
            order_type=self.request.order_type, price=self.price, time_in_force=self.request.time_in_force,
            status=self.status, filled_quantity=self.filled,
            average_price=self.filled_cost / self.filled if self.filled > 0 else None,
            ts_ns=self.ts_ns, reason=self.reason,
        )

    @property
    def is_market(self) -> bool:
        """Return whether it is a market order."""
        return self.request.order_type is OrderType.MARKET

    @property
    def time_in_force(self) -> TimeInForce:
        """Return how long the order works."""
        return self.request.time_in_force

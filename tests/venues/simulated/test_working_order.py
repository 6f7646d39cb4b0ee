"""The exchange's working order and its frozen view."""

from __future__ import annotations

from decimal import Decimal

from hedgekeeper.venues.orders import OrderStatus, Side
from hedgekeeper.venues.simulated.working_order import WorkingOrder

from venues.simulated.builders import linear_perpetual, order

D = Decimal


def test_view_reports_the_average_fill_price_and_nothing_remaining_once_terminal() -> None:
    request = order("a", linear_perpetual(), Side.BUY, 4, "100")
    working = WorkingOrder(account="main", request=request, venue_order_id="v-1", quantity=request.quantity,
                           price=request.price, priority=0, status=OrderStatus.ACKNOWLEDGED)
    assert working.view().average_price is None
    working.fill(D(1), D(100))
    working.fill(D(2), D("100.5"))
    assert working.remaining == 1 and working.view().average_price == D("301") / 3
    working.status = OrderStatus.CANCELLED
    assert working.remaining == 0 and working.view().remaining_quantity == 0

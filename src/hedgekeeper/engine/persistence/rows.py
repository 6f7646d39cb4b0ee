"""Pure conversions from the engine's records to the store's rows, and back.

Each function takes one record (a ``Decision``, a ``RiskSample``, a
``ManagedOrder``, a venue ``Fill`` with its booked ``FillRecord``) and returns the
mapping ``Store.write_*`` inserts. Infinite floats (a weight on zero equity, no
liquidation within range) are stored as NULL; exact venue figures as strings.

>>> from hedgekeeper.policy.decision import Decision, Greek
>>> decision_row(Decision(5, "BTC", True, "threshold", ("delta_coin 3.4 above band upper 2.5",),
...                       {Greek.DELTA_COIN: (-0.5, 0.5)}))["goal"]
{'delta_coin': [-0.5, 0.5]}
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from hedgekeeper.engine.records import RiskSample
from hedgekeeper.execution.fill_record import FillRecord
from hedgekeeper.execution.order_state import ManagedOrder, Transition
from hedgekeeper.policy.decision import Decision
from hedgekeeper.venues.orders import Fill


def _finite(value: float) -> float | None:
    return value if math.isfinite(value) else None


def decision_row(decision: Decision) -> dict[str, Any]:
    """Return the row of a decision."""
    return {
        "ts_ns": decision.ts_ns, "underlying": decision.underlying, "act": decision.act,
        "trigger": decision.trigger, "reasons": list(decision.reasons),
        "goal": {str(greek): [_finite(low), _finite(high)] for greek, (low, high) in decision.goal.items()},
        "forced": decision.forced, "expected_cost_usd": decision.expected_cost_usd,
        "expected_benefit_usd": _finite(decision.expected_benefit_usd) or 0.0,
    }


def greeks_row(sample: RiskSample) -> dict[str, Any]:
    """Return the row of a risk sample."""
    return {
        "ts_ns": sample.ts_ns, "underlying": sample.underlying, "spot_usd": sample.spot_usd,
        "delta_coin": sample.delta_coin, "gamma_usd_per_pct": sample.gamma_usd_per_pct,
        "vega_usd_per_vol_pt": sample.vega_usd_per_vol_pt, "weight": _finite(sample.weight),
        "equity_usd": sample.equity_usd, "liquidation_distance": _finite(sample.liquidation_distance),
    }


def order_row(order: ManagedOrder) -> dict[str, Any]:
    """Return the row of an order as it is about to be sent."""
    request = order.request
    return {
        "client_order_id": request.client_order_id, "venue": order.venue, "instrument_id": request.instrument_id,
        "side": request.side.value, "quantity": str(request.quantity.value), "order_type": request.order_type.value,
        "price": None if request.price is None else str(request.price.value),
        "time_in_force": request.time_in_force.value, "reduce_only": request.reduce_only,
        "status": order.status.value, "venue_order_id": order.venue_order_id, "reason": order.reason,
        "created_ns": order.created_ns, "updated_ns": order.created_ns,
    }


def transition_rows(transitions: Sequence[Transition]) -> list[dict[str, Any]]:
    """Return the rows of an order's transitions (numbered by the store)."""
    return [{"ts_ns": t.ts_ns, "before": t.before.value, "event": t.event.value, "after": t.after.value,
             "detail": t.detail} for t in transitions]


def fill_row(venue: str, fill: Fill, record: FillRecord, *, recovered: bool = False) -> dict[str, Any]:
    """Return the row of a venue's fill with how it was booked; ``recovered`` if found at a restart."""
    return {
        "venue": venue, "fill_id": fill.fill_id, "client_order_id": fill.client_order_id,
        "instrument_id": fill.instrument_id, "size_contracts": record.size_contracts,
        "quantity": str(fill.quantity.value), "price": str(fill.price.value), "fee": str(fill.fee.amount),
        "fee_currency": fill.fee.currency, "price_usd": record.price_usd, "mid_usd": record.mid_usd,
        "notional_usd": record.notional_usd, "fee_usd": record.fee_usd, "slippage_usd": record.slippage_usd,
        "ts_ns": record.ts_ns, "recovered": recovered,
    }


def off_venue_fill_row(fill_id: str, record: FillRecord, price: float, fee: float, fee_currency: str
                       ) -> dict[str, Any]:
    """Return the row of a fill made off any venue (an option at the model price), ``fill_id`` ours."""
    return {
        "venue": record.venue, "fill_id": fill_id, "client_order_id": None, "instrument_id": record.instrument_id,
        "size_contracts": record.size_contracts, "quantity": repr(abs(record.size_contracts)), "price": repr(price),
        "fee": repr(fee), "fee_currency": fee_currency, "price_usd": record.price_usd, "mid_usd": record.mid_usd,
        "notional_usd": record.notional_usd, "fee_usd": record.fee_usd, "slippage_usd": record.slippage_usd,
        "ts_ns": record.ts_ns, "recovered": False,
    }

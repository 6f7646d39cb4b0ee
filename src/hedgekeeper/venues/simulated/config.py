"""The simulated exchange's configuration (TOML ``[venues.simulated]``), validated on load.

Every field is documented; a bad one is a ``ConfigError`` naming it
(``hedgekeeper.config.validate``).

Examples
--------
>>> from hedgekeeper.config import validate
>>> config = validate(SimulatedExchangeConfig, {"name": "deribit", "order_latency_ns": 5_000_000,
...     "balances": {"BTC": "2.5"}})
>>> config.order_latency_ns, config.balances
(5000000, {'BTC': Decimal('2.5')})
>>> validate(SimulatedExchangeConfig, {"name": "deribit", "cancel_latency_ns": -1},
...     prefix="venues.simulated")  # doctest: +ELLIPSIS
Traceback (most recent call last):
...
hedgekeeper.errors.ConfigError: invalid configuration: venues.simulated.cancel_latency_ns: Input should be ...
"""

from __future__ import annotations

from decimal import Decimal

import pydantic

from hedgekeeper.config import StrictModel
from hedgekeeper.portfolio.margin import MarginModel


class SimulatedExchangeConfig(StrictModel):
    """How the simulated exchange behaves.

    Attributes
    ----------
    name : the venue's name; its instruments' ``venue`` and its key in the ``FeeSchedule``
    account : the account the ``Venue`` adapter trades for (the exchange holds any number)
    order_latency_ns : ns from sending a place or amend to its arrival at the matching engine
    cancel_latency_ns : ns from sending a cancel to its arrival at the matching engine
    market_protection_bps : a market order trades no further than this many basis points
        beyond the best opposite price at its arrival; None for no limit
    balances : the account's starting balances, currency -> amount
    margin : initial and maintenance margin rates (``portfolio/margin.py``)
    """

    name: str = pydantic.Field(min_length=1)
    account: str = pydantic.Field("main", min_length=1)
    order_latency_ns: int = pydantic.Field(0, ge=0)
    cancel_latency_ns: int = pydantic.Field(0, ge=0)
    market_protection_bps: float | None = pydantic.Field(None, gt=0.0)
    balances: dict[str, Decimal] = pydantic.Field(default_factory=dict)
    margin: MarginModel = MarginModel()

"""Shared pieces of the ccxt venue tests: configurations, dummy credentials, a venue on a recorded exchange."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from decimal import Decimal
from typing import Any

from venues.ccxt.recorded_exchange import Handler, RecordedExchange

from hedgekeeper.portfolio.instruments import Instrument
from hedgekeeper.venues.ccxt.config import CcxtVenueConfig
from hedgekeeper.venues.ccxt.venue import CcxtVenue, create_ccxt_venue
from hedgekeeper.venues.orders import OrderRequest, OrderType, Side, TimeInForce

ENVIRONMENT = {"HK_TEST_KEY": "test-key", "HK_TEST_SECRET": "test-secret", "HK_TEST_PASSPHRASE": "test-passphrase"}
"""Dummy credentials: the recorded exchanges check that requests are signed, not the signature."""


def config_for(exchange: str, market_ids: list[str], **overrides: Any) -> CcxtVenueConfig:
    """Return a test configuration: production URLs (served locally), fast retries, no rate limiter."""
    fields: dict[str, Any] = {
        "exchange": exchange, "sandbox": False, "market_ids": tuple(market_ids),
        "api_key_env": "HK_TEST_KEY", "api_secret_env": "HK_TEST_SECRET",
        "api_password_env": "HK_TEST_PASSPHRASE" if exchange == "okx" else None,
        "request_timeout_s": 2.0, "max_retries": 2, "backoff_initial_s": 0.01, "backoff_max_s": 0.05,
        "rate_limit": False,
    }
    fields.update(overrides)
    return CcxtVenueConfig(**fields)


@asynccontextmanager
async def recorded_venue(
    routes: dict[tuple[str, str], Handler], config: CcxtVenueConfig
) -> AsyncIterator[tuple[RecordedExchange, CcxtVenue]]:
    """Yield a recorded exchange serving ``routes`` and a venue talking to it."""
    async with RecordedExchange(routes) as exchange:
        venue = create_ccxt_venue(config, ENVIRONMENT, exchange.session)
        try:
            yield exchange, venue
        finally:
            await venue.close()


async def instrument_of(venue: CcxtVenue, instrument_id: str) -> Instrument:
    """Return the venue's instrument ``instrument_id``."""
    return next(one for one in await venue.instruments() if one.instrument_id == instrument_id)


def limit_order(instrument: Instrument, client_order_id: str, side: Side, contracts: str, price: str,
                time_in_force: TimeInForce = TimeInForce.GTC, reduce_only: bool = False) -> OrderRequest:
    """Return a limit order request in contracts and quote currency, on the instrument's grid."""
    quantity = instrument.make_qty(Decimal(contracts), round_down=True)
    limit = instrument.make_price(Decimal(price), round_down=True)
    assert quantity.value == Decimal(contracts) and limit.value == Decimal(price), "off the instrument's grid"
    return OrderRequest(client_order_id=client_order_id, instrument_id=instrument.instrument_id, side=side,
                        quantity=quantity, order_type=OrderType.LIMIT, price=limit,
                        time_in_force=time_in_force, reduce_only=reduce_only)

"""Every ccxt venue honours the ``Venue`` protocol: its methods, its name, its capability map, absent streams refused."""

from __future__ import annotations

import asyncio
from dataclasses import replace

import pytest
from venues.ccxt.venue_builders import ENVIRONMENT, config_for

from hedgekeeper.errors import VenueRejected
from hedgekeeper.venues.base import Capability, Support, Venue, supports
from hedgekeeper.venues.ccxt import create_ccxt_venue
from hedgekeeper.venues.ccxt.client import CcxtClient, build_exchange
from hedgekeeper.venues.ccxt.config import read_credentials
from hedgekeeper.venues.ccxt.dialects import dialect_of
from hedgekeeper.venues.ccxt.venue import CcxtVenue


@pytest.mark.parametrize(("exchange_id", "name", "fills_streamed"), [
    ("deribit", "deribit", True), ("binanceusdm", "binance", True), ("okx", "okx", True),
    ("bybit", "bybit", True)])
def test_ccxt_venue_is_a_venue_with_native_amend_and_websocket_streams(exchange_id: str, name: str,
                                                                       fills_streamed: bool) -> None:
    async def scenario():
        venue = create_ccxt_venue(config_for(exchange_id, ["ANY"]), ENVIRONMENT)
        await venue.close()
        return venue

    venue = asyncio.run(scenario())
    assert isinstance(venue, Venue)
    assert venue.name == name
    assert venue.capabilities[Capability.AMEND] is Support.SUPPORTED
    assert all(supports(venue, one) for one in (Capability.POST_ONLY, Capability.IOC, Capability.FOK,
                                                 Capability.REDUCE_ONLY, Capability.SANDBOX))
    assert supports(venue, Capability.BOOK_STREAM) and supports(venue, Capability.TRADE_STREAM)
    assert supports(venue, Capability.FILL_STREAM) is fills_streamed


def test_a_ccxt_venue_without_the_fill_stream_refuses_it_before_asking_the_venue_anything() -> None:
    config = config_for("okx", ["ANY"])  # no session, no network: asking the venue would fail otherwise
    dialect = dialect_of("okx")
    dialect = replace(dialect, capabilities={**dialect.capabilities, Capability.FILL_STREAM: Support.ABSENT})

    async def scenario() -> None:
        venue = CcxtVenue(CcxtClient(build_exchange(config, read_credentials(config, ENVIRONMENT)), config), dialect)
        try:
            await anext(venue.fill_stream())
        finally:
            await venue.close()

    with pytest.raises(VenueRejected, match="okx offers no fill_stream"):
        asyncio.run(scenario())

"""Every ccxt venue honours the ``Venue`` protocol: its methods, its name, its capability map, absent streams refused."""

from __future__ import annotations

import asyncio

import pytest
from venues.ccxt.venue_builders import ENVIRONMENT, config_for

from hedgekeeper.errors import VenueRejected
from hedgekeeper.venues.base import Capability, Support, Venue, supports
from hedgekeeper.venues.ccxt import create_ccxt_venue


@pytest.mark.parametrize(("exchange_id", "name", "fills_streamed"), [
    ("deribit", "deribit", True), ("binanceusdm", "binance", True), ("okx", "okx", True),
    ("bybit", "bybit", False)])
def test_ccxt_venue_is_a_venue_with_native_amend_and_websocket_streams(exchange_id: str, name: str,
                                                                       fills_streamed: bool) -> None:
    async def scenario():
        venue = create_ccxt_venue(config_for(exchange_id, ["ANY"]), ENVIRONMENT)
        try:
            refusals = []
            if not fills_streamed:  # refused before anything is asked of the venue
                with pytest.raises(VenueRejected, match="offers no fill_stream") as raised:
                    await anext(venue.fill_stream())
                refusals.append(raised.value)
            return venue, refusals
        finally:
            await venue.close()

    venue, refusals = asyncio.run(scenario())
    assert isinstance(venue, Venue)
    assert venue.name == name
    assert venue.capabilities[Capability.AMEND] is Support.SUPPORTED
    assert all(supports(venue, one) for one in (Capability.POST_ONLY, Capability.IOC, Capability.FOK,
                                                 Capability.REDUCE_ONLY, Capability.SANDBOX))
    assert supports(venue, Capability.BOOK_STREAM) and supports(venue, Capability.TRADE_STREAM)
    assert supports(venue, Capability.FILL_STREAM) is fills_streamed
    assert len(refusals) == (0 if fills_streamed else 1)

"""Every ccxt venue honours the ``Venue`` protocol: its methods, its name, its capability map, absent streams."""

from __future__ import annotations

import asyncio

import pytest
from venues.ccxt.venue_builders import ENVIRONMENT, config_for

from hedgekeeper.errors import VenueRejected
from hedgekeeper.venues.base import Capability, Support, Venue, supports
from hedgekeeper.venues.ccxt import create_ccxt_venue


@pytest.mark.parametrize(("exchange_id", "name"), [
    ("deribit", "deribit"), ("binanceusdm", "binance"), ("okx", "okx"), ("bybit", "bybit")])
def test_ccxt_venue_is_a_venue_with_native_amend_websocket_streams_and_no_fill_stream(exchange_id: str,
                                                                                      name: str) -> None:
    async def scenario():
        venue = create_ccxt_venue(config_for(exchange_id, ["ANY"]), ENVIRONMENT)
        try:
            with pytest.raises(VenueRejected, match="absent") as raised:
                venue.fill_stream()
            return venue, [raised.value]
        finally:
            await venue.close()

    venue, refusals = asyncio.run(scenario())
    assert isinstance(venue, Venue)
    assert venue.name == name
    assert venue.capabilities[Capability.AMEND] is Support.SUPPORTED
    assert all(supports(venue, one) for one in (Capability.POST_ONLY, Capability.IOC, Capability.FOK,
                                                 Capability.REDUCE_ONLY, Capability.SANDBOX))
    assert supports(venue, Capability.BOOK_STREAM) and supports(venue, Capability.TRADE_STREAM)
    assert not supports(venue, Capability.FILL_STREAM)
    assert len(refusals) == 1

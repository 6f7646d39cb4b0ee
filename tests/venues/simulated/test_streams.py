"""Broadcast subscriptions: what they receive, their filter, their end."""

from __future__ import annotations

import asyncio

from hedgekeeper.venues.simulated.streams import Broadcast


def test_subscription_yields_what_is_published_after_it_is_made_that_it_keeps() -> None:
    feed: Broadcast[int] = Broadcast()
    feed.publish(-1)
    odd = feed.subscribe(lambda n: n % 2 == 1)
    every = feed.subscribe()
    for n in range(4):
        feed.publish(n)

    async def take(subscription, count: int) -> list[int]:
        return [await anext(subscription) for _ in range(count)]

    assert asyncio.run(take(odd, 2)) == [1, 3]
    assert asyncio.run(take(every, 4)) == [0, 1, 2, 3]


def test_closing_the_feed_ends_subscriptions_and_aclose_stops_one() -> None:
    feed: Broadcast[str] = Broadcast()
    kept, dropped = feed.subscribe(), feed.subscribe()

    async def scenario() -> tuple[list[str], list[str]]:
        await dropped.aclose()
        feed.publish("a")
        feed.close()
        feed.publish("b")  # after close: nobody listens
        late = feed.subscribe()  # made after the close: ends at once
        return [item async for item in kept], [item async for item in dropped] + [item async for item in late]

    assert asyncio.run(scenario()) == (["a"], [])

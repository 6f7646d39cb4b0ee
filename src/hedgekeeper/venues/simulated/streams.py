"""Fan-out of what the exchange sees to asynchronous subscribers (the ``Venue`` streams).

``Broadcast.publish`` is synchronous (the exchange core is); each subscription
queues what it is sent from the moment it is made and yields it in order. Nothing
is kept when nobody listens. ``close`` ends every subscription.

Examples
--------
>>> import asyncio
>>> feed = Broadcast()
>>> evens = feed.subscribe(lambda n: n % 2 == 0)
>>> for n in range(5):
...     feed.publish(n)
>>> feed.close()
>>> async def collect():
...     return [n async for n in evens]
>>> asyncio.run(collect())
[0, 2, 4]
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Generic, TypeVar

Item = TypeVar("Item")

_END = object()


class Subscription(Generic[Item]):
    """An asynchronous iterator over the items published since it was made; ``aclose`` ends it."""

    def __init__(self, feed: Broadcast[Item], keep: Callable[[Item], bool]) -> None:
        self._feed = feed
        self._keep = keep
        self._queue: asyncio.Queue[object] = asyncio.Queue()

    def offer(self, item: Item) -> None:
        """Queue ``item`` if this subscription wants it."""
        if self._keep(item):
            self._queue.put_nowait(item)

    def end(self) -> None:
        """Let the iteration stop after what is queued."""
        self._queue.put_nowait(_END)

    def __aiter__(self) -> Subscription[Item]:
        return self

    async def __anext__(self) -> Item:
        item = await self._queue.get()
        if item is _END:
            self._queue.put_nowait(_END)
            raise StopAsyncIteration
        return item  # type: ignore[return-value]

    async def aclose(self) -> None:
        """Stop receiving items."""
        self._feed.unsubscribe(self)
        self.end()


class Broadcast(Generic[Item]):
    """Synchronous publishing to any number of asynchronous subscriptions."""

    def __init__(self) -> None:
        self._subscriptions: list[Subscription[Item]] = []
        self._closed = False

    def subscribe(self, keep: Callable[[Item], bool] = lambda item: True) -> Subscription[Item]:
        """Return a subscription to the items published from now on for which ``keep`` is true (ended if closed)."""
        subscription = Subscription(self, keep)
        if self._closed:
            subscription.end()
        else:
            self._subscriptions.append(subscription)
        return subscription

    def unsubscribe(self, subscription: Subscription[Item]) -> None:
        """Stop sending items to ``subscription``."""
        if subscription in self._subscriptions:
            self._subscriptions.remove(subscription)

    def publish(self, item: Item) -> None:
        """Send ``item`` to every subscription that wants it."""
        for subscription in self._subscriptions:
            subscription.offer(item)

    def close(self) -> None:
        """End every subscription."""
        for subscription in self._subscriptions:
            subscription.end()
        self._subscriptions.clear()
        self._closed = True

"""Write to the store from a background thread, so the engine's loop never waits on the disk.

``StoreWriter.submit(write)`` queues ``write(connection)`` and returns at once; the
writer's thread runs everything queued so far in one transaction, in submission
order. ``flush()`` returns when every write submitted before it is committed: the
engine calls it where durability matters (an order is on disk before it is sent).
A write that fails is logged with its error and the batch rolled back; the service
keeps running (``failures`` counts them, and ``flush`` raises the last one).
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable

from sqlalchemy import Connection

from hedgekeeper.engine.persistence.store import Store, StoreError

logger = logging.getLogger(__name__)

Write = Callable[[Connection], None]

_STOP = object()


class StoreWriter:
    """A thread committing queued writes in batches.

    Parameters
    ----------
    store : Store
    max_batch : the most writes committed in one transaction
    """

    def __init__(self, store: Store, max_batch: int = 2000) -> None:
        self.store = store
        self.max_batch = max_batch
        self.failures = 0
        self.committed = 0
        self._last_error: Exception | None = None
        self._queue: queue.SimpleQueue[object] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._run, name="store-writer", daemon=True)
        self._thread.start()

    def submit(self, write: Write) -> None:
        """Queue ``write(connection)`` for the next transaction."""
        self._queue.put(write)

    def flush(self, timeout_s: float = 30.0) -> None:
        """Return once every write submitted so far is committed.

        Raises
        ------
        StoreError
            If a write failed since the last flush, or the writer did not answer within ``timeout_s``.
        """
        done = threading.Event()
        self._queue.put(done)
        if not done.wait(timeout_s):
            raise StoreError(f"the store writer did not commit within {timeout_s:g} s")
        error, self._last_error = self._last_error, None
        if error is not None:
            raise StoreError(f"a write to the store failed: {error}")

    def close(self, timeout_s: float = 30.0) -> None:
        """Commit what is queued and stop the thread."""
        self._queue.put(_STOP)
        self._thread.join(timeout_s)

    def _run(self) -> None:
        stop = False
        while not stop:
            batch: list[Write] = []
            waiters: list[threading.Event] = []
            item = self._queue.get()
            while True:
                if item is _STOP:
                    stop = True
                elif isinstance(item, threading.Event):
                    waiters.append(item)
                else:
                    batch.append(item)  # type: ignore[arg-type]
                if stop or len(batch) >= self.max_batch:
                    break
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
            if batch:
                try:
                    with self.store.transaction() as connection:
                        for write in batch:
                            write(connection)
                    self.committed += len(batch)
                except Exception as error:  # noqa: BLE001 - logged, counted and raised at the next flush
                    self.failures += 1
                    self._last_error = error
                    logger.error("store write of %d records failed: %s", len(batch), error)
            for waiter in waiters:
                waiter.set()

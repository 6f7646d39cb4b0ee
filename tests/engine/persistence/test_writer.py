"""The background writer commits in submission order, waits when asked, and survives a failed write."""

from __future__ import annotations

from pathlib import Path

import pytest

from hedgekeeper.engine.persistence.store import Store, StoreError
from hedgekeeper.engine.persistence.writer import StoreWriter


def test_flush_returns_after_every_earlier_write_is_committed(tmp_path: Path) -> None:
    store = Store.open(f"sqlite:///{tmp_path / 's.sqlite'}")
    writer = StoreWriter(store)
    for i in range(500):
        writer.submit(lambda c, i=i: Store.write_control(c, "paused", str(i), i))
    writer.flush()
    assert store.controls() == {"paused": "499"}
    assert writer.committed == 500
    writer.close()


def test_a_failed_write_is_reported_at_the_next_flush_and_later_writes_go_on(tmp_path: Path) -> None:
    store = Store.open(f"sqlite:///{tmp_path / 's.sqlite'}")
    writer = StoreWriter(store)
    writer.submit(lambda c: Store.write_control(c, "paused", "yes", 1))
    writer.flush()

    def broken(connection: object) -> None:
        raise RuntimeError("disk on fire")

    writer.submit(broken)
    with pytest.raises(StoreError, match="disk on fire"):
        writer.flush()
    writer.submit(lambda c: Store.write_control(c, "kill_switch", "x", 2))
    writer.flush()
    assert store.controls() == {"paused": "yes", "kill_switch": "x"}
    assert writer.failures == 1
    writer.close()

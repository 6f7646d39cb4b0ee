"""anvil.py: a local anvil on a free loopback port, answering until stopped."""

from __future__ import annotations

from pathlib import Path

import pytest

from hedgekeeper.chain.anvil import AnvilNode, _answers, find_anvil
from hedgekeeper.chain.backends import connect
from hedgekeeper.chain.errors import AnvilUnavailable

needs_anvil = pytest.mark.skipif(
    find_anvil() is None,
    reason="anvil binary not found (node_modules/.bin/anvil): `make test` installs it through npm",
)


@needs_anvil
def test_a_node_answers_on_loopback_until_stopped() -> None:
    with AnvilNode() as node:
        assert node.url.startswith("http://127.0.0.1:")
        chain = connect(node.backend())
        assert chain.w3.eth.chain_id == 31337 and len(chain.accounts) == 10
        url = node.url
    assert node.process is None and not _answers(url)


def test_a_missing_binary_is_anvil_unavailable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HEDGEKEEPER_ANVIL", str(tmp_path / "anvil"))
    assert find_anvil() is None
    with pytest.raises(AnvilUnavailable, match="anvil not found"):
        AnvilNode(binary=tmp_path / "anvil").start()


@needs_anvil
def test_stop_is_idempotent() -> None:
    node = AnvilNode().start()
    node.stop()
    node.stop()
    with pytest.raises(AnvilUnavailable):
        AnvilNode(port=None).url

"""chain/errors.py: chain failures sit in hedgekeeper's three families."""

from __future__ import annotations

from hedgekeeper.chain.errors import AnvilUnavailable, ContractCompileError, NodeUnavailable, StaleOracle, TransactionReverted
from hedgekeeper.errors import BadData, HedgekeeperError, VenueRejected, VenueUnavailable


def test_each_chain_error_belongs_to_its_family() -> None:
    assert issubclass(TransactionReverted, VenueRejected)  # the contract refused: never retried
    assert issubclass(NodeUnavailable, VenueUnavailable) and issubclass(AnvilUnavailable, NodeUnavailable)
    assert issubclass(StaleOracle, BadData)
    assert issubclass(ContractCompileError, HedgekeeperError)


def test_a_revert_keeps_its_reason() -> None:
    error = TransactionReverted("0xabc.rebalance reverted: vault: cooldown", "vault: cooldown")
    assert error.reason == "vault: cooldown" and "cooldown" in str(error)

"""Chain errors, each under one of hedgekeeper's families (``hedgekeeper.errors``).

- ``TransactionReverted`` (a ``VenueRejected``): the contract refused; resending
  the same transaction cannot help. Carries the revert reason.
- ``NodeUnavailable`` (a ``VenueUnavailable``): the node did not answer; a retry
  may help. ``AnvilUnavailable`` when the local anvil cannot be started.
- ``StaleOracle`` (a ``BadData``): an oracle answer older than allowed.
- ``ContractCompileError``: a Vyper source did not compile.
"""

from __future__ import annotations

from hedgekeeper.errors import BadData, HedgekeeperError, VenueRejected, VenueUnavailable


class TransactionReverted(VenueRejected):
    """A transaction or call reverted; ``reason`` is the contract's revert string ("" when none).

    Parameters
    ----------
    message : str, what was called and why it failed
    reason : str, the revert string, e.g. ``"vault: in band"``
    """

    def __init__(self, message: str, reason: str = "") -> None:
        super().__init__(message)
        self.reason = reason


class NodeUnavailable(VenueUnavailable):
    """The JSON-RPC node did not answer (refused, timed out, not yet started)."""


class AnvilUnavailable(NodeUnavailable):
    """The anvil binary is missing or did not start answering in time."""


class StaleOracle(BadData):
    """An oracle answer is older than the allowed age; the message gives both in seconds."""


class ContractCompileError(HedgekeeperError):
    """A Vyper contract failed to compile; the message names the file and the compiler's reason."""

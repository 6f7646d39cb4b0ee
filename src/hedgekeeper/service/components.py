"""The seam where more parts join the service: the chain with its oracle, pool, vaults and keeper.

A ``ServiceComponent`` is started by the service after the store and the venues
are open and before the engine's clock starts (a simulated market waits while a
chain is deployed), takes part in the recovery (``recover``: reconcile
its own state, e.g. the vault's positions and the keeper's pending transactions,
with the chain), sees every market event the engine sees (``on_event``: the keeper
reacts to oracle rounds and blocks), and is stopped at shutdown, after the
engine has stopped deciding and before the store is closed (also when the start
fails after it was started). ``start`` runs on the thread calling ``Service.start``;
the other methods on the engine's thread, so a component may read the engine's
state freely; one with slow work (the chain's) hands it to a thread of its own
from ``on_event``.

A component may also offer ``view() -> dict``: what it is doing, JSON-ready, put in
the service's snapshot under its name (the API's ``/api/chain``).

``chain_components(spec)`` returns the components the ``[chain]`` table asks for:
none while ``enabled = false``, else the ``ChainComponent`` (``chain_component.py``).
"""

from __future__ import annotations

from typing import Any, Protocol

from hedgekeeper.market.events import MarketEvent
from hedgekeeper.service.config import ServiceSpec


class ServiceComponent(Protocol):
    """A part of the service with a life of its own (the chain: a local node, the vault, the keeper)."""

    name: str

    def start(self, service: Any) -> None:
        """Start (a local node, a connection); ``service`` is the ``Service``, its store and venues open."""
        ...

    def recover(self, service: Any) -> dict[str, Any]:
        """Reconcile with the outside world before deciding; return what was found (stored with the run)."""
        ...

    def on_event(self, event: MarketEvent) -> None:
        """See one market event, after the engine."""
        ...

    def stop(self) -> None:
        """Stop and release everything."""
        ...


def chain_components(spec: ServiceSpec) -> list[ServiceComponent]:
    """Return the chain's components for ``spec``: none while ``[chain] enabled = false``.

    The chain's modules (web3, py-evm) are imported only when it is enabled.

    Raises
    ------
    ConfigError
        If the ``[chain]`` table or the chain system file it names has a bad field (named).
    """
    if not spec.file.chain.enabled:
        return []
    from hedgekeeper.service.chain_component import build_chain_component

    return [build_chain_component(spec)]

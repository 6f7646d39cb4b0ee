"""What a person may change while the service runs: pause, the kill switch, the bands.

``ControlledPolicy`` sits between the engine and the configured policy: paused, it
decides nothing (and offers no quiet window, so the first tick after resuming asks
the policy); its inner policy is swapped when the bands change. ``KillSwitchCheck``
is the order manager's pre-trade check: the kill switch first (whether or not
safety limits are configured), then the safety limits at the instrument's mid.
``Command`` carries a request from the API's thread to the engine's, with the
future its answer comes back on: the engine's state only ever changes on its own
thread. There ``CommandHandler`` carries it out and writes the change to the store,
from which the next start restores it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from hedgekeeper.engine.persistence.store import Store
from hedgekeeper.engine.persistence.writer import StoreWriter
from hedgekeeper.errors import HedgekeeperError, SafetyLimitBreached
from hedgekeeper.execution.safety import SafetyGuard
from hedgekeeper.market.order_book import OrderBook
from hedgekeeper.policy.base import Policy
from hedgekeeper.policy.config import build_policy
from hedgekeeper.policy.decision import Decision, PolicyInput
from hedgekeeper.policy.quiet import Quiet, RiskCells
from hedgekeeper.policy.risk_profile import RiskProfile
from hedgekeeper.portfolio.instruments import Instrument
from hedgekeeper.service.config import ServiceSpec
from hedgekeeper.service.order_journal import OrderJournal
from hedgekeeper.venues.orders import OrderRequest

if TYPE_CHECKING:  # wiring.py puts this module's policy and check into the machinery
    from hedgekeeper.service.wiring import Machinery

logger = logging.getLogger(__name__)


class ControlledPolicy:
    """A policy that can be paused and replaced at run time.

    Parameters
    ----------
    inner : the policy deciding while not paused
    paused : start paused
    """

    def __init__(self, inner: Policy, paused: bool = False) -> None:
        self.inner = inner
        self.paused = paused

    def decide(self, state: PolicyInput) -> Decision:
        """Return the inner policy's decision, or a silent one while paused."""
        if self.paused:
            return Decision(ts_ns=state.risk.ts_ns, underlying=state.risk.underlying, act=False)
        return self.inner.decide(state)

    def quiet(self, state: PolicyInput, cells: RiskCells) -> Quiet | None:
        """Return the inner policy's quiet region; none while paused."""
        return None if self.paused else self.inner.quiet(state, cells)


class KillSwitchCheck:
    """The pre-trade check: refuse every order while the kill switch is on, else apply the safety limits.

    Parameters
    ----------
    guard : SafetyGuard of the configured limits, or None
    instrument_of : the instrument of an id
    order_books : the engine's books by stream
    streams : instrument id -> its book's stream
    """

    def __init__(self, guard: SafetyGuard | None, instrument_of: Callable[[str], Instrument],
                 order_books: Mapping[str, OrderBook], streams: Mapping[str, str]) -> None:
        self.guard = guard
        self.reason = ""
        self._instrument_of = instrument_of
        self._books = order_books
        self._streams = streams

    @property
    def engaged(self) -> bool:
        """Return whether the kill switch is on."""
        return bool(self.reason)

    def engage(self, reason: str) -> None:
        """Refuse every order from now on, with ``reason``."""
        self.reason = reason or "no reason given"

    def release(self) -> None:
        """Let orders through to the safety limits again."""
        self.reason = ""

    def __call__(self, venue: str, request: OrderRequest, now_ns: int) -> None:
        """Refuse ``request`` (``SafetyLimitBreached``) or let it go."""
        if self.reason:
            raise SafetyLimitBreached(f"kill switch on ({self.reason}): order on {request.instrument_id} refused")
        if self.guard is None:
            return
        book = self._books.get(self._streams.get(request.instrument_id, request.instrument_id))
        mid = None if book is None else book.mid_usd
        limit = 0.0 if request.price is None else float(request.price.value)
        self.guard.check_request(request, self._instrument_of(request.instrument_id),
                                 underlying_price_usd=mid if mid is not None else limit, mid_price=mid, now_ns=now_ns)


@dataclass
class Command:
    """A request to the engine's thread: ``name`` with ``arguments``; the answer comes on ``result``.

    Names: ``pause``, ``resume``, ``kill`` (``reason``), ``release``, ``set_bands`` (``profile``).
    """

    name: str
    arguments: dict[str, Any] = field(default_factory=dict)
    result: Future[Any] = field(default_factory=Future)


class CommandHandler:
    """Carry out the API's commands on the engine's thread, and write each change to the store.

    Parameters
    ----------
    spec : the service file (the policy's table; the document stored with new bands)
    machinery : the live engine, its policy, kill switch, order manager and executor
    journal : the order journal, synced after a cancel
    writer : the store's writer
    profile : the bands in force at the start
    config_version : their configuration version

    Attributes
    ----------
    profile : the bands in force
    config_version : their configuration version
    """

    def __init__(self, spec: ServiceSpec, machinery: Machinery, journal: OrderJournal, writer: StoreWriter,
                 profile: RiskProfile, config_version: int) -> None:
        self._spec = spec
        self._machinery = machinery
        self._journal = journal
        self._writer = writer
        self.profile, self.config_version = profile, config_version

    def restore(self, controls: Mapping[str, str]) -> None:
        """Pause and engage the kill switch as the stored ``controls`` say (they outlive a restart)."""
        self._machinery.policy.paused = bool(controls.get("paused"))
        if controls.get("kill_switch"):
            self._machinery.check.engage(controls["kill_switch"])

    def execute(self, command: Command) -> Any:
        """Carry out ``command``; return its answer.

        Raises
        ------
        HedgekeeperError
            If the command is unknown; ``ConfigError`` if new bands do not make a policy (nothing changed).
        """
        machinery = self._machinery
        now_ns = machinery.engine.clock.now_ns()  # when the change is stored
        if command.name in ("pause", "resume"):
            machinery.policy.paused = command.name == "pause"
            machinery.engine.invalidate()
            self._write_control("paused", "yes" if machinery.policy.paused else "", now_ns)
            return {"paused": machinery.policy.paused}
        if command.name == "kill":
            reason = str(command.arguments.get("reason") or "kill switch engaged through the API")
            machinery.check.engage(reason)
            cancelled = self.cancel_working()
            self._write_control("kill_switch", reason, now_ns)
            return {"kill_switch": reason, "cancelled": cancelled}
        if command.name == "release":
            machinery.check.release()
            self._write_control("kill_switch", "", now_ns)
            return {"kill_switch": ""}
        if command.name == "set_bands":
            profile: RiskProfile = command.arguments["profile"]
            machinery.policy.inner = build_policy(self._spec.policy, profile)  # raises ConfigError, nothing changed
            self.profile = profile
            machinery.engine.invalidate()
            holder: dict[str, int] = {}
            document = self._spec.document()
            source = str(command.arguments.get("source") or "api")

            def write(connection: Any) -> None:
                holder["version"] = Store.write_config_version(
                    connection, ts_ns=now_ns, source=source, profile=profile.model_dump(mode="json"), document=document)

            self._writer.submit(write)
            self._writer.flush()
            self.config_version = holder["version"]
            return {"version": self.config_version, "profile": profile.model_dump(mode="json")}
        raise HedgekeeperError(f"unknown command {command.name!r}")

    def cancel_working(self) -> int:
        """Cancel every working order; return how many were asked to cancel."""
        executor = self._machinery.executor
        working = self._machinery.manager.working()
        if executor is None or not working:
            return 0
        for order in working:
            try:
                executor.run(self._machinery.manager.cancel(order.client_order_id))
            except HedgekeeperError as error:
                logger.warning("cancel of %s failed: %s", order.client_order_id, error)
        self._journal.sync()
        return len(working)

    def _write_control(self, name: str, value: str, now_ns: int) -> None:
        self._writer.submit(lambda c: Store.write_control(c, name, value, now_ns))
        self._writer.flush()

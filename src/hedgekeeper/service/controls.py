"""What a person may change while the service runs: pause, the kill switch, the bands.

``ControlledPolicy`` sits between the engine and the configured policy: paused, it
decides nothing (and offers no quiet window, so the first tick after resuming asks
the policy); its inner policy is swapped when the bands change. ``KillSwitchCheck``
is the order manager's pre-trade check: the kill switch first (whether or not
safety limits are configured), then the safety limits at the instrument's mid.
``Command`` carries a request from the API's thread to the engine's, with the
future its answer comes back on: the engine's state only ever changes on its own
thread.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any

from hedgekeeper.errors import SafetyLimitBreached
from hedgekeeper.execution.safety import SafetyGuard
from hedgekeeper.market.order_book import OrderBook
from hedgekeeper.policy.base import Policy
from hedgekeeper.policy.decision import Decision, PolicyInput
from hedgekeeper.policy.quiet import Quiet, RiskCells
from hedgekeeper.portfolio.instruments import Instrument
from hedgekeeper.venues.orders import OrderRequest


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

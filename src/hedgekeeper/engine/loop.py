"""The event loop: market event -> risk update -> policy -> planner -> execution -> records.

One ``Engine`` serves backtests, replays and live runs alike: it does not know
where its events come from (a simulator, a file, a venue's websocket) nor what
its ``Hedger`` trades against (a simulated book, a real exchange, a chain). Only
the clock differs: a ``SimulatedClock`` advanced to each event's time, or the
``WallClock``.

For each event, in order:

1. the clock moves to the event's time and due timers fire;
2. the edge validator refuses bad, out-of-order and stale data (logged, counted,
   never fatal);
3. the event updates the market: an order book, an underlying's spot (from its
   ``spot_stream``), an option's vol, a funding payment, an oracle price;
4. on a spot move, the underlying's risk is read from the ladder cache (rebuilt
   by full revaluation when stale), the policy decides, every decision that a rule
   fired on is recorded (acted on or skipped, with reasons), and an act goes to the
   ``Hedger``, whose fills are booked;
5. risk is sampled at a fixed interval for the records.

Listeners see every valid event first (a simulated exchange keeps its book from
them). A rebalance whose orders work over time (slices, latency) leaves its
underlying "hedging": its fills are collected after each event (``Hedger.poll``)
and booked as they arrive, and the policy is not asked again for that underlying
until the execution ends. Between rebalances the hedger is still asked, at most every
``idle_fill_poll_ns``: a venue may change the account on its own (a liquidation).

After a silent verdict the engine asks the policy where it would stay silent
(``policy/quiet.py``) and keeps a ``QuietWindow``: the spot interval, deadline and
cost range inside which no rule can fire, the ladder stays fresh and no sample is
due. A tick inside it stops after the order book: skipping step 4 changes nothing,
as nothing would be recorded. Any other input the policy reads (an oracle round, a
fill, a funding payment) closes the window; windows hold whatever the vol.

Everything is deterministic: the same events and configuration give the same
decisions and fills.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Protocol

from hedgekeeper.engine.book_state import BookState
from hedgekeeper.engine.clock import Clock
from hedgekeeper.engine.records import FillRecord, Recorder, RiskSample
from hedgekeeper.engine.risk_cache import InterpolatedRisk, LadderRisk
from hedgekeeper.market.events import (
    Block,
    BookUpdate,
    Funding,
    MarketEvent,
    OptionQuote,
    OracleUpdate,
    TopOfBook,
    Trade,
)
from hedgekeeper.market.order_book import OrderBook
from hedgekeeper.market.validation import EdgeValidator
from hedgekeeper.policy.base import Policy
from hedgekeeper.policy.decision import Decision, HedgeMemory, PolicyInput, RiskSnapshot

logger = logging.getLogger(__name__)


class Hedger(Protocol):
    """Turns a decision to rebalance into fills: plans the trades and executes them."""

    def hedge(
        self,
        decision: Decision,
        risk: RiskSnapshot,
        book: BookState,
        order_books: Mapping[str, OrderBook],
        now_ns: int,
    ) -> Sequence[FillRecord]:
        """Plan and execute the rebalance of ``decision`` from ``risk``; return the fills, booked in ``book``."""
        ...

    def poll(self, book: BookState, now_ns: int) -> Sequence[FillRecord]:
        """Return the fills of earlier rebalances that arrived since the last call, booked in ``book``."""
        ...

    def working(self, underlying: str) -> bool:
        """Return whether a rebalance of ``underlying`` is still being executed."""
        ...

    def close(self) -> None:
        """Release what executing holds, at the end of a run."""
        ...


@dataclass(frozen=True, kw_only=True)
class UnderlyingFeed:
    """Where one underlying's market data comes from.

    Attributes
    ----------
    underlying : the coin, e.g. "BTC"
    spot_stream : the stream whose mid (or trade price, without a book) is the spot
    oracle_stream : the oracle feed whose rounds are the reference price, if any
    """

    underlying: str
    spot_stream: str
    oracle_stream: str | None = None


@dataclass(frozen=True, kw_only=True)
class EngineSettings:
    """The loop's timing parameters, in nanoseconds, and the ladder's shape.

    Attributes
    ----------
    sample_interval_ns : how often risk is sampled into the records
    ladder_max_age_ns : a ladder older than this is rebuilt (time decay, new vols)
    ladder_half_width : the ladder spans spot * exp(+-half_width)
    ladder_spacing : node spacing in log spot
    liquidation_max_age_ns : liquidation levels older than this are searched again
        (they are always searched again after a fill)
    liquidation_search : the largest move searched for liquidation, fraction of spot
    quiet_windows : skip the policy on ticks inside its quiet region (``policy/quiet.py``);
        the decisions are the same either way, only slower without
    idle_fill_poll_ns : between rebalances, the hedger is asked for fills at most this
        often (on every event while a rebalance is executed): what a venue did to the
        account on its own, a liquidation, is booked within this time, not at the next
        rebalance; 0 asks on every event
    """

    sample_interval_ns: int = 60_000_000_000
    ladder_max_age_ns: int = 300_000_000_000
    ladder_half_width: float = 0.05
    ladder_spacing: float = 0.0005
    liquidation_max_age_ns: int = 3_600_000_000_000
    liquidation_search: float = 0.5
    quiet_windows: bool = True
    idle_fill_poll_ns: int = 10_000_000_000


@dataclass(frozen=True, slots=True)
class QuietWindow:
    """Ticks with ``low_usd < spot < high_usd`` before ``until_ns`` at a cost fraction in ``cost_fraction`` change nothing.

    Attributes
    ----------
    low_usd, high_usd : the open spot interval, USD per coin
    until_ns : exclusive deadline, ns since the epoch
    cost_fraction : (low, high), decimal
    any_cost : whether every cost fraction is covered, so none needs computing
    """

    low_usd: float
    high_usd: float
    until_ns: int
    cost_fraction: tuple[float, float]
    any_cost: bool = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "any_cost", self.cost_fraction == (-math.inf, math.inf))

    def holds_at(self, cost_fraction: float) -> bool:
        """Return whether ``cost_fraction`` lies in the window's cost range."""
        return self.cost_fraction[0] <= cost_fraction <= self.cost_fraction[1]


@dataclass
class _UnderlyingState:
    feed: UnderlyingFeed
    ladder: LadderRisk | None = None
    quiet: QuietWindow | None = None
    memory: HedgeMemory = HedgeMemory()
    hedging: bool = False
    oracle_usd: float | None = None
    last_sample_ns: int | None = None
    liquidation_spots_usd: tuple[float | None, float | None] | None = None
    liquidation_found_ns: int = 0


@dataclass
class Engine:
    """The event loop of one portfolio.

    Parameters
    ----------
    clock : Clock; the loop advances a ``SimulatedClock`` itself
    book : BookState, the portfolio at the start
    feeds : one UnderlyingFeed per underlying to keep in its bands
    policy : the policy (hard limits included) deciding for every underlying
    hedger : Hedger, plans and executes rebalances
    validator : EdgeValidator for incoming events
    cost_fraction : Callable giving the expected cost per USD of hedge traded for an
        underlying (fees + half-spread), handed to the policy
    settings : EngineSettings
    recorder : Recorder receiving samples, decisions and fills
    listeners : called with every valid event before the engine handles it (a
        simulated exchange keeping its book)
    order_books : the books by stream, kept by the loop (shared with an executor)
    features : Callable giving the market features of an underlying at a time (ns),
        handed to the policy (``ml/features.py``); None for none
    events_processed : events that passed validation so far
    quiet_ticks : spot ticks that fell inside a quiet window, the policy not asked
    """

    clock: Clock
    book: BookState
    feeds: Sequence[UnderlyingFeed]
    policy: Policy
    hedger: Hedger
    validator: EdgeValidator
    cost_fraction: Callable[[str, Mapping[str, OrderBook]], float]
    settings: EngineSettings = field(default_factory=EngineSettings)
    recorder: Recorder = field(default_factory=Recorder)
    listeners: Sequence[Callable[[MarketEvent], None]] = ()
    order_books: dict[str, OrderBook] = field(default_factory=dict)
    features: Callable[[str, int], Mapping[str, float]] | None = None
    events_processed: int = 0
    quiet_ticks: int = 0

    def __post_init__(self) -> None:
        self._states = {feed.underlying: _UnderlyingState(feed) for feed in self.feeds}
        self._by_spot_stream = {feed.spot_stream: self._states[feed.underlying] for feed in self.feeds}
        self._by_oracle = {f.oracle_stream: self._states[f.underlying] for f in self.feeds if f.oracle_stream}
        self._advance: Callable[[int], None] | None = getattr(self.clock, "advance_to", None)
        self._hedging = False
        self._idle_poll_due_ns = -1  # the first event asks
        self._handlers: dict[type, Callable[[Any, int], None]] = {
            TopOfBook: self._on_book, BookUpdate: self._on_book, Trade: self._on_trade,
            OptionQuote: self._on_option_quote, Funding: self._on_funding, OracleUpdate: self._on_oracle,
            Block: self._on_block,
        }

    def run(self, events: Iterable[MarketEvent], progress: Callable[[int], None] | None = None) -> Recorder:
        """Process every event in order; return the recorder. ``progress(n)`` is called every 10,000."""
        for event in events:
            self.process(event)
            if progress is not None and self.events_processed % 10_000 == 0:
                progress(self.events_processed)
        return self.recorder

    def process(self, event: MarketEvent) -> None:
        """Take one event through the loop (see the module docstring)."""
        clock = self.clock
        if self._advance is not None and event.ts_ns > clock.now_ns():
            self._advance(event.ts_ns)  # a late event never moves time back: the validator judges it
        clock.fire_due()
        now_ns = clock.now_ns()
        if self.validator.check(event, now_ns) is not None:
            return
        self.events_processed += 1
        for listener in self.listeners:
            listener(event)
        self._handlers[type(event)](event, now_ns)
        if self._hedging or now_ns >= self._idle_poll_due_ns:
            self._collect_fills(now_ns)

    def invalidate(self) -> None:
        """Forget every ladder, quiet window and liquidation level: call after changing the policy or book from outside."""
        self._positions_changed()

    def hedge_memories(self) -> dict[str, HedgeMemory]:
        """Return each underlying's memory of its last rebalance."""
        return {underlying: state.memory for underlying, state in self._states.items()}

    def restore_hedge_memories(self, memories: Mapping[str, HedgeMemory]) -> None:
        """Set the memory of the last rebalance of the underlyings given (a restart); others are kept."""
        for underlying, memory in memories.items():
            state = self._states.get(underlying)
            if state is not None:
                state.memory = memory

    def hedging_underlyings(self) -> tuple[str, ...]:
        """Return the underlyings whose rebalance is still being executed."""
        return tuple(u for u, state in self._states.items() if state.hedging)

    def _collect_fills(self, now_ns: int) -> None:
        """Book the fills the hedger reports (a rebalance's, a liquidation's); free the underlyings done rebalancing."""
        self._idle_poll_due_ns = now_ns + self.settings.idle_fill_poll_ns
        fills = self.hedger.poll(self.book, now_ns)
        if fills:
            self.recorder.fills.extend(fills)
            self._positions_changed()
        for state in self._states.values():
            state.hedging = state.hedging and self.hedger.working(state.feed.underlying)
        self._hedging = any(state.hedging for state in self._states.values())

    def _on_book(self, event: TopOfBook | BookUpdate, now_ns: int) -> None:
        stream = event.stream
        book = self.order_books.get(stream)
        if book is None:
            book = self.order_books[stream] = OrderBook()
        book.apply(event)
        state = self._by_spot_stream.get(stream)
        if state is not None:
            mid_usd = book.mid_usd
            if mid_usd is not None:
                self._on_spot(state, mid_usd, now_ns)

    def _on_trade(self, event: Trade, now_ns: int) -> None:
        state = self._by_spot_stream.get(event.stream)
        if state is not None and event.stream not in self.order_books:
            self._on_spot(state, event.price_usd, now_ns)

    def _on_option_quote(self, event: OptionQuote, now_ns: int) -> None:
        # New marks reach the risk at the ladder's next rebuild (ladder_max_age_ns), and
        # the snapshot's vol at once; quiet windows hold whatever the vol (policy/quiet.py).
        if event.stream in self.book.registry:
            self.book.set_option_vol(event.stream, event.mark_vol)

    def _on_funding(self, event: Funding, now_ns: int) -> None:
        if self.book.position(event.stream) != 0.0:
            self.book.pay_funding(event.stream, event.rate, event.mark_usd)
            self._invalidate(self.book.registry.get(event.stream).underlying)

    def _on_oracle(self, event: OracleUpdate, now_ns: int) -> None:
        state = self._by_oracle.get(event.stream)
        if state is not None:
            state.oracle_usd = event.price_usd
            state.quiet = None

    def _on_block(self, event: Block, now_ns: int) -> None:
        """Blocks matter to the on-chain keeper only."""

    def _invalidate(self, underlying: str) -> None:
        """Mark ``underlying``'s ladder stale: cash moved."""
        state = self._states.get(underlying)
        if state is not None:
            state.ladder = None
            state.quiet = None

    def _risk(self, state: _UnderlyingState, spot_usd: float, now_ns: int) -> tuple[InterpolatedRisk, LadderRisk]:
        ladder = state.ladder
        stale = (
            ladder is None
            or not ladder.covers(spot_usd)
            or now_ns - ladder.built_ns > self.settings.ladder_max_age_ns
        )
        if stale:
            underlying = state.feed.underlying
            self.book.set_spot(underlying, spot_usd)
            self.book.advance_to(now_ns)
            if now_ns - state.liquidation_found_ns > self.settings.liquidation_max_age_ns:
                state.liquidation_spots_usd = None
            ladder = state.ladder = LadderRisk.build(
                self.book.portfolio, underlying, now_ns,
                half_width=self.settings.ladder_half_width, spacing=self.settings.ladder_spacing,
                liquidation_spots_usd=state.liquidation_spots_usd, max_move=self.settings.liquidation_search,
            )
            if state.liquidation_spots_usd is None:
                state.liquidation_spots_usd, state.liquidation_found_ns = ladder.liquidation_spots_usd, now_ns
        return ladder.at(spot_usd), ladder  # type: ignore[union-attr]

    def _on_spot(self, state: _UnderlyingState, spot_usd: float, now_ns: int) -> None:
        quiet = state.quiet
        if (quiet is not None and quiet.low_usd < spot_usd < quiet.high_usd and now_ns < quiet.until_ns
                and (quiet.any_cost or quiet.holds_at(self.cost_fraction(state.feed.underlying, self.order_books)))):
            self.quiet_ticks += 1  # the policy would stay silent: no decision to record, no risk to sample
            return
        state.quiet = None
        underlying = state.feed.underlying
        risk, ladder = self._risk(state, spot_usd, now_ns)
        if state.hedging:  # no new verdict while the last rebalance is still being executed
            if state.last_sample_ns is None or now_ns - state.last_sample_ns >= self.settings.sample_interval_ns:
                snapshot = risk.snapshot(underlying, now_ns, ladder.liquidation_distance(spot_usd),
                                         self._risk_vol(underlying))
                self._sample(state, snapshot, risk, now_ns)
            return
        snapshot = risk.snapshot(underlying, now_ns, ladder.liquidation_distance(spot_usd), self._risk_vol(underlying))
        policy_input = PolicyInput(
            risk=snapshot,
            memory=state.memory,
            oracle_usd=state.oracle_usd,
            cost_fraction=self.cost_fraction(underlying, self.order_books),
            features=None if self.features is None else self.features(underlying, now_ns),
        )
        decision = self.policy.decide(policy_input)
        if decision.trigger:
            self.recorder.decisions.append(decision)
        if decision.act:
            self._rebalance(state, decision, snapshot, now_ns)
            risk, _ = self._risk(state, spot_usd, now_ns)
        elif decision.deferred != (state.memory.deferred_since_ns is not None):
            state.memory = replace(state.memory, deferred_since_ns=now_ns if decision.deferred else None)
        if state.last_sample_ns is None or now_ns - state.last_sample_ns >= self.settings.sample_interval_ns:
            self._sample(state, snapshot, risk, now_ns)
        if not decision.trigger and self.settings.quiet_windows:
            state.quiet = self._quiet_window(state, ladder, policy_input)

    def _quiet_window(self, state: _UnderlyingState, ladder: LadderRisk, policy_input: PolicyInput) -> QuietWindow | None:
        """Return the spots, times and costs around ``policy_input`` for which nothing can happen but a tick.

        Inside it the policy is silent (its ``quiet`` region), the ladder stays fresh and
        no sample is due, so ``_on_spot`` may return at once.
        """
        cells = ladder.cells()
        region = self.policy.quiet(policy_input, cells)
        run = None if region is None else region.run_around(ladder.cell_of(policy_input.risk.spot_usd))
        if region is None or run is None:
            return None
        until_ns = min(
            region.until_ns,
            ladder.built_ns + self.settings.ladder_max_age_ns + 1,
            state.last_sample_ns + self.settings.sample_interval_ns,  # type: ignore[operator]  (sampled above)
        )
        return QuietWindow(float(cells.spot_low_usd[run[0]]), float(cells.spot_high_usd[run[1]]), until_ns,
                           region.cost_fraction)

    def _rebalance(self, state: _UnderlyingState, decision: Decision, risk: RiskSnapshot, now_ns: int) -> None:
        spot_usd = risk.spot_usd
        self.book.set_spot(state.feed.underlying, spot_usd)
        self.book.advance_to(now_ns)
        fills = self.hedger.hedge(decision, risk, self.book, self.order_books, now_ns)
        self.recorder.fills.extend(fills)
        reference = state.oracle_usd if state.oracle_usd is not None else spot_usd
        state.memory = HedgeMemory(last_rebalance_ts_ns=now_ns, last_reference_usd=reference)
        state.hedging = self.hedger.working(state.feed.underlying)
        self._hedging = self._hedging or state.hedging
        self._positions_changed()

    def _positions_changed(self) -> None:
        """Mark every ladder, quiet window and liquidation level stale: positions and cash moved.

        Every underlying's ladder carries the rest of the book's equity, and every
        liquidation level depends on all the positions.
        """
        for other in self._states.values():
            other.ladder = None
            other.quiet = None
            other.liquidation_spots_usd = None

    def _sample(self, state: _UnderlyingState, snapshot: RiskSnapshot, risk: InterpolatedRisk, now_ns: int) -> None:
        """Record ``risk`` (after any rebalance at this instant) with the snapshot's liquidation distance."""
        self.recorder.samples.append(RiskSample(
            ts_ns=now_ns,
            underlying=snapshot.underlying,
            spot_usd=snapshot.spot_usd,
            delta_coin=risk.delta_coin,
            gamma_usd_per_pct=risk.gamma_coin_per_usd * snapshot.spot_usd**2 * 0.01,
            vega_usd_per_vol_pt=risk.vega_usd_per_vol * 0.01,
            weight=risk.delta_coin * snapshot.spot_usd / risk.equity_usd if risk.equity_usd > 0 else math.inf,
            equity_usd=risk.equity_usd,
            liquidation_distance=snapshot.liquidation_distance,
        ))
        state.last_sample_ns = now_ns

    def _risk_vol(self, underlying: str) -> float:
        """Return the vol the policy uses for risk: the flat vol, else the mean option vol, else 0."""
        market = self.book.market.underlying(underlying)
        if isinstance(market.vol, int | float):
            return float(market.vol)
        vols = list(market.option_vols.values())
        return sum(vols) / len(vols) if vols else 0.0

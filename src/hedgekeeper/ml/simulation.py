"""A fast hedging task for training and judging the gate: a short option book hedged with a perpetual.

The book is short ``n_options`` European calls (Black-Scholes at a fixed implied vol)
on one coin, hedged with a linear perpetual (delta 1, no funding). Prices come from
market events, recorded (``recorded_events``) or simulated (``spiky_events``), put on
a grid of ``step_s`` seconds; at every step the policy under test is asked through
the same ``Policy.decide(PolicyInput)`` the engine calls, with the book's delta,
gamma, leverage and distance to liquidation, the cost of trading (fee plus half the
quoted spread) and the causal market features of ``ml/features.py``. A rebalance
trades the delta into the decision's goal at that cost. No engine, no order book:
this is the frictionless-fill skeleton of ``backtest/`` (which runs the full loop),
fast enough to run dozens of policies over months of minutes.

Figures: cost is the fees and half-spreads paid (USD); hedging error is the
standard deviation of the hourly change of the hedged book's value before costs
(USD), as ``backtest.metrics.hedging_error_usd`` computes it.

``spiky_events`` simulates a regime with short-lived spikes: log-price = Brownian
motion + permanent (Merton) jumps + a transient component (jumps decaying with a
half-life of minutes). Liquidity-driven spikes come with a wider spread and a thin
book; permanent jumps come with one-sided order flow. These tells are what a model
can learn from; on recorded data they may be weaker or absent.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from hedgekeeper.backtest.metrics import hedging_error_usd
from hedgekeeper.market.events import MarketEvent, TopOfBook, Trade
from hedgekeeper.ml.features import MARKET_FEATURES, FeatureTracker
from hedgekeeper.policy.base import Policy
from hedgekeeper.policy.decision import Decision, Greek, HedgeMemory, PolicyInput, RiskSnapshot
from hedgekeeper.pricing.black_scholes import black_scholes_greeks

NS_PER_SECOND = 1_000_000_000
NS_PER_HOUR = 3600 * NS_PER_SECOND
SECONDS_PER_YEAR = 365.0 * 86_400.0
UNDERLYING = "BTC"


def spiky_events(
    rng: np.random.Generator,
    *,
    days: float = 30.0,
    step_s: float = 60.0,
    start_ns: int = 1_700_000_000 * NS_PER_SECOND,
    spot_usd: float = 60_000.0,
    vol: float = 0.5,
    jump_rate_per_day: float = 2.0,
    jump_vol_log: float = 0.01,
    spike_rate_per_day: float = 24.0,
    spike_vol_log: float = 0.015,
    spike_half_life_s: float = 180.0,
    spread_bps: float = 2.0,
    stream: str = "BTCUSD.SIM",
) -> list[MarketEvent]:
    """Return a top of book and a trade per step of a regime with short-lived spikes.

    Parameters
    ----------
    rng : np.random.Generator
    days : float, length, days
    step_s : float, seconds between events
    start_ns : int, first time, ns since the epoch
    spot_usd : float, first price, USD per coin
    vol : float, annualised vol of the diffusion, decimal
    jump_rate_per_day, jump_vol_log : permanent jumps: intensity per day, std of the log jump
    spike_rate_per_day, spike_vol_log : transient spikes: intensity per day, std of the log size
    spike_half_life_s : float, half-life of a spike's decay, seconds
    spread_bps : float, quoted spread in calm markets, basis points
    stream : str

    Returns
    -------
    list of TopOfBook and Trade, time-ordered
    """
    n = int(days * 86_400.0 / step_s)
    dt = step_s / SECONDS_PER_YEAR
    diffusion = vol * math.sqrt(dt) * rng.standard_normal(n) - 0.5 * vol * vol * dt
    jumps = (rng.random(n) < jump_rate_per_day * step_s / 86_400.0) * rng.normal(0.0, jump_vol_log, n)
    spikes = (rng.random(n) < spike_rate_per_day * step_s / 86_400.0) * rng.normal(0.0, spike_vol_log, n)
    decay = 0.5 ** (step_s / spike_half_life_s)
    transient = np.zeros(n)
    level = 0.0
    for i in range(n):
        level = level * decay + spikes[i]
        transient[i] = level
    log_price = math.log(spot_usd) + np.cumsum(diffusion + jumps) + transient
    price = np.exp(log_price)
    # Order flow: informed after permanent jumps (one-sided for ~10 steps), noise otherwise.
    informed = np.zeros(n)
    for i in np.flatnonzero(jumps):
        informed[i:i + 10] += np.sign(jumps[i])
    stress = np.abs(transient) / spike_vol_log
    volume = rng.gamma(2.0, 1.0, n) * (1.0 + 2.0 * np.abs(informed) + 0.5 * stress)
    spread = spread_bps * (1.0 + 3.0 * stress) * rng.uniform(0.8, 1.2, n) * 1e-4
    depth = rng.gamma(4.0, 0.5, n) / (1.0 + 2.0 * stress)
    tilt = np.clip(0.5 + 0.3 * np.sign(informed), 0.05, 0.95)
    events: list[MarketEvent] = []
    for i in range(n):
        ts = start_ns + int(i * step_s * NS_PER_SECOND)
        half = 0.5 * spread[i] * price[i]
        bid_size, ask_size = depth[i] * 2 * tilt[i], depth[i] * 2 * (1 - tilt[i])
        events.append(TopOfBook(ts, stream, price[i] - half, bid_size, price[i] + half, ask_size))
        side = np.sign(informed[i]) if informed[i] != 0 else (1 if rng.random() < 0.5 else -1)
        events.append(Trade(ts, stream, float(price[i]), float(volume[i]), int(side)))
    return events


def recorded_events(scenario_name: str, spread_bps: float = 1.0) -> Iterator[MarketEvent]:
    """Return the events of a recorded scenario (``market/replay/scenarios.py``)."""
    from hedgekeeper.market.replay.scenarios import scenario

    return scenario(scenario_name).events(spread_bps=spread_bps)


@dataclass(frozen=True)
class MarketPath:
    """Prices, costs and causal market features on a grid.

    Attributes
    ----------
    ts_ns : int64 array (T,), ns since the epoch
    spot_usd : array (T,), last trade (else mid) at or before each time, USD per coin
    cost_fraction : array (T,), fee plus half the last quoted spread, decimal per USD traded
    features : array (T, len(MARKET_FEATURES)), market features known at each time
    """

    ts_ns: NDArray[np.int64]
    spot_usd: NDArray[np.float64]
    cost_fraction: NDArray[np.float64]
    features: NDArray[np.float64]

    def window(self, start: int, stop: int) -> MarketPath:
        """Return steps ``start .. stop - 1``."""
        return MarketPath(self.ts_ns[start:stop], self.spot_usd[start:stop], self.cost_fraction[start:stop],
                          self.features[start:stop])


def market_path(events: Iterable[MarketEvent], *, step_s: float = 60.0, fee_fraction: float = 0.0005,
                stream: str | None = None) -> MarketPath:
    """Return the path of ``events`` (time-ordered) on a grid of ``step_s`` seconds.

    The features at a grid time are those of a ``FeatureTracker`` fed every event up
    to and including that time; nothing later.
    """
    tracker = FeatureTracker(step_s=step_s, streams=None if stream is None else (stream,))
    step_ns = int(step_s * NS_PER_SECOND)
    times, spots, costs, rows = [], [], [], []
    price: float | None = None
    half_spread = 0.0
    grid: int | None = None

    def close_until(ts_ns: int) -> None:
        nonlocal grid
        while grid is not None and grid < ts_ns and price is not None:
            times.append(grid)
            spots.append(price)
            costs.append(fee_fraction + half_spread)
            features = tracker.market_features(grid)
            rows.append([features[name] for name in MARKET_FEATURES])
            grid += step_ns

    for event in events:
        if stream is not None and getattr(event, "stream", None) != stream and isinstance(event, Trade | TopOfBook):
            continue
        if grid is None:
            grid = (event.ts_ns // step_ns + 1) * step_ns
        close_until(event.ts_ns)  # grid times before this event are final
        tracker.update(event)
        if isinstance(event, Trade):
            price = event.price_usd
        elif isinstance(event, TopOfBook) and event.ask_usd >= event.bid_usd > 0.0:
            mid = 0.5 * (event.bid_usd + event.ask_usd)
            half_spread = 0.5 * (event.ask_usd - event.bid_usd) / mid
            if price is None:
                price = mid
    return MarketPath(np.array(times, dtype=np.int64), np.array(spots), np.array(costs),
                      np.array(rows, dtype=np.float64).reshape(len(rows), len(MARKET_FEATURES)))


@dataclass(frozen=True)
class OptionBook:
    """A short position in European calls, marked with Black-Scholes at a fixed vol.

    Attributes
    ----------
    n_options : float, calls sold, coin of notional
    strike_usd : float, USD per coin
    expiry_ns : int, ns since the epoch
    vol : float, implied vol, annualised decimal
    collateral_usd : float, the margin account at the start, USD
    """

    n_options: float
    strike_usd: float
    expiry_ns: int
    vol: float
    collateral_usd: float

    def greeks(self, ts_ns: NDArray[np.int64], spot_usd: NDArray[np.float64]) -> tuple[NDArray[np.float64], ...]:
        """Return the book's value (USD), delta (coin) and gamma (coin per USD) at each time."""
        t_years = np.maximum((self.expiry_ns - ts_ns) / NS_PER_SECOND / SECONDS_PER_YEAR, 1e-6)
        greeks = black_scholes_greeks(spot_usd, self.strike_usd, t_years, self.vol, True)
        n = -self.n_options
        return n * greeks.price, n * greeks.delta, n * greeks.gamma


def at_the_money_book(path: MarketPath, *, n_options: float = 25.0, vol: float = 0.6,
                      leverage: float = 2.0) -> OptionBook:
    """Return a short book of 30-day at-the-money calls from the path's first time, ``leverage`` at the start."""
    spot = float(path.spot_usd[0])
    days = max((path.ts_ns[-1] - path.ts_ns[0]) / NS_PER_SECOND / 86_400.0, 1.0)
    expiry = int(path.ts_ns[0] + max(days, 30.0) * 86_400 * NS_PER_SECOND)
    return OptionBook(n_options, round(spot, -2), expiry, vol, n_options * spot / leverage)


@dataclass(frozen=True)
class HedgingTask:
    """A market path and the book hedged along it, with its Greeks precomputed."""

    name: str
    path: MarketPath
    book: OptionBook
    value_usd: NDArray[np.float64] = field(init=False)
    delta_coin: NDArray[np.float64] = field(init=False)
    gamma_coin_per_usd: NDArray[np.float64] = field(init=False)

    def __post_init__(self) -> None:
        value, delta, gamma = self.book.greeks(self.path.ts_ns, self.path.spot_usd)
        object.__setattr__(self, "value_usd", value)
        object.__setattr__(self, "delta_coin", delta)
        object.__setattr__(self, "gamma_coin_per_usd", gamma)


class FeatureRow(Mapping[str, float]):
    """The market features of one step, read by name without copying the row."""

    __slots__ = ("_row",)
    _index = {name: i for i, name in enumerate(MARKET_FEATURES)}

    def __init__(self, row: NDArray[np.float64]) -> None:
        self._row = row

    def __getitem__(self, name: str) -> float:
        return float(self._row[self._index[name]])

    def __iter__(self) -> Iterator[str]:
        return iter(MARKET_FEATURES)

    def __len__(self) -> int:
        return len(MARKET_FEATURES)


def liquidation_distance(equity_usd: float, delta_coin: float, gamma_coin_per_usd: float, spot_usd: float) -> float:
    """Return the smallest relative spot move taking equity to zero, to second order (inf if none within 100%).

    Solves ``equity + delta S m + gamma S^2 m^2 / 2 = 0`` for the move ``m`` on each side.

    >>> round(liquidation_distance(1000.0, -10.0, 0.0, 100.0), 4)
    1.0
    """
    if equity_usd <= 0.0:
        return 0.0
    a, b, c = 0.5 * gamma_coin_per_usd * spot_usd**2, delta_coin * spot_usd, equity_usd
    roots = []
    if abs(a) < 1e-12:
        if b != 0.0:
            roots.append(-c / b)
    else:
        disc = b * b - 4 * a * c
        if disc >= 0.0:
            roots += [(-b + math.sqrt(disc)) / (2 * a), (-b - math.sqrt(disc)) / (2 * a)]
    moves = [abs(m) for m in roots if -1.0 <= m <= 1.0 or abs(m) <= 1.0]
    return min(moves) if moves else math.inf


@dataclass
class HedgeRun:
    """What one policy did along one task.

    Attributes
    ----------
    label : str
    cost_usd : float, fees and half-spreads paid, USD
    hedging_error_usd : float, std of the hourly change of the hedged value before costs, USD
    rebalances, deferrals : int, steps that traded, steps a rebalance was deferred
    breaches : int, deferrals made past a hard limit (must be 0)
    hard_limit_steps : int, steps at which the book crossed ``HardLimits``' levels after the decision
    decisions : list of (step, hedge_coin, lower_coin, upper_coin, deferred_s) where a rule fired
    """

    label: str
    cost_usd: float = 0.0
    hedging_error_usd: float = math.nan
    rebalances: int = 0
    deferrals: int = 0
    breaches: int = 0
    hard_limit_steps: int = 0
    decisions: list[tuple[int, float, float, float, float]] = field(default_factory=list)


@dataclass(frozen=True)
class DeferralLimits:
    """The limits no deferral may pass; checked independently of the gate (counted as breaches).

    Attributes
    ----------
    max_deferral_s : float, seconds
    outer_band_multiple : float, the outer band's half-width over the rule's
    min_liquidation_distance : float, fraction
    max_leverage : float
    """

    max_deferral_s: float
    outer_band_multiple: float
    min_liquidation_distance: float
    max_leverage: float


def run_policy(task: HedgingTask, policy: Policy, label: str, *, limits: DeferralLimits | None = None,
               hard_min_liquidation_distance: float = 0.0, hard_max_leverage: float = math.inf,
               with_features: bool = True, record_decisions: bool = False,
               counterfactual_steps: int = 0, initial_hedge_coin: float = 0.0) -> HedgeRun:
    """Run ``policy`` along ``task``; return its cost, hedging error, deferrals and breaches.

    Parameters
    ----------
    task : HedgingTask
    policy : Policy (a ``HardLimits`` from ``build_policy``, or any policy)
    label : str, names the run
    limits : DeferralLimits or None, the limits a deferral is checked against
    hard_min_liquidation_distance, hard_max_leverage : the ``HardLimits`` levels, for counting
    with_features : bool, hand the market features to the policy
    record_decisions : bool, keep every step at which a rule fired (for labels)
    counterfactual_steps : int, also record, for this many steps after each firing,
        the states of the book had it not traded (as a gate deferring would see them)
    initial_hedge_coin : float, the hedge held at the start (bought for nothing), coin
    """
    path, book = task.path, task.book
    spot, ts, costs = path.spot_usd, path.ts_ns, path.cost_fraction
    delta_book, gamma_book, value = task.delta_coin, task.gamma_coin_per_usd, task.value_usd
    run = HedgeRun(label)
    hedge = initial_hedge_coin
    cash = 0.0  # hedge P&L booked so far, USD
    paid = 0.0
    memory = HedgeMemory()
    hour_marks: list[float] = []
    next_hour = ts[0]
    deferred_since: int | None = None
    for i in range(len(spot)):
        s = float(spot[i])
        if i > 0:
            cash += hedge * (s - float(spot[i - 1]))
        delta = float(delta_book[i]) + hedge
        equity = book.collateral_usd + float(value[i] - value[0]) + cash - paid
        gross = (book.n_options + abs(hedge)) * s
        leverage = gross / equity if equity > 0 else math.inf
        distance = liquidation_distance(equity, delta, float(gamma_book[i]), s)
        snapshot = RiskSnapshot(int(ts[i]), UNDERLYING, s, delta, float(gamma_book[i]), 0.0,
                                delta * s / equity if equity > 0 else math.inf, leverage, distance)
        state = PolicyInput(snapshot, memory, None, float(costs[i]),
                            FeatureRow(path.features[i]) if with_features else None)
        decision = policy.decide(state)
        if decision.trigger and record_decisions:
            band = decision.goal.get(Greek.DELTA_COIN)
            if band is not None and band[1] > band[0]:
                deferred_s = 0.0 if memory.deferred_since_ns is None else (ts[i] - memory.deferred_since_ns) / 1e9
                run.decisions.append((i, hedge, band[0], band[1], deferred_s))
                for k in range(1, counterfactual_steps + 1):
                    j = i + k
                    if j >= len(spot) or not (delta_book[j] + hedge > band[1] or delta_book[j] + hedge < band[0]):
                        break
                    run.decisions.append((j, hedge, band[0], band[1], (ts[j] - ts[i]) / 1e9))
        if decision.act:
            lower, upper = decision.goal.get(Greek.DELTA_COIN, (-math.inf, math.inf))
            trade = min(max(delta, lower), upper) - delta
            if trade != 0.0:
                hedge += trade
                paid += abs(trade) * s * float(costs[i])
                run.rebalances += 1
            memory = HedgeMemory(last_rebalance_ts_ns=int(ts[i]), last_reference_usd=s)
            deferred_since = None
        elif decision.deferred:
            run.deferrals += 1
            deferred_since = deferred_since if deferred_since is not None else int(ts[i])
            memory = HedgeMemory(memory.last_rebalance_ts_ns, memory.last_reference_usd, deferred_since)
            if limits is not None and deferral_past_limits(decision, snapshot, deferred_since, limits):
                run.breaches += 1
        elif deferred_since is not None:
            deferred_since = None
            memory = HedgeMemory(memory.last_rebalance_ts_ns, memory.last_reference_usd)
        after = float(delta_book[i]) + hedge
        equity_after = book.collateral_usd + float(value[i] - value[0]) + cash - paid
        if (liquidation_distance(equity_after, after, float(gamma_book[i]), s) < hard_min_liquidation_distance
                or (book.n_options + abs(hedge)) * s > hard_max_leverage * max(equity_after, 1e-9)):
            run.hard_limit_steps += 1
        if ts[i] >= next_hour:
            hour_marks.append(book.collateral_usd + float(value[i] - value[0]) + cash)
            next_hour += NS_PER_HOUR
    run.cost_usd = paid
    run.hedging_error_usd = hedging_error_usd(hour_marks)
    return run


def deferral_past_limits(decision: Decision, snapshot: RiskSnapshot, deferred_since_ns: int,
                         limits: DeferralLimits) -> bool:
    """Return whether deferring ``decision`` at ``snapshot`` passes a limit (a breach).

    A deferral is past a limit when it has lasted longer than ``max_deferral_s`` since
    ``deferred_since_ns``, when the delta lies beyond the outer band around the
    decision's delta goal, or when the book is closer to liquidation or more levered
    than the limits allow. The check is independent of the gate's own refusals.
    """
    band = decision.goal.get(Greek.DELTA_COIN)
    if (snapshot.ts_ns - deferred_since_ns) / 1e9 > limits.max_deferral_s:
        return True
    if band is not None and band[1] > band[0]:
        centre, half = 0.5 * (band[0] + band[1]), 0.5 * (band[1] - band[0])
        if abs(snapshot.delta_coin - centre) > limits.outer_band_multiple * half * (1 + 1e-12):
            return True
    return (snapshot.liquidation_distance < limits.min_liquidation_distance
            or snapshot.leverage > limits.max_leverage)

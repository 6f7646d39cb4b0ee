"""Market features for the ML gate, computed causally and incrementally from market events.

``FeatureTracker`` is fed every valid event in time order (``update``) and, asked at a
time ``ts_ns`` (``market_features``), returns what the events seen so far say: nothing
from an event after ``ts_ns`` can enter, since the tracker has not seen it. All state
is O(1) per event (exponentially weighted moments, a few ring buffers), so the same
tracker runs in the live loop and in a backtest; a level-2 stream's deltas also keep
an ``OrderBook``, whose top is read (a delta's first levels are the levels it
changed, not the best bid and ask).

Features (``MARKET_FEATURES``), on the returns of the reference price (the trade
price, else the book's mid) sampled on a fixed grid of ``step_s`` seconds:

- ``rv_<h>``: realized volatility over an exponential window of ``h`` steps
  (half-life), annualised, decimal;
- ``vol_of_vol``: exponentially weighted std of log(rv_short / rv_long), decimal;
- ``ret_<k>``: log return over the last ``k`` steps, in units of the long realized
  vol over those ``k`` steps (a z-score, dimensionless);
- ``autocorr_1``: lag-1 autocorrelation of step returns, exponentially weighted, in [-1, 1];
- ``ofi``: order-flow imbalance of the top of book (Cont, Kukanov and Stoikov, 2014),
  exponentially weighted and divided by the mean top depth, dimensionless;
- ``vpin``: order-flow toxicity (Easley, Lopez de Prado and O'Hara, 2012) with bulk
  volume classification: each step's volume splits into buys ``V Phi(dp / sigma_dp)``
  and sells; VPIN is ``sum |buy - sell| / sum V`` over the last ``vpin_buckets`` steps;
- ``spread_bps``: the last quoted spread over the mid, basis points;
- ``depth_imbalance``: (bid size - ask size) / (bid size + ask size) at the top;
- ``jump``: 1 when the last step's |return| exceeded ``jump_threshold`` times the
  bipower-variation vol (Barndorff-Nielsen and Shephard, 2004), else 0;
  ``jump_rate``: its exponentially weighted mean;
- ``funding_rate``: the last funding rate, decimal per funding interval.

The position features (the deviation relative to the band, the time since the last
rebalance, how long a rebalance has been deferred) come from the ``PolicyInput``
(``position_features``), not from the market.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Iterable, Mapping

from hedgekeeper.market.events import BookUpdate, Funding, MarketEvent, TopOfBook, Trade
from hedgekeeper.market.order_book import OrderBook

NS_PER_SECOND = 1_000_000_000
SECONDS_PER_YEAR = 365.0 * 86_400.0

RV_HORIZONS = (5, 30, 240)
"""Half-lives of the realized-vol windows, in steps."""
RETURN_HORIZONS = (1, 5, 30)
"""Lags of the return features, in steps."""

MARKET_FEATURES: tuple[str, ...] = (
    *(f"rv_{h}" for h in RV_HORIZONS),
    "vol_of_vol",
    *(f"ret_{k}" for k in RETURN_HORIZONS),
    "autocorr_1",
    "ofi",
    "vpin",
    "spread_bps",
    "depth_imbalance",
    "jump",
    "jump_rate",
    "funding_rate",
)
POSITION_FEATURES: tuple[str, ...] = (
    "deviation_ratio", "excess_ratio", "since_rebalance_s", "deferred_s", "deviation_usd_per_rv",
)
FEATURES: tuple[str, ...] = MARKET_FEATURES + POSITION_FEATURES
"""Every feature the gate's model reads, in the model's column order."""


def _alpha(half_life_steps: float) -> float:
    return 1.0 - 0.5 ** (1.0 / half_life_steps)


def _normal_cdf(x: float) -> float:
    return 0.5 * (1.0 + math.erf(x / math.sqrt(2.0)))


class FeatureTracker:
    """Keep the market features of one price stream, updated event by event.

    Parameters
    ----------
    step_s : float, seconds between samples of the reference price, > 0
    vpin_buckets : int, steps summed by VPIN, >= 1
    jump_threshold : float, |return| over bipower vol above which a step is a jump
    streams : iterable of str or None, the streams to read (None: all)

    Examples
    --------
    >>> from hedgekeeper.market.events import Trade
    >>> tracker = FeatureTracker(step_s=60.0)
    >>> for minute, price in enumerate([100.0, 101.0, 100.0, 101.0, 100.0]):
    ...     tracker.update(Trade(minute * 60 * 10**9, "BTC", price, 1.0, 1))
    >>> tracker.market_features(300 * 10**9)["autocorr_1"] < -0.5  # returns alternate
    True
    """

    def __init__(self, step_s: float = 60.0, vpin_buckets: int = 50, jump_threshold: float = 4.0,
                 streams: Iterable[str] | None = None) -> None:
        self.step_s = step_s
        self.vpin_buckets = vpin_buckets
        self.jump_threshold = jump_threshold
        self.streams = None if streams is None else frozenset(streams)
        self._step_ns = int(step_s * NS_PER_SECOND)
        self._bin: int | None = None
        self._price: float | None = None  # latest reference price
        self._bin_open: float | None = None  # reference price at the end of the last closed step
        self._bin_volume = 0.0
        self._prices: deque[float] = deque(maxlen=max(RETURN_HORIZONS) + 1)
        self._var = {h: 0.0 for h in RV_HORIZONS}
        self._warm = 0
        self._log_ratio_mean = 0.0
        self._log_ratio_var = 0.0
        self._last_return = 0.0
        self._cov1 = 0.0
        self._var1 = 0.0
        self._abs_product = 0.0  # bipower: EW mean of |r_t| |r_{t-1}|
        self._jump = 0.0
        self._jump_rate = 0.0
        self._vpin: deque[tuple[float, float]] = deque(maxlen=vpin_buckets)
        self._top: tuple[float, float, float, float] | None = None  # bid, bid size, ask, ask size
        self._ofi = 0.0
        self._depth = 0.0
        self._funding = 0.0
        self._book: OrderBook | None = None  # level-2 streams only: the book their deltas build

    def update(self, event: MarketEvent) -> None:
        """Take one event (time-ordered); events of other kinds or streams are ignored."""
        if self.streams is not None and getattr(event, "stream", None) not in self.streams:
            return
        if isinstance(event, Funding):
            self._funding = event.rate
            return
        if isinstance(event, Trade):
            self._roll(event.ts_ns)
            self._price = event.price_usd
            self._bin_volume += event.size_coin
        elif isinstance(event, TopOfBook):
            self._roll(event.ts_ns)
            if self._book is not None:
                self._book.apply(event)
            self._quote(event.bid_usd, event.bid_size_coin, event.ask_usd, event.ask_size_coin)
        elif isinstance(event, BookUpdate):
            # A delta's first levels are the levels it changed, not the top: keep the book, read its top.
            self._roll(event.ts_ns)
            if self._book is None:
                self._book = OrderBook()
            self._book.apply(event)
            if not self._book.is_crossed and self._book.best_bid_usd is not None and self._book.best_ask_usd is not None:
                (bid, bid_size), (ask, ask_size) = self._book.levels(-1)[0], self._book.levels(1)[0]
                self._quote(bid, bid_size, ask, ask_size)

    def __call__(self, event: MarketEvent) -> None:
        """Take one event: a tracker is an engine listener."""
        self.update(event)

    def _quote(self, bid: float, bid_size: float, ask: float, ask_size: float) -> None:
        if not (bid > 0.0 and ask >= bid):
            return
        if self._top is not None:
            old_bid, old_bid_size, old_ask, old_ask_size = self._top
            flow = ((bid_size if bid >= old_bid else 0.0) - (old_bid_size if bid <= old_bid else 0.0)
                    - (ask_size if ask <= old_ask else 0.0) + (old_ask_size if ask >= old_ask else 0.0))
            self._ofi += _alpha(30) * (flow - self._ofi)
        self._depth += _alpha(30) * (bid_size + ask_size - self._depth)
        self._top = (bid, bid_size, ask, ask_size)
        if self._price is None or self._bin_volume == 0.0:
            self._price = 0.5 * (bid + ask)

    def _roll(self, ts_ns: int) -> None:
        # Close every step that ended before ts_ns, with the reference price at its end.
        index = ts_ns // self._step_ns
        if self._bin is None or self._price is None:
            self._bin = index
            return
        gap = index - self._bin
        if gap <= 0:
            return
        for _ in range(min(gap, 10)):  # empty steps: the price stood still (a long gap counts as ten)
            self._close_step(self._price)
        self._bin = index

    def _close_step(self, price: float) -> None:
        previous = self._bin_open
        self._bin_open = price
        self._prices.append(price)
        volume, self._bin_volume = self._bin_volume, 0.0
        if previous is None:
            return
        r = math.log(price / previous)
        self._warm += 1
        for h in RV_HORIZONS:
            self._var[h] += (_alpha(h) if self._warm > 1 else 1.0) * (r * r - self._var[h])
        short, long = self._var[RV_HORIZONS[0]], self._var[RV_HORIZONS[-1]]
        if short > 0.0 and long > 0.0:
            ratio = 0.5 * math.log(short / long)
            a = _alpha(60)
            delta = ratio - self._log_ratio_mean
            self._log_ratio_mean += a * delta
            self._log_ratio_var = (1.0 - a) * (self._log_ratio_var + a * delta * delta)
        a = _alpha(60)
        self._cov1 += a * (r * self._last_return - self._cov1)
        self._var1 += a * (r * r - self._var1)
        bipower = math.pi / 2.0 * self._abs_product
        warm = self._warm > 30  # bipower variation needs a few dozen steps
        self._jump = 1.0 if warm and bipower > 0.0 and abs(r) > self.jump_threshold * math.sqrt(bipower) else 0.0
        self._jump_rate += _alpha(240) * (self._jump - self._jump_rate)
        self._abs_product += _alpha(240) * (abs(r) * abs(self._last_return) - self._abs_product)
        self._last_return = r
        sigma = math.sqrt(self._var[RV_HORIZONS[-1]])
        buy_fraction = _normal_cdf(r / sigma) if sigma > 0.0 else 0.5
        self._vpin.append((volume, abs(2.0 * buy_fraction - 1.0) * volume))

    def market_features(self, ts_ns: int) -> dict[str, float]:
        """Return the market features known at ``ts_ns`` (see the module docstring for units).

        Steps that ended by ``ts_ns`` are closed first, so the answer does not depend
        on whether an event arrived at ``ts_ns`` exactly.
        """
        self._roll(ts_ns)
        per_year = SECONDS_PER_YEAR / self.step_s
        features = {f"rv_{h}": math.sqrt(self._var[h] * per_year) for h in RV_HORIZONS}
        features["vol_of_vol"] = math.sqrt(self._log_ratio_var)
        step_vol = math.sqrt(self._var[RV_HORIZONS[-1]])
        prices = self._prices
        for k in RETURN_HORIZONS:
            if len(prices) > k and step_vol > 0.0:
                features[f"ret_{k}"] = math.log(prices[-1] / prices[-1 - k]) / (step_vol * math.sqrt(k))
            else:
                features[f"ret_{k}"] = 0.0
        features["autocorr_1"] = self._cov1 / self._var1 if self._var1 > 0.0 else 0.0
        features["ofi"] = self._ofi / self._depth if self._depth > 0.0 else 0.0
        total = sum(volume for volume, _ in self._vpin)
        features["vpin"] = sum(imbalance for _, imbalance in self._vpin) / total if total > 0.0 else 0.0
        if self._top is not None:
            bid, bid_size, ask, ask_size = self._top
            features["spread_bps"] = (ask - bid) / (0.5 * (ask + bid)) * 1e4
            depth = bid_size + ask_size
            features["depth_imbalance"] = (bid_size - ask_size) / depth if depth > 0.0 else 0.0
        else:
            features["spread_bps"] = features["depth_imbalance"] = 0.0
        features["jump"] = self._jump
        features["jump_rate"] = self._jump_rate
        features["funding_rate"] = self._funding
        return features


class UnderlyingFeatures:
    """One ``FeatureTracker`` per underlying, fed from the events of its spot stream.

    Pass the instance as an engine listener and its ``features`` as the engine's
    ``features`` hook.

    Parameters
    ----------
    spot_streams : mapping from underlying to the stream whose events it reads
    step_s : float, seconds between samples of the reference price
    """

    def __init__(self, spot_streams: Mapping[str, str], step_s: float = 60.0) -> None:
        self.spot_streams = dict(spot_streams)
        self.step_s = step_s
        self._trackers = {u: FeatureTracker(step_s=step_s) for u in self.spot_streams}
        self._by_stream = {stream: self._trackers[u] for u, stream in self.spot_streams.items()}

    def __call__(self, event: MarketEvent) -> None:
        """Feed ``event`` to the tracker of its stream, funding to every tracker."""
        if isinstance(event, Funding):
            for tracker in self._trackers.values():
                tracker.update(event)
            return
        tracker = self._by_stream.get(getattr(event, "stream", ""))
        if tracker is not None:
            tracker.update(event)

    def features(self, underlying: str, ts_ns: int) -> dict[str, float]:
        """Return the market features of ``underlying`` known at ``ts_ns``."""
        return self._trackers[underlying].market_features(ts_ns)


def position_features(delta_coin: float, band: tuple[float, float], spot_usd: float, ts_ns: int,
                      last_rebalance_ts_ns: int | None, deferred_since_ns: int | None,
                      realized_vol: float) -> dict[str, float]:
    """Return the features of the position against its band.

    Parameters
    ----------
    delta_coin : float, the book's delta, coin
    band : (lower, upper), the band the rule holds delta in, coin
    spot_usd : float, USD per coin
    ts_ns : int, now, ns since the epoch
    last_rebalance_ts_ns, deferred_since_ns : int or None, ns since the epoch
    realized_vol : float, annualised, decimal (scales the deviation to a one-hour move)

    Returns
    -------
    dict: ``deviation_ratio`` (delta minus band centre over half-width), ``excess_ratio``
    (distance outside the band over half-width), ``since_rebalance_s`` and
    ``deferred_s`` (seconds, 0 when none), ``deviation_usd_per_rv`` (log of the USD
    excess over the USD a one-hour 1-sigma move of one coin makes)

    >>> features = position_features(1.5, (-1.0, 1.0), 100.0, 10**9, 0, None, 0.5)
    >>> features["deviation_ratio"], features["excess_ratio"], features["since_rebalance_s"]
    (1.5, 0.5, 1.0)
    """
    lower, upper = band
    centre, half = 0.5 * (lower + upper), 0.5 * (upper - lower)
    half = half if half > 0.0 else 1e-12
    excess = delta_coin - min(max(delta_coin, lower), upper)
    hour_move_usd = spot_usd * max(realized_vol, 1e-4) * math.sqrt(3600.0 / SECONDS_PER_YEAR)
    return {
        "deviation_ratio": (delta_coin - centre) / half,
        "excess_ratio": abs(excess) / half,
        "since_rebalance_s": 0.0 if last_rebalance_ts_ns is None else (ts_ns - last_rebalance_ts_ns) / 1e9,
        "deferred_s": 0.0 if deferred_since_ns is None else (ts_ns - deferred_since_ns) / 1e9,
        "deviation_usd_per_rv": math.log1p(abs(excess) * hour_move_usd),
    }

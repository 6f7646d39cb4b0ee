"""The configuration of a simulated market: model, scenarios, venues, options and oracles.

A TOML example (times in ns since the epoch, UTC; 1_750_000_000_000_000_000 is
2025-06-15T15:06:40Z)::

    seed = 7
    start_ts_ns = 1_750_000_000_000_000_000
    step_s = 1.0
    duration_s = 86_400.0
    spot_usd = 100_000.0

    [model]
    kind = "heston"                  # gbm, heston, merton, regime_switching
    drift = 0.0
    initial_variance = 0.25
    long_run_variance = 0.25
    mean_reversion_per_year = 5.0
    vol_of_variance = 1.5
    correlation = -0.4

    [[scenarios]]
    kind = "flash_crash"             # or crash_day
    start_s = 43_200.0
    drop_fraction = 0.1
    drop_s = 20.0
    recovery_s = 600.0
    vol_multiplier = 3.0

    [[venues]]
    stream = "BTC-PERPETUAL.DERIBIT"
    top_of_book = true
    level2_book = false
    trades = { trades_per_second = 2.0, mean_size_coin = 0.2 }
    funding = { base_rate = 0.0001, premium_sensitivity = 0.05, cap = 0.0075 }
    [venues.book]
    level_count = 10
    base_spread_bps = 0.5
    spread_bps_per_vol = 2.0
    base_depth_coin = 5.0
    depth_decay_per_vol = 0.5
    depth_decay_per_level = 0.1
    tick_size_usd = 0.5

    [options]
    quote = { base_spread_vol = 0.01, spread_per_vol = 0.02 }
    [options.surface]
    long_run_vol = 0.5
    mean_reversion_per_year = 5.0
    calm_vol = 0.4
    stressed_vol = 1.2
    calm_rho = -0.2
    stressed_rho = -0.6
    calm_eta = 1.0
    stressed_eta = 1.2
    [[options.instruments]]
    stream = "BTC-27JUN25-100000-C.DERIBIT"
    strike_usd = 100_000.0
    expiry_ts_ns = 1_751_011_200_000_000_000

    [[oracles]]
    stream = "BTC/USD"
    deviation_threshold = 0.005
    heartbeat_s = 3600.0

Load it with ``hedgekeeper.config.validate(SimulationConfig, load_toml(path))``: a bad
field is a ``ConfigError`` naming it.
"""

from __future__ import annotations

from collections import Counter

import pydantic

from hedgekeeper.config import StrictModel
from hedgekeeper.market.simulators.books import BookParameters
from hedgekeeper.market.simulators.funding import FundingParameters
from hedgekeeper.market.simulators.market_path import NS_PER_SECOND, ModelParameters
from hedgekeeper.market.simulators.option_quotes import OptionQuoteParameters
from hedgekeeper.market.simulators.oracle import OracleParameters
from hedgekeeper.market.simulators.scenarios import Scenario
from hedgekeeper.market.simulators.surface_dynamics import SurfaceParameters
from hedgekeeper.market.simulators.trades import TradeParameters

STEP_TOLERANCE = 1e-9
"""Relative tolerance on ``duration_s`` being a whole number of steps."""


class VenueParameters(StrictModel):
    """One venue's instrument on the simulated underlying, and what it emits.

    Attributes
    ----------
    stream : str, the instrument id of its events, e.g. 'BTC-PERPETUAL.DERIBIT'
    mid_offset_bps : float, the venue's mid against the simulated spot, basis points
    book : BookParameters
    top_of_book : bool, emit ``TopOfBook`` events
    level2_book : bool, emit ``BookUpdate`` snapshots of ``book.level_count`` levels
    interval_steps : int, emit the book every this many steps, ``>= 1``
    trades : TradeParameters or None, emit ``Trade`` prints at the touch
    funding : FundingParameters or None, emit ``Funding`` events (perpetuals)
    """

    stream: str
    mid_offset_bps: float = 0.0
    book: BookParameters
    top_of_book: bool = True
    level2_book: bool = False
    interval_steps: int = pydantic.Field(default=1, ge=1)
    trades: TradeParameters | None = None
    funding: FundingParameters | None = None


class OptionInstrumentParameters(StrictModel):
    """An option quoted by the simulator.

    Attributes
    ----------
    stream : str, its instrument id
    strike_usd : float, USD per coin, ``> 0``
    expiry_ts_ns : int, ns since the epoch, UTC; quotes stop at expiry
    """

    stream: str
    strike_usd: float = pydantic.Field(gt=0.0)
    expiry_ts_ns: int


class OptionsParameters(StrictModel):
    """The options market: its instruments, its surface dynamics and its quote widths.

    Attributes
    ----------
    instruments : list of OptionInstrumentParameters, at least one
    surface : SurfaceParameters
    quote : OptionQuoteParameters
    interval_steps : int, emit quotes every this many steps, ``>= 1``
    """

    instruments: list[OptionInstrumentParameters] = pydantic.Field(min_length=1)
    surface: SurfaceParameters
    quote: OptionQuoteParameters
    interval_steps: int = pydantic.Field(default=1, ge=1)


class SimulationConfig(StrictModel):
    """A simulated market run: same configuration and seed, same events.

    Attributes
    ----------
    seed : int, ``>= 0``; the only source of randomness
    start_ts_ns : int, the first event time, ns since the epoch, UTC, ``>= 0``
    step_s : float, the time step, seconds, ``> 0`` (a whole number of ns)
    duration_s : float, the simulated time, seconds, a whole number ``>= 1`` of steps;
        events cover ``[start, start + duration)``
    spot_usd : float, the spot at the start, USD per coin, ``> 0``
    model : GbmParameters, HestonParameters, MertonParameters or RegimeSwitchingParameters
    scenarios : list of CrashDay or FlashCrash, timed from the start
    venues : list of VenueParameters
    options : OptionsParameters or None
    oracles : list of OracleParameters
    chunk_steps : int, steps turned into events at a time, ``>= 1``; it changes memory
        use, never the events
    """

    seed: int = pydantic.Field(ge=0)
    start_ts_ns: int = pydantic.Field(ge=0)
    step_s: float = pydantic.Field(gt=0.0)
    duration_s: float = pydantic.Field(gt=0.0)
    spot_usd: float = pydantic.Field(gt=0.0)
    model: ModelParameters
    scenarios: list[Scenario] = []
    venues: list[VenueParameters] = []
    options: OptionsParameters | None = None
    oracles: list[OracleParameters] = []
    chunk_steps: int = pydantic.Field(default=4096, ge=1)

    @pydantic.field_validator("step_s")
    @classmethod
    def _step_is_whole_nanoseconds(cls, value: float) -> float:
        if round(value * NS_PER_SECOND) < 1:
            raise ValueError(f"step_s {value} is shorter than one nanosecond")
        return value

    @pydantic.field_validator("duration_s")
    @classmethod
    def _duration_is_whole_steps(cls, value: float, info: pydantic.ValidationInfo) -> float:
        step_s = info.data.get("step_s")
        if step_s is None:
            return value
        steps = round(value / step_s)
        if steps < 1:
            raise ValueError(f"duration_s {value} holds no step of {step_s} s (zero steps)")
        if abs(steps * step_s - value) > STEP_TOLERANCE * value:
            raise ValueError(f"duration_s {value} is not a whole number of steps of {step_s} s")
        return value

    @pydantic.model_validator(mode="after")
    def _streams_unique(self) -> SimulationConfig:
        streams = [venue.stream for venue in self.venues]
        streams += [oracle.stream for oracle in self.oracles]
        if self.options is not None:
            streams += [option.stream for option in self.options.instruments]
        repeated = sorted(stream for stream, count in Counter(streams).items() if count > 1)
        if repeated:
            raise ValueError(
                f"venues, options.instruments and oracles repeat the streams {repeated}"
            )
        return self

    @property
    def step_ns(self) -> int:
        """Return the step, ns."""
        return round(self.step_s * NS_PER_SECOND)

    @property
    def step_count(self) -> int:
        """Return the number of steps, each one event time."""
        return round(self.duration_s / self.step_s)

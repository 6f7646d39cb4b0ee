"""The backtest file: a book, a market source, a policy, how to hedge, and what to compare.

One TOML file holds everything a backtest needs; every table is validated on load
and a bad field is a ``ConfigError`` naming it:

- the book, exactly as for ``hedgekeeper risk`` (``as_of``, ``[[instruments]]``,
  ``[[positions]]``, ``[[balances]]``, ``[market.<coin>]``, ``[margin]``,
  ``[profile.<coin>]``: see ``portfolio/config.py`` and ``policy/risk_profile.py``);
- ``[simulation]`` (``market/simulators/config.py``) or ``[replay]``
  (``market/replay``): where the events come from;
- ``[policy]`` (``policy/config.py``): when to act;
- ``[hedging]``: which instruments may be traded, per underlying, and the feeds;
- ``[fees.venues.<venue>]``: taker and maker rates;
- ``[engine]``: sampling and revaluation intervals;
- ``[backtest]``: the run's name and output folder;
- ``[chain]`` (optional, ``backtest/chain.py``): a pool deployed on an EVM at the
  start, where a spot instrument's hedges are swapped, paying gas;
- ``[[sweep]]``: policy variants run on the same events, for the cost-versus-risk
  frontier; each gives a ``label`` and a ``policy`` table merged over ``[policy]``.

An example is ``examples/backtest_short_call.toml``.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Protocol, TypeVar

import pydantic

from hedgekeeper.backtest.chain import ChainConfig, check_chain_config
from hedgekeeper.config import StrictModel, load_toml, validate
from hedgekeeper.engine.loop import EngineSettings, UnderlyingFeed
from hedgekeeper.errors import ConfigError
from hedgekeeper.execution.fees import FeeSchedule
from hedgekeeper.execution.pacing import AlmgrenChrissPacing, Pacing, TwapPacing
from hedgekeeper.execution.safety import SafetyLimits
from hedgekeeper.market.simulators.config import SimulationConfig
from hedgekeeper.policy.config import PolicyConfig, load_policy_config
from hedgekeeper.policy.risk_profile import RiskProfile, load_risk_profile
from hedgekeeper.portfolio.config import Book, parse_book

NS_PER_SECOND = 1_000_000_000
_BOOK_KEYS = ("as_of", "instruments", "positions", "balances", "market", "margin", "profile")


class _MarketTables(Protocol):
    """What the book is checked against: the tables of a backtest or service file that name the market."""

    @property
    def simulation(self) -> SimulationConfig | None:
        """Return the simulated market (None for a replayed or live one)."""
        ...

    @property
    def hedging(self) -> HedgingConfig:
        """Return the hedged underlyings and their instruments."""
        ...


FileT = TypeVar("FileT", bound=_MarketTables)


class HedgeInstrumentEntry(StrictModel):
    """One instrument the hedger may trade."""

    instrument_id: str = pydantic.Field(min_length=1)
    book_stream: str | None = None
    max_position_contracts: float = pydantic.Field(float("inf"), gt=0)


class UnderlyingHedging(StrictModel):
    """How one underlying is watched and hedged."""

    spot_stream: str = pydantic.Field(min_length=1)
    oracle_stream: str | None = None
    instruments: list[HedgeInstrumentEntry] = pydantic.Field(min_length=1)


class HedgingConfig(StrictModel):
    """The ``[hedging]`` table: per underlying, its feeds and hedge instruments."""

    option_vol_spread: float = pydantic.Field(0.02, ge=0.0, lt=1.0)
    underlyings: dict[str, UnderlyingHedging] = pydantic.Field(min_length=1)

    def feeds(self) -> list[UnderlyingFeed]:
        """Return the engine's feed per hedged underlying."""
        return [UnderlyingFeed(underlying=name, spot_stream=entry.spot_stream, oracle_stream=entry.oracle_stream)
                for name, entry in self.underlyings.items()]


class EngineConfig(StrictModel):
    """The ``[engine]`` table, in seconds (see ``engine.loop.EngineSettings``)."""

    sample_interval_s: float = pydantic.Field(60.0, gt=0)
    ladder_max_age_s: float = pydantic.Field(300.0, gt=0)
    liquidation_max_age_s: float = pydantic.Field(3600.0, gt=0)
    max_event_delay_s: float = pydantic.Field(5.0, gt=0)
    max_oracle_age_s: float = pydantic.Field(3600.0, gt=0)
    idle_fill_poll_s: float = pydantic.Field(10.0, ge=0)

    def settings(self) -> EngineSettings:
        """Return the loop's settings in nanoseconds."""
        return EngineSettings(
            sample_interval_ns=int(self.sample_interval_s * NS_PER_SECOND),
            ladder_max_age_ns=int(self.ladder_max_age_s * NS_PER_SECOND),
            liquidation_max_age_ns=int(self.liquidation_max_age_s * NS_PER_SECOND),
            idle_fill_poll_ns=int(self.idle_fill_poll_s * NS_PER_SECOND),
        )


class AlmgrenChrissConfig(StrictModel):
    """The ``[execution.almgren_chriss]`` table: pace hedges on the Almgren-Chriss trajectory.

    The model is calibrated on the book at each hedge's arrival (``execution/pacing.py``).

    Attributes
    ----------
    interval_s : seconds between slices, the time the book is taken to refill
    vol : annualised volatility of the underlying, decimal (0.6 is 60%)
    risk_aversion_per_usd : absolute risk aversion, per USD: higher trades faster
    depth_bps : the distance from the mid over which the book's depth is read, basis points
    max_slices : the most slices a hedge is cut into
    """

    interval_s: float = pydantic.Field(gt=0.0)
    vol: float = pydantic.Field(ge=0.0)
    risk_aversion_per_usd: float = pydantic.Field(ge=0.0)
    depth_bps: float = pydantic.Field(10.0, gt=0.0)
    max_slices: int = pydantic.Field(100, ge=1)

    def pacing(self) -> AlmgrenChrissPacing:
        """Return the pacing these settings describe."""
        return AlmgrenChrissPacing(int(self.interval_s * NS_PER_SECOND), self.vol, self.risk_aversion_per_usd,
                                   self.depth_bps, self.max_slices)


class ExecutionConfig(StrictModel):
    """The ``[execution]`` table: how hedges reach the simulated exchanges.

    Each venue of a hedged future or perpetual is a simulated exchange
    (``venues/simulated/``) fed by the replayed or simulated book, holding the
    book's balances of that venue; hedges go to it as immediate-or-cancel slices
    (``execution/exchange_executor.py``) through the order manager and the safety
    limits. Options without a book trade off the model price.

    Attributes
    ----------
    slices : child orders per hedge (1: at once), a TWAP
    interval_s : seconds between TWAP slices
    almgren_chriss : pace hedges on the Almgren-Chriss trajectory instead of a TWAP, or none
    protection_bps : how far through the mid a child's limit price goes, basis points
    passive_s : seconds each slice rests as a post-only order at the touch before its rest
        is taken (0: every child takes liquidity at once)
    order_latency_ms : milliseconds from sending an order to its arrival at the exchange
    safety : the safety limits (``execution/safety.py``), or none
    """

    slices: int = pydantic.Field(1, ge=1)
    interval_s: float = pydantic.Field(0.0, ge=0.0)
    almgren_chriss: AlmgrenChrissConfig | None = None
    protection_bps: float = pydantic.Field(50.0, gt=0.0)
    passive_s: float = pydantic.Field(0.0, ge=0.0)
    order_latency_ms: float = pydantic.Field(0.0, ge=0.0)
    safety: SafetyLimits | None = None

    @pydantic.model_validator(mode="after")
    def _one_pacing(self) -> ExecutionConfig:
        if self.almgren_chriss is not None and self.slices != 1:
            raise ValueError("give slices (a TWAP) or an almgren_chriss table, not both")
        return self

    def pacing(self) -> Pacing:
        """Return how hedges are cut into slices: Almgren-Chriss if configured, else the TWAP."""
        if self.almgren_chriss is not None:
            return self.almgren_chriss.pacing()
        return TwapPacing(self.slices, int(self.interval_s * NS_PER_SECOND))


class ReplayConfig(StrictModel):
    """The ``[replay]`` table: a named recorded scenario (``market/replay/scenarios.py``).

    Candle data has no book: ``spread_bps`` sets the synthetic best bid and ask
    placed around each replayed price (a stated assumption, not data).
    """

    scenario: str = pydantic.Field(min_length=1)
    spread_bps: float | None = pydantic.Field(1.0, gt=0.0)


class RunConfig(StrictModel):
    """The ``[backtest]`` table."""

    name: str = pydantic.Field(min_length=1, pattern=r"^[A-Za-z0-9_.-]+$")
    output_dir: str = "out/backtests"
    family: str = "base"
    parameter: float = 0.0


class SweepEntry(StrictModel):
    """One ``[[sweep]]`` variant: a label, its family and parameter on the frontier, and overrides.

    ``policy`` is merged over ``[policy]``; when it names another ``kind``, only the
    tables every kind shares (``hedge_to``, ``hard_limits``, ``cost_aware``) are kept
    from the base. ``profile`` is merged over ``[profile]`` (a fixed threshold's
    width is its band's): the variant's policy acts on it, while every run's time
    outside the bands is measured against the base profile, so runs compare.
    """

    label: str = pydantic.Field(min_length=1)
    family: str = pydantic.Field(min_length=1)
    parameter: float
    policy: dict[str, Any] = {}
    profile: dict[str, Any] = {}


class BacktestFile(StrictModel):
    """Every table of a backtest file but the book's (validated by ``parse_book``)."""

    backtest: RunConfig
    simulation: SimulationConfig | None = None
    replay: ReplayConfig | None = None
    policy: dict[str, Any]
    hedging: HedgingConfig
    fees: FeeSchedule
    engine: EngineConfig = EngineConfig()
    execution: ExecutionConfig = ExecutionConfig()
    chain: ChainConfig | None = None
    sweep: list[SweepEntry] = []

    @pydantic.model_validator(mode="after")
    def _one_source(self) -> BacktestFile:
        if (self.simulation is None) == (self.replay is None):
            raise ValueError("give exactly one market source: [simulation] or [replay]")
        return self


class Variant(pydantic.BaseModel):
    """One run of a backtest: its policy and the bands that policy acts on."""

    model_config = pydantic.ConfigDict(frozen=True, arbitrary_types_allowed=True)

    label: str
    family: str
    parameter: float
    policy: PolicyConfig
    profile: RiskProfile


class Backtest(pydantic.BaseModel):
    """A loaded backtest: the book, the validated tables and each variant to run, base first."""

    model_config = pydantic.ConfigDict(frozen=True, arbitrary_types_allowed=True)

    source: str
    book: Book
    file: BacktestFile
    profile: RiskProfile
    variants: tuple[Variant, ...]

    def feeds(self) -> list[UnderlyingFeed]:
        """Return the engine's feed per hedged underlying."""
        return self.file.hedging.feeds()

    @property
    def output_dir(self) -> Path:
        """Return the folder of this backtest's results."""
        return Path(self.file.backtest.output_dir) / self.file.backtest.name


_SHARED_POLICY_KEYS = ("hedge_to", "hard_limits", "cost_aware")


def _variant_policy(base: Mapping[str, Any], overrides: Mapping[str, Any]) -> dict[str, Any]:
    if "kind" in overrides and overrides["kind"] != base.get("kind"):
        base = {key: value for key, value in base.items() if key in _SHARED_POLICY_KEYS}
    return _merged(base, overrides)


def _merged(base: Mapping[str, Any], overrides: Mapping[str, Any]) -> dict[str, Any]:
    merged = copy.deepcopy(dict(base))
    for key, value in overrides.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = _merged(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def parse_book_and_tables(document: Mapping[str, Any], tables: type[FileT], *, source: str = "") -> tuple[Book, FileT]:
    """Return a document's book and its other tables validated as ``tables``, the two checked against each other.

    The simulated market must start when the book is valued, and every hedge instrument
    must be listed in the book. Shared by backtest and service files.

    Raises
    ------
    ConfigError
        Naming the field that is wrong, in any table.
    """
    book = parse_book({k: v for k, v in document.items() if k in _BOOK_KEYS}, source=source)
    file = validate(tables, {k: v for k, v in document.items() if k not in _BOOK_KEYS}, source=source)
    if file.simulation is not None and file.simulation.start_ts_ns != book.market.as_of_ns:
        raise ConfigError(f"{source}: simulation.start_ts_ns {file.simulation.start_ts_ns} differs from as_of "
                          f"{book.market.as_of_ns}: the book must be valued when the market starts")
    for name, underlying in file.hedging.underlyings.items():
        for i, entry in enumerate(underlying.instruments):
            if entry.instrument_id not in book.registry:
                raise ConfigError(f"{source}: hedging.underlyings.{name}.instruments[{i}].instrument_id: "
                                  f"unknown instrument {entry.instrument_id!r}")
    return book, file


def parse_backtest(document: Mapping[str, Any], *, source: str = "") -> Backtest:
    """Return the backtest of a parsed TOML document; ``source`` names the file in errors.

    Raises
    ------
    ConfigError
        Naming the field that is wrong, in any table.
    """
    book, file = parse_book_and_tables(document, BacktestFile, source=source)
    base_profile = book.profile or {}
    run = file.backtest
    profile = load_risk_profile(base_profile)
    variants = [Variant(label=run.name, family=run.family, parameter=run.parameter,
                        policy=load_policy_config(file.policy), profile=profile)]
    for i, entry in enumerate(file.sweep):
        if entry.label in {v.label for v in variants}:
            raise ConfigError(f"{source}: sweep[{i}].label: {entry.label!r} is used twice")
        try:
            variants.append(Variant(
                label=entry.label, family=entry.family, parameter=entry.parameter,
                policy=load_policy_config(_variant_policy(file.policy, entry.policy)),
                profile=load_risk_profile(_merged(base_profile, entry.profile)),
            ))
        except ConfigError as error:
            raise ConfigError(f"{source}: sweep[{i}]: {error}") from None
    backtest = Backtest(source=source, book=book, file=file, profile=profile, variants=tuple(variants))
    check_chain_config(backtest)
    return backtest


def load_backtest(path: str | Path) -> Backtest:
    """Return the backtest in the TOML file at ``path`` (see ``parse_backtest``)."""
    return parse_backtest(load_toml(path), source=str(path))

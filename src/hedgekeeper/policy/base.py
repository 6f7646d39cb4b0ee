"""What every policy shares: the ``Policy`` protocol, banded measures and goals.

A policy reads the bands of ``risk.underlying`` from the ``RiskProfile`` and compares
each constrained measure of the ``RiskSnapshot`` with its band in the band's own
unit: a ``delta_usd`` band is compared with the USD delta (``delta_coin * spot``),
every other band with the snapshot's field of the same name. Goals, however, are
always given in the snapshot's units and keyed by ``Greek``: a ``delta_usd`` band
becomes a ``Greek.DELTA_COIN`` interval, its edges divided by spot.

Every goal built in ``policy/`` contains the target of each Greek it names, so
goals from several rules can be intersected without ever becoming empty.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal, Protocol

from hedgekeeper.policy.decision import Decision, Greek, PolicyInput, RiskSnapshot
from hedgekeeper.policy.quiet import Quiet, RiskCells
from hedgekeeper.policy.risk_profile import Band, UnderlyingBands

HedgeTo = Literal["edge", "target"]
"""Where a rebalance brings a measure that fired: to its band ("edge") or to its target."""

Interval = tuple[float, float]


class Policy(Protocol):
    """Anything that decides, for one underlying at one instant, whether to rebalance."""

    def decide(self, state: PolicyInput) -> Decision:
        """Return the verdict for ``state``; the same input always gives the same verdict."""
        ...

    def quiet(self, state: PolicyInput, cells: RiskCells) -> Quiet | None:
        """Return where the verdict for inputs like ``state`` stays silent (``policy/quiet.py``).

        None when the policy fires at ``state`` or cannot bound where it would; the
        engine then asks ``decide`` at every tick.
        """
        ...


_GREEK_OF_FIELD = {
    "delta_coin": Greek.DELTA_COIN,
    "delta_usd": Greek.DELTA_COIN,
    "gamma_usd_per_pct": Greek.GAMMA_USD_PER_PCT,
    "vega_usd_per_vol_pt": Greek.VEGA_USD_PER_VOL_PT,
    "weight": Greek.WEIGHT,
}
_DECIMALS = {"delta_coin": 4, "weight": 4}


def format_measure(value: float, name: str) -> str:
    """Return ``value`` as text, with the decimals suited to the unit of the field ``name``.

    Four decimals for coin and weights, two for USD amounts.

    >>> format_measure(3.4, "delta_coin"), format_measure(-40000.0, "gamma_usd_per_pct")
    ('3.4000', '-40000.00')
    """
    return f"{value:.{_DECIMALS.get(name, 2)}f}"


def format_seconds(ns: int) -> str:
    """Return a duration in nanoseconds as seconds, e.g. ``'3600 s'``.

    >>> format_seconds(3_600_000_000_000), format_seconds(1_500_000_000)
    ('3600 s', '1.5 s')
    """
    return f"{ns / 1e9:g} s"


@dataclass(frozen=True, slots=True)
class BandedMeasure:
    """One constrained measure of a snapshot, with its band, in the band's unit.

    Attributes
    ----------
    name : str, the profile field, which names the unit ("delta_coin", "delta_usd", ...)
    greek : Greek, the key of the measure in a goal
    value : float, the measure in the band's unit
    band : Band, in the same unit
    units_per_greek : float, band units per goal unit: spot (USD per coin) for
        ``delta_usd``, 1 otherwise
    """

    name: str
    greek: Greek
    value: float
    band: Band
    units_per_greek: float

    def to_goal(self, lower: float, upper: float) -> Interval:
        """Return the interval ``[lower, upper]``, given in the band's unit, in goal units."""
        return (lower / self.units_per_greek, upper / self.units_per_greek)

    def goal(self, hedge_to: HedgeTo) -> Interval:
        """Return the goal interval of the measure: its band ("edge") or its target alone."""
        if hedge_to == "edge":
            return self.to_goal(self.band.lower, self.band.upper)
        return self.to_goal(self.band.target, self.band.target)

    def describe(self) -> str:
        """Return where the value lies against the band, with the numbers.

        >>> measure = BandedMeasure("delta_coin", Greek.DELTA_COIN, 3.4, Band(target=0.0, width=2.5), 1.0)
        >>> measure.describe()
        'delta_coin 3.4000 above band upper 2.5000'
        """
        return describe_position(self.name, self.value, (self.band.lower, self.band.upper))


def describe_position(name: str, value: float, interval: Interval, label: str = "band") -> str:
    """Return where ``value`` of the field ``name`` lies against ``interval``, with the numbers.

    >>> describe_position("delta_coin", -0.2, (-0.3107, 0.3107), "no-trade band")
    'delta_coin -0.2000 inside no-trade band [-0.3107, 0.3107]'
    """
    lower, upper = interval
    text = format_measure(value, name)
    if value > upper:
        return f"{name} {text} above {label} upper {format_measure(upper, name)}"
    if value < lower:
        return f"{name} {text} below {label} lower {format_measure(lower, name)}"
    return f"{name} {text} inside {label} [{format_measure(lower, name)}, {format_measure(upper, name)}]"


def banded_measures(risk: RiskSnapshot, bands: UnderlyingBands) -> tuple[BandedMeasure, ...]:
    """Return the measures of ``risk`` that ``bands`` constrain, in the order of the profile's fields.

    >>> from hedgekeeper.policy.risk_profile import load_risk_profile
    >>> profile = load_risk_profile({"BTC": {"delta_usd": {"target": 0.0, "width": 250000.0}}})
    >>> risk = RiskSnapshot(0, "BTC", 100000.0, 3.4, 0.0, 0.0, 0.34, 1.0)
    >>> [(m.name, m.value, m.goal("edge")) for m in banded_measures(risk, profile.bands("BTC"))]
    [('delta_usd', 340000.0, (-2.5, 2.5))]
    """
    measures = []
    for name, greek in _GREEK_OF_FIELD.items():
        band = getattr(bands, name)
        if band is None:
            continue
        units_per_greek = risk.spot_usd if name == "delta_usd" else 1.0
        value = risk.value(greek) * units_per_greek
        measures.append(BandedMeasure(name, greek, value, band, units_per_greek))
    return tuple(measures)


def delta_target_coin(measures: Iterable[BandedMeasure]) -> float:
    """Return the target delta in coin from the delta band among ``measures``, 0 without one."""
    for measure in measures:
        if measure.greek is Greek.DELTA_COIN:
            return measure.goal("target")[0]
    return 0.0


def profile_goal(measures: Iterable[BandedMeasure], hedge_to: HedgeTo) -> dict[Greek, Interval]:
    """Return the goal bringing every banded measure to its band ("edge") or its target."""
    return {measure.greek: measure.goal(hedge_to) for measure in measures}


def distance_outside(value: float, interval: Interval) -> float:
    """Return how far ``value`` lies outside ``interval``, signed (> 0 above), 0 inside.

    >>> [distance_outside(value, (-2.5, 2.5)) for value in (3.5, -3.0, 1.0)]
    [1.0, -0.5, 0.0]
    """
    lower, upper = interval
    return value - min(max(value, lower), upper)


def intersect_goals(goals: Iterable[Mapping[Greek, Interval]]) -> dict[Greek, Interval]:
    """Return, for each Greek named by any goal, the intersection of the intervals given to it.

    >>> band = {Greek.DELTA_COIN: (-2.5, 2.5)}
    >>> target = {Greek.DELTA_COIN: (0.0, 0.0), Greek.WEIGHT: (0.1, 0.3)}
    >>> intersect_goals([band, target])
    {<Greek.DELTA_COIN: 'delta_coin'>: (0.0, 0.0), <Greek.WEIGHT: 'weight'>: (0.1, 0.3)}
    """
    merged: dict[Greek, Interval] = {}
    for goal in goals:
        for greek, (lower, upper) in goal.items():
            if greek in merged:
                lower, upper = max(merged[greek][0], lower), min(merged[greek][1], upper)
            merged[greek] = (lower, upper)
    return merged


def decision_for(state: PolicyInput, **fields: Any) -> Decision:
    """Return a ``Decision`` stamped with the time and underlying of ``state``."""
    return Decision(ts_ns=state.risk.ts_ns, underlying=state.risk.underlying, **fields)

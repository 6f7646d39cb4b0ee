"""The target risk profile: per underlying, a target and a band for each Greek.

A band is an interval ``[lower, upper]`` around a ``target``, given either by its
edges or by a symmetric ``width`` (``target ± width``). Every field is optional:
a Greek without a band is not constrained. Units are those of the portfolio's
aggregated risk (``portfolio/``):

==========================  ==================================================
field                       unit
==========================  ==================================================
``delta_coin``              coin of the underlying
``delta_usd``               USD (at most one of ``delta_coin``, ``delta_usd``)
``gamma_usd_per_pct``       USD change of delta per 1% move of the underlying
``vega_usd_per_vol_pt``     USD per volatility point (0.01 of annualised vol)
``weight``                  net USD delta over portfolio equity, decimal
==========================  ==================================================

In TOML::

    [profile.BTC]
    delta_coin = { target = 0.0, width = 2.5 }
    gamma_usd_per_pct = { target = 0.0, lower = -40000.0, upper = 10000.0 }
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pydantic

from hedgekeeper.config import StrictModel, validate_table


class Band(StrictModel):
    """A target and the interval around it inside which no action is needed.

    Examples
    --------
    >>> Band(target=0.0, width=2.0).upper
    2.0
    >>> Band(target=1.0, lower=0.5, upper=3.0).contains(3.5)
    False
    """

    target: float
    lower: float
    upper: float

    @pydantic.model_validator(mode="before")
    @classmethod
    def _from_width(cls, data: Any) -> Any:
        if isinstance(data, Mapping) and "width" in data:
            fields = dict(data)
            width = fields.pop("width")
            if "lower" in fields or "upper" in fields:
                raise ValueError("give either width or lower/upper, not both")
            if not isinstance(width, int | float) or not width >= 0:
                raise ValueError(f"width must be a non-negative number, got {width!r}")
            target = fields.get("target")
            if not isinstance(target, int | float):
                raise ValueError("target is required with width")
            fields["lower"], fields["upper"] = target - width, target + width
            return fields
        return data

    @pydantic.model_validator(mode="after")
    def _ordered(self) -> Band:
        if not self.lower <= self.target <= self.upper:
            raise ValueError(
                f"need lower <= target <= upper, got {self.lower} <= {self.target} <= {self.upper}"
            )
        return self

    def contains(self, value: float) -> bool:
        """Return whether ``value`` lies inside the band, edges included."""
        return self.lower <= value <= self.upper

    def excess(self, value: float) -> float:
        """Return how far ``value`` lies outside the band (0 inside), signed: > 0 above."""
        if value > self.upper:
            return value - self.upper
        if value < self.lower:
            return value - self.lower
        return 0.0


class UnderlyingBands(StrictModel):
    """The bands of one underlying; a missing band leaves that Greek unconstrained."""

    delta_coin: Band | None = None
    delta_usd: Band | None = None
    gamma_usd_per_pct: Band | None = None
    vega_usd_per_vol_pt: Band | None = None
    weight: Band | None = None

    @pydantic.model_validator(mode="after")
    def _one_delta_unit(self) -> UnderlyingBands:
        if self.delta_coin is not None and self.delta_usd is not None:
            raise ValueError("give delta_coin or delta_usd, not both")
        return self


_UNCONSTRAINED = UnderlyingBands()


class RiskProfile(pydantic.RootModel[dict[str, UnderlyingBands]]):
    """Bands per underlying, keyed by the underlying's symbol (``"BTC"``)."""

    model_config = pydantic.ConfigDict(frozen=True)

    @property
    def underlyings(self) -> tuple[str, ...]:
        """Return the symbols that have bands, in file order."""
        return tuple(self.root)

    def bands(self, underlying: str) -> UnderlyingBands:
        """Return the bands of ``underlying``; an underlying not listed is unconstrained."""
        return self.root.get(underlying, _UNCONSTRAINED)


def load_risk_profile(source: str | Path | Mapping[str, Any], *, prefix: str = "profile") -> RiskProfile:
    """Return the risk profile from a TOML file's ``[profile]`` table or from a mapping.

    Parameters
    ----------
    source : a TOML file path (its ``[profile]`` table is read) or the table itself
    prefix : the table's path in its file, used in error messages

    Raises
    ------
    ConfigError
        If the file is malformed or a field is invalid, naming the field.

    Examples
    --------
    >>> profile = load_risk_profile({"BTC": {"delta_coin": {"target": 0.0, "width": 2.5}}})
    >>> profile.bands("BTC").delta_coin.upper, profile.bands("ETH").delta_coin is None
    (2.5, True)
    """
    return validate_table(RiskProfile, source, prefix=prefix, what="underlyings")

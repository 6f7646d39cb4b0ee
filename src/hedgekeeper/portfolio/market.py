"""The market state the portfolio is valued on: one snapshot per underlying, and time.

Per underlying: the spot index in USD, the forward of each expiry (given, or from
an annualised basis ``F = S exp(basis_rate t)``), the USD discount rate of option
premiums, and implied vols: a flat vol, a vol per option id, or any callable
``vol(k, t_years)`` of forward log-moneyness ``k = ln(K / F)`` (an SVI
``VolSurface.implied_vol`` plugs in as is). A per-option vol wins over the others.

Time is integer nanoseconds since the epoch, UTC; year fractions are ACT/365 in
calendar time. Bad data (NaN, a non-positive price, a negative vol) raises
``BadData`` naming the underlying or the instrument.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from types import MappingProxyType

import numpy as np
from numpy.typing import ArrayLike, NDArray

from hedgekeeper.errors import BadData

# Time lives in ``hedgekeeper.timestamps``; what this module used to define stays importable from it.
from hedgekeeper.timestamps import (  # noqa: F401 (NS_PER_DAY, NS_PER_YEAR, datetime_to_ns: re-exported)
    NS_PER_DAY,
    NS_PER_YEAR,
    datetime_to_ns,
    format_ns,
    year_fraction,
)

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]

#: A volatility smile/surface: forward log-moneyness and ACT/365 years in, annualised vols out.
VolFunction = Callable[[FloatArray, FloatArray], ArrayLike]


def _finite(value: float) -> bool:
    return isinstance(value, int | float) and math.isfinite(value)


@dataclass(frozen=True, kw_only=True)
class UnderlyingMarket:
    """Market data of one underlying at one time.

    Parameters
    ----------
    underlying : the coin, e.g. ``"BTC"``
    spot_usd : float > 0, the spot index, USD per coin
    vol : float >= 0 (a flat annualised vol), a ``VolFunction``, or None when every
        option has a per-option vol
    option_vols : instrument id -> annualised vol, overriding ``vol``
    forwards_usd : expiry in ns -> forward in USD per coin
    basis_rate : annualised carry for expiries without a given forward, or None
    rate : continuously compounded USD rate discounting option premiums (Deribit: 0)

    Raises
    ------
    BadData
        Naming the underlying (or the option) whose number is NaN, infinite, a
        non-positive price or a negative vol.

    Examples
    --------
    >>> btc = UnderlyingMarket(underlying="BTC", spot_usd=100_000.0, vol=0.5, basis_rate=0.05)
    >>> btc.forward_usd(np.array([NS_PER_YEAR]), 0).round(2)
    array([105127.11])
    >>> UnderlyingMarket(underlying="ETH", spot_usd=float("nan"), vol=0.6)
    Traceback (most recent call last):
    ...
    hedgekeeper.errors.BadData: ETH: spot_usd must be finite and > 0, got nan
    """

    underlying: str
    spot_usd: float
    vol: float | VolFunction | None = None
    option_vols: Mapping[str, float] = field(default_factory=dict)
    forwards_usd: Mapping[int, float] = field(default_factory=dict)
    basis_rate: float | None = None
    rate: float = 0.0

    def __post_init__(self) -> None:
        name = self.underlying
        if not (_finite(self.spot_usd) and self.spot_usd > 0):
            raise BadData(f"{name}: spot_usd must be finite and > 0, got {self.spot_usd!r}")
        for expiry_ns, forward in self.forwards_usd.items():
            if not (_finite(forward) and forward > 0):
                raise BadData(
                    f"{name}: forward for {format_ns(expiry_ns)} must be finite and > 0, got {forward!r}"
                )
        for instrument_id, vol in self.option_vols.items():
            if not (_finite(vol) and vol >= 0):
                raise BadData(f"{instrument_id}: implied vol must be finite and >= 0, got {vol!r}")
        if not callable(self.vol) and self.vol is not None and not (_finite(self.vol) and self.vol >= 0):
            raise BadData(f"{name}: vol must be finite and >= 0, got {self.vol!r}")
        if self.basis_rate is not None and not _finite(self.basis_rate):
            raise BadData(f"{name}: basis_rate must be finite, got {self.basis_rate!r}")
        if not _finite(self.rate):
            raise BadData(f"{name}: rate must be finite, got {self.rate!r}")
        object.__setattr__(self, "option_vols", MappingProxyType(dict(self.option_vols)))
        object.__setattr__(self, "forwards_usd", MappingProxyType(dict(self.forwards_usd)))

    def with_spot(self, spot_usd: float) -> UnderlyingMarket:
        """Return this market after a spot tick: every given forward moves in proportion, vols stay."""
        if not (_finite(spot_usd) and spot_usd > 0):
            raise BadData(f"{self.underlying}: spot_usd must be finite and > 0, got {spot_usd!r}")
        ratio = spot_usd / self.spot_usd
        forwards = {expiry: forward * ratio for expiry, forward in self.forwards_usd.items()}
        return replace(self, spot_usd=spot_usd, forwards_usd=forwards)

    def forward_usd(self, expiry_ns: IntArray, as_of_ns: int) -> FloatArray:
        """Return the forward of each expiry, USD per coin: the given one, else ``S exp(basis t)``.

        Raises
        ------
        BadData
            If an expiry has no given forward and there is no ``basis_rate``.
        """
        expiries, index = np.unique(np.asarray(expiry_ns, dtype=np.int64), return_inverse=True)
        forwards = np.empty(expiries.shape)
        for i, expiry in enumerate(expiries.tolist()):
            if expiry in self.forwards_usd:
                forwards[i] = self.forwards_usd[expiry]
            elif self.basis_rate is not None:
                forwards[i] = self.spot_usd * math.exp(self.basis_rate * float(year_fraction(as_of_ns, expiry)))
            else:
                raise BadData(
                    f"{self.underlying}: no forward for expiry {format_ns(expiry)} and no basis_rate to derive it"
                )
        return forwards[index.reshape(-1)]

    def implied_vol(
        self, instrument_ids: Sequence[str], strike_usd: FloatArray, t_years: FloatArray, forward_usd: FloatArray
    ) -> FloatArray:
        """Return each option's implied vol: its own if given, else from ``vol`` at ``ln(K/F)``.

        Raises
        ------
        BadData
            Naming the first option without a vol, or whose vol is NaN or negative.
        """
        vols = np.full(len(instrument_ids), np.nan)
        if callable(self.vol):
            vols = np.broadcast_to(
                np.asarray(self.vol(np.log(strike_usd / forward_usd), t_years), dtype=np.float64), vols.shape
            ).copy()
        elif self.vol is not None:
            vols[:] = self.vol
        for i, instrument_id in enumerate(instrument_ids):
            if instrument_id in self.option_vols:
                vols[i] = self.option_vols[instrument_id]
        bad = ~(np.isfinite(vols) & (vols >= 0))
        if bad.any():
            first = int(np.argmax(bad))
            name = instrument_ids[first]
            if self.vol is None and name not in self.option_vols:
                raise BadData(f"{name}: no implied vol (set a vol for {self.underlying} or for it)")
            raise BadData(f"{name}: implied vol must be finite and >= 0, got {float(vols[first])!r}")
        return vols


@dataclass(frozen=True)
class MarketSnapshot:
    """The market of every underlying at ``as_of_ns`` (ns since the epoch, UTC).

    >>> snapshot = MarketSnapshot(0, {"BTC": UnderlyingMarket(underlying="BTC", spot_usd=100_000.0, vol=0.5)})
    >>> snapshot.with_spot("BTC", 101_000.0).underlying("BTC").spot_usd
    101000.0
    """

    as_of_ns: int
    underlyings: Mapping[str, UnderlyingMarket]

    def __post_init__(self) -> None:
        for key, market in self.underlyings.items():
            if key != market.underlying:
                raise BadData(f"market for {key!r} holds data of {market.underlying!r}")
        object.__setattr__(self, "underlyings", MappingProxyType(dict(self.underlyings)))

    def underlying(self, name: str) -> UnderlyingMarket:
        """Return the market of underlying ``name``.

        Raises
        ------
        BadData
            If the snapshot has no data for it.
        """
        try:
            return self.underlyings[name]
        except KeyError:
            known = ", ".join(self.underlyings) or "none"
            raise BadData(f"no market data for {name} (the snapshot has: {known})") from None

    def with_spot(self, name: str, spot_usd: float) -> MarketSnapshot:
        """Return this snapshot with the spot of ``name`` moved (see ``UnderlyingMarket.with_spot``)."""
        return replace(self, underlyings={**self.underlyings, name: self.underlying(name).with_spot(spot_usd)})

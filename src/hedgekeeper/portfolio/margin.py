"""Initial and maintenance margin: venue standard (per position, no offsets) margin.

Coin-margined (inverse) products follow Deribit's standard margin; USD-margined
(linear) products follow the same option formulas in USD and Binance's USD-M tiers
for futures. Every rate is a parameter of ``MarginModel`` (TOML ``[margin]``).

Short options (Deribit; per 1 coin of underlying, in coin for inverse options):

    initial  = max(initial_base - OTM / F, initial_floor) + mark          (call)
    initial  = max(max(initial_base - OTM / F, initial_floor) + mark, maintenance)   (put)
    maint.   = maintenance + mark                                           (call)
    maint.   = max(maintenance, maintenance * mark) + mark                  (put)

with defaults 0.15, 0.10 and 0.075, ``OTM`` the out-of-the-money amount in USD
(``max(K - F, 0)`` for a call, ``max(F - K, 0)`` for a put), ``F`` the option's
underlying mark (its expiry's forward) and ``mark`` the option's mark price in
coin. Linear (USD-settled) options use the same fractions times ``F``, i.e. ``mark``
is the USD mark over ``F`` (the USD form on bit.com's page below). Long options need
no margin: their premium has left the balance and their value is in the equity.

Futures and perpetuals:

- inverse (Deribit): ``rate = base + increase_per_coin * |size in coin|`` on the
  position in coin (USD face / the future's mark); defaults BTC 2% initial, 1%
  maintenance, +0.005% per BTC. These are the numbers of Deribit's current
  standard-margin table for its BTC_USDC perpetual ("2% + (position size in BTC) *
  0.005%" initial, "1% + ..." maintenance); its legacy inverse-futures page gives
  the same 2% + 0.5% per 100 BTC initial with a 1.5% maintenance base. ETH: the
  same bases and +0.0005% per ETH, an assumption (the pages found give BTC's and
  SOL's slopes only). Check both against Deribit's current specification.
- linear (Binance USD-M): tiers on the position's USD notional,
  ``margin = notional * rate_tier - amount_tier``, where the cumulative ``amount``
  makes the schedule continuous (Binance's "maintenance amount"). Defaults are
  Binance's BTCUSDT tiers (maintenance 0.40% to 50,000 USDT, 0.50% to 250,000, 1%
  to 1,000,000, 2.5% to 10,000,000, ...) with initial margin at each tier's maximum
  leverage (0.80%, 1%, 2%, 5%, ...), made continuous the same way; applied to ETH
  too unless set per underlying. Binance's real initial margin is notional over the
  leverage the user chose; this is its floor.

Venues change these numbers without notice; every one is a parameter.

Sources (retrieved 2025): Deribit, "Inverse Options" and "Linear Perpetual"
(standard margin tables),
https://support.deribit.com/hc/en-us/articles/25944688327069-Inverse-Options and
https://support.deribit.com/hc/en-us/articles/25944738177565-Linear-Perpetual, and
the legacy futures page https://test.deribit.com/pages/docs/futures; Deribit's
option formulas as republished at
https://doc.tslab.pro/tslab/eng/data-providers/connection-to-broker/deribit-cryptocurrency-exchange/deribit-margin-requirements-calculation
and, in USD, https://helpcenter.bit.com/hc/en-us/articles/11039356631321-3-Margin-Rules-for-USD-Margined-Options;
Binance, "Updates to Leverage and Margin Tiers of Binance Futures Contracts
(2021-03-18)", https://www.binance.com/en/support/announcement/86cf9aa472574b8cb2e05bb751c2a9a6,
and "Maintenance Margin = Notional Position Value * Maintenance Margin Rate -
Maintenance Amount", https://www.binance.com/en/futures/trading-rules/perpetual/portfolio-margin/notional-limit.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pydantic
from numpy.typing import ArrayLike, NDArray

from hedgekeeper.config import StrictModel
from hedgekeeper.errors import ConfigError

FloatArray = NDArray[np.float64]


class OptionMarginRates(StrictModel):
    """Short-option rates, as fractions of one coin of underlying (Deribit's defaults)."""

    initial_base: float = pydantic.Field(0.15, ge=0, description="initial margin before the OTM credit")
    initial_floor: float = pydantic.Field(0.10, ge=0, description="initial margin floor")
    maintenance: float = pydantic.Field(0.075, ge=0, description="maintenance margin")


class InverseFutureMarginRates(StrictModel):
    """Coin-margined future and perpetual rates: ``base + increase_per_coin * |size in coin|``."""

    initial_base: float = pydantic.Field(0.02, ge=0)
    maintenance_base: float = pydantic.Field(0.01, ge=0)
    increase_per_coin: float = pydantic.Field(0.00005, ge=0, description="rate added per coin of position")


class MarginTier(StrictModel):
    """One tier of a USD-margined schedule: rates for notional up to ``notional_cap_usd``."""

    notional_cap_usd: float = pydantic.Field(gt=0)
    initial_rate: float = pydantic.Field(ge=0, le=1)
    maintenance_rate: float = pydantic.Field(ge=0, le=1)


BINANCE_BTCUSDT_TIERS = tuple(
    MarginTier(notional_cap_usd=cap, initial_rate=initial, maintenance_rate=maintenance)
    for cap, initial, maintenance in (
        (50_000.0, 0.008, 0.004),
        (250_000.0, 0.01, 0.005),
        (1_000_000.0, 0.02, 0.01),
        (10_000_000.0, 0.05, 0.025),
        (20_000_000.0, 0.10, 0.05),
        (50_000_000.0, 0.20, 0.10),
        (100_000_000.0, 0.25, 0.125),
        (200_000_000.0, 0.333, 0.15),
        (300_000_000.0, 0.50, 0.25),
        (500_000_000.0, 1.00, 0.50),
    )
)

DEFAULT_INVERSE_FUTURES = {
    "BTC": InverseFutureMarginRates(),
    "ETH": InverseFutureMarginRates(increase_per_coin=0.000005),
}
DEFAULT_LINEAR_FUTURES = {"BTC": BINANCE_BTCUSDT_TIERS, "ETH": BINANCE_BTCUSDT_TIERS}
_UNUSED_INVERSE_RATES = InverseFutureMarginRates(initial_base=0.0, maintenance_base=0.0, increase_per_coin=0.0)
_UNUSED_TIERS = (MarginTier(notional_cap_usd=1.0, initial_rate=0.0, maintenance_rate=0.0),)


@dataclass(frozen=True)
class MarginSchedule:
    """The margin rates of one underlying, with the linear tiers as arrays."""

    options: OptionMarginRates
    inverse_futures: InverseFutureMarginRates
    tier_caps_usd: FloatArray
    tier_initial_rates: FloatArray
    tier_maintenance_rates: FloatArray
    tier_initial_amounts_usd: FloatArray
    tier_maintenance_amounts_usd: FloatArray


def _cumulative_amounts(caps: FloatArray, rates: FloatArray) -> FloatArray:
    # amount_i = amount_{i-1} + cap_{i-1} (rate_i - rate_{i-1}): the schedule is continuous at each cap.
    return np.concatenate([[0.0], np.cumsum(caps[:-1] * np.diff(rates))])


class MarginModel(StrictModel):
    """Standard-margin parameters: option rates, inverse-future rates and linear tiers per underlying.

    Entries given for an underlying replace the default of that underlying only.

    Examples
    --------
    >>> MarginModel().schedule("BTC").tier_maintenance_amounts_usd[:3]
    array([   0.,   50., 1300.])
    """

    options: OptionMarginRates = OptionMarginRates()
    inverse_futures: dict[str, InverseFutureMarginRates] = DEFAULT_INVERSE_FUTURES
    linear_futures: dict[str, tuple[MarginTier, ...]] = DEFAULT_LINEAR_FUTURES

    @pydantic.field_validator("inverse_futures", mode="before")
    @classmethod
    def _over_inverse_defaults(cls, value: Any) -> Any:
        return {**DEFAULT_INVERSE_FUTURES, **value} if isinstance(value, Mapping) else value

    @pydantic.field_validator("linear_futures", mode="before")
    @classmethod
    def _over_linear_defaults(cls, value: Any) -> Any:
        return {**DEFAULT_LINEAR_FUTURES, **value} if isinstance(value, Mapping) else value

    @pydantic.field_validator("linear_futures", mode="after")
    @classmethod
    def _tiers_ordered(cls, value: dict[str, tuple[MarginTier, ...]]) -> dict[str, tuple[MarginTier, ...]]:
        for underlying, tiers in value.items():
            caps = [tier.notional_cap_usd for tier in tiers]
            if not tiers or caps != sorted(set(caps)):
                raise ValueError(f"{underlying}: need at least one tier, with increasing notional caps")
            if any(tier.maintenance_rate > tier.initial_rate for tier in tiers):
                raise ValueError(f"{underlying}: a tier's maintenance rate exceeds its initial rate")
        return value

    def schedule(
        self, underlying: str, *, inverse_futures: bool = True, linear_futures: bool = True
    ) -> MarginSchedule:
        """Return the rates of ``underlying``; futures rates only where the book holds such futures.

        Parameters
        ----------
        underlying : the coin
        inverse_futures, linear_futures : whether the rates of that kind are needed; a
            kind not needed and not configured gets rates of zero, never applied

        Raises
        ------
        ConfigError
            If a needed kind has no entry for ``underlying``, naming the table to add.
        """
        for table, name, needed in (
            (self.inverse_futures, "inverse_futures", inverse_futures),
            (self.linear_futures, "linear_futures", linear_futures),
        ):
            if needed and underlying not in table:
                raise ConfigError(f"margin.{name} has no entry for {underlying}; add [margin.{name}.{underlying}]")
        tiers = self.linear_futures.get(underlying, _UNUSED_TIERS)
        caps = np.array([tier.notional_cap_usd for tier in tiers])
        initial = np.array([tier.initial_rate for tier in tiers])
        maintenance = np.array([tier.maintenance_rate for tier in tiers])
        return MarginSchedule(
            options=self.options,
            inverse_futures=self.inverse_futures.get(underlying, _UNUSED_INVERSE_RATES),
            tier_caps_usd=caps,
            tier_initial_rates=initial,
            tier_maintenance_rates=maintenance,
            tier_initial_amounts_usd=_cumulative_amounts(caps, initial),
            tier_maintenance_amounts_usd=_cumulative_amounts(caps, maintenance),
        )


def short_option_margin(
    otm_fraction: ArrayLike, mark_fraction: ArrayLike, is_call: ArrayLike, rates: OptionMarginRates
) -> tuple[FloatArray, FloatArray]:
    """Return Deribit's initial and maintenance margin of a short option, per coin of underlying.

    Parameters
    ----------
    otm_fraction : array_like, out-of-the-money amount over the underlying mark (>= 0)
    mark_fraction : array_like, the option's mark in coin (its USD mark over the underlying mark)
    is_call : array_like of bool
    rates : OptionMarginRates

    Returns
    -------
    (initial, maintenance) : float64 arrays, coin per coin of short position (fractions
    of the underlying mark for linear options).

    Examples
    --------
    A short BTC 110,000 call with the forward at 105,000 and a mark of 0.0215 BTC:
    ``max(0.15 - 5000/105000, 0.1) + 0.0215`` and ``0.075 + 0.0215``.

    >>> initial, maintenance = short_option_margin(5_000 / 105_000, 0.0215, True, OptionMarginRates())
    >>> round(float(initial), 6), round(float(maintenance), 6)
    (0.123881, 0.0965)
    """
    otm = np.asarray(otm_fraction, dtype=np.float64)
    mark = np.asarray(mark_fraction, dtype=np.float64)
    maintenance = np.where(
        is_call, rates.maintenance + mark, np.maximum(rates.maintenance, rates.maintenance * mark) + mark
    )
    initial = np.maximum(rates.initial_base - otm, rates.initial_floor) + mark
    return np.where(is_call, initial, np.maximum(initial, maintenance)), maintenance


def inverse_future_margin_coin(
    size_coin: ArrayLike, rates: InverseFutureMarginRates
) -> tuple[FloatArray, FloatArray]:
    """Return Deribit's initial and maintenance margin of a coin-margined future, in coin.

    Parameters
    ----------
    size_coin : array_like, absolute position in coin (USD face over the future's mark)
    rates : InverseFutureMarginRates

    Returns
    -------
    (initial, maintenance) : float64 arrays, coin.

    Examples
    --------
    Deribit's example: 25 BTC needs 2% + 25 * 0.005% = 2.125% initial, 0.53125 BTC.

    >>> initial, maintenance = inverse_future_margin_coin(25.0, InverseFutureMarginRates())
    >>> float(initial), float(maintenance)
    (0.53125, 0.28125)
    """
    size = np.abs(np.asarray(size_coin, dtype=np.float64))
    growth = rates.increase_per_coin * size
    return size * (rates.initial_base + growth), size * (rates.maintenance_base + growth)


def tiered_margin_usd(notional_usd: ArrayLike, schedule: MarginSchedule) -> tuple[FloatArray, FloatArray]:
    """Return the initial and maintenance margin of USD-margined futures from the notional tiers.

    ``margin = notional * rate_tier - amount_tier`` with the tier whose cap is the first
    at or above the notional (the last tier beyond the last cap).

    Parameters
    ----------
    notional_usd : array_like, absolute position notional in USD
    schedule : MarginSchedule

    Returns
    -------
    (initial, maintenance) : float64 arrays, USD.

    Examples
    --------
    100,000 USDT of BTCUSDT: tier 2, ``100000 * 0.5% - 50`` maintenance and
    ``100000 * 1% - 100`` initial.

    >>> initial, maintenance = tiered_margin_usd(100_000.0, MarginModel().schedule("BTC"))
    >>> float(initial), float(maintenance)
    (900.0, 450.0)
    """
    notional = np.abs(np.asarray(notional_usd, dtype=np.float64))
    caps = schedule.tier_caps_usd
    tier = np.minimum(np.searchsorted(caps, notional, side="left"), len(caps) - 1)
    initial = notional * schedule.tier_initial_rates[tier] - schedule.tier_initial_amounts_usd[tier]
    maintenance = (
        notional * schedule.tier_maintenance_rates[tier] - schedule.tier_maintenance_amounts_usd[tier]
    )
    return initial, maintenance

"""Almgren-Chriss optimal execution, and how fast to trade a hedge given the risk its delay carries.

Almgren and Chriss (2000), "Optimal execution of portfolio transactions", J. Risk
3(2), section 2. To trade ``X`` coin in ``N`` slices of ``tau`` seconds, holding
``x_k`` coin still to trade at ``t_k = k tau`` (``x_0 = X``, ``x_N = 0``) and
trading ``n_k = x_{k-1} - x_k`` in slice ``k``, the price follows an arithmetic
random walk moved by our trading (a sale written as positive ``n``; a buy is the
mirror image)::

    S_k = S_{k-1} + sigma tau^(1/2) xi_k - tau g(n_k / tau),   g(v) = gamma v      (permanent)
    each slice trades at S_{k-1} - h(n_k / tau),             h(v) = eps sgn(v) + eta v  (temporary)

The cost against the arrival price is normal with (their eqs. 6-7, linear impact)::

    E = gamma X^2 / 2 + eps sum |n_k| + (eta_tilde / tau) sum n_k^2,   eta_tilde = eta - gamma tau / 2
    V = sigma^2 tau sum_{k=1..N} x_k^2

and the trajectory minimising ``E + lambda V`` is (their eq. 18)::

    x_j = X sinh(kappa (T - t_j)) / sinh(kappa T),
    (2 / tau^2) (cosh(kappa tau) - 1) = kappa_tilde^2 = lambda sigma^2 / eta_tilde.

Units: sizes in coin, prices in USD per coin, time in seconds: ``sigma`` in USD
per coin per sqrt(second), ``eta`` in USD per coin per (coin per second), ``gamma``
in USD per coin per coin, ``eps`` in USD per coin, ``lambda`` per USD.

Under exponential utility with absolute risk aversion ``gamma_u`` per USD (the
certainty equivalent of ``policy/cost_aware.py``), a normal cost is worth
``E + (gamma_u / 2) V``: ``lambda = gamma_u / 2``. ``pace_hedge`` uses that to
choose how many slices a hedge is spread over.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import Decimal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from hedgekeeper.errors import BadData
from hedgekeeper.execution.slicing import ScheduledSlice, lot_rounded_slices
from hedgekeeper.portfolio.values import to_decimal

FloatArray = NDArray[np.float64]

SECONDS_PER_YEAR = 365.0 * 24.0 * 3600.0
"""ACT/365 calendar seconds in a year: crypto trades around the clock."""


def _require(value: float, name: str, *, positive: bool = False) -> float:
    if not (math.isfinite(value) and (value > 0.0 if positive else value >= 0.0)):
        raise BadData(f"{name} must be a number {'>' if positive else '>='} 0, got {value}")
    return value


@dataclass(frozen=True, slots=True)
class AlmgrenChriss:
    """Almgren and Chriss's market: an arithmetic random walk with linear impact.

    Parameters
    ----------
    sigma_usd : float, price volatility, USD per coin per sqrt(second), >= 0
    temporary_impact : float, ``eta``, USD per coin per (coin per second), > 0
    permanent_impact : float, ``gamma``, USD per coin per coin traded, >= 0
    fixed_cost_usd_per_coin : float, ``eps``, half the spread plus the fee, USD per coin, >= 0

    Raises
    ------
    BadData
        If a parameter is NaN, infinite or out of range.

    Examples
    --------
    The paper's example (section 3): 1 million shares at 50 USD, 30% annual vol,
    ``eta = 2.5e-6`` USD per share per (share per day), ``gamma = 2.5e-7`` USD per share
    per share, ``eps = 0.0625`` USD, ``lambda = 1e-6``, 5 days in daily slices.
    Time is in days here, so ``sigma = 0.3 * 50 / sqrt(250)`` per sqrt(day), as in the paper.

    >>> model = AlmgrenChriss(0.3 * 50 / math.sqrt(250), 2.5e-6, 2.5e-7, 0.0625)
    >>> round(model.kappa(1.0, 1e-6), 4)
    0.6063
    >>> (model.optimal_holdings(1e6, 1.0, 5, 1e-6) / 1e3).round(1)
    array([1000. ,  542.4,  290.3,  148.2,   62.3,    0. ])
    """

    sigma_usd: float
    temporary_impact: float
    permanent_impact: float = 0.0
    fixed_cost_usd_per_coin: float = 0.0

    def __post_init__(self) -> None:
        _require(self.sigma_usd, "sigma_usd")
        _require(self.temporary_impact, "temporary_impact", positive=True)
        _require(self.permanent_impact, "permanent_impact")
        _require(self.fixed_cost_usd_per_coin, "fixed_cost_usd_per_coin")

    @classmethod
    def from_annual_vol(
        cls,
        price_usd: float,
        vol: float,
        temporary_impact: float,
        permanent_impact: float = 0.0,
        fixed_cost_usd_per_coin: float = 0.0,
    ) -> AlmgrenChriss:
        """Return the model with ``sigma_usd = vol * price_usd / sqrt(SECONDS_PER_YEAR)``.

        Parameters
        ----------
        price_usd : float, USD per coin, > 0
        vol : float, annualised volatility, decimal (0.6 is 60%), >= 0
        temporary_impact, permanent_impact, fixed_cost_usd_per_coin : as the class

        >>> round(AlmgrenChriss.from_annual_vol(100_000.0, 0.6, 1.0).sigma_usd, 4)
        10.6843
        """
        _require(price_usd, "price_usd", positive=True)
        _require(vol, "vol")
        sigma_usd = vol * price_usd / math.sqrt(SECONDS_PER_YEAR)
        return cls(sigma_usd, temporary_impact, permanent_impact, fixed_cost_usd_per_coin)

    def eta_tilde(self, interval_s: float) -> float:
        """Return ``eta - gamma tau / 2``, the temporary impact net of the permanent one's discreteness.

        Raises
        ------
        BadData
            If it is not > 0: the interval is too long for the permanent impact.
        """
        _require(interval_s, "interval_s", positive=True)
        eta_tilde = self.temporary_impact - 0.5 * self.permanent_impact * interval_s
        if not eta_tilde > 0.0:
            raise BadData(
                f"temporary impact {self.temporary_impact:g} must exceed permanent impact times half"
                f" the interval, {0.5 * self.permanent_impact * interval_s:g}: shorten the interval"
            )
        return eta_tilde

    def kappa(self, interval_s: float, variance_aversion_per_usd: float) -> float:
        """Return ``kappa``, per second: ``kappa tau = 2 asinh(kappa_tilde tau / 2)``.

        ``(2 / tau^2)(cosh(kappa tau) - 1) = kappa_tilde^2`` written through
        ``cosh(2u) - 1 = 2 sinh(u)^2``, which keeps precision when ``kappa tau`` is small.

        Parameters
        ----------
        interval_s : float, the slice length ``tau``, seconds, > 0
        variance_aversion_per_usd : float, ``lambda``, per USD, >= 0
        """
        _require(variance_aversion_per_usd, "variance_aversion_per_usd")
        kappa_tilde = math.sqrt(variance_aversion_per_usd * self.sigma_usd**2 / self.eta_tilde(interval_s))
        return 2.0 * math.asinh(0.5 * kappa_tilde * interval_s) / interval_s

    def optimal_holdings(
        self, size_coin: float, interval_s: float, slice_count: int, variance_aversion_per_usd: float
    ) -> FloatArray:
        """Return the optimal trajectory ``x_0 = X, ..., x_N = 0``, coin still to trade after each slice.

        Parameters
        ----------
        size_coin : float, ``X``, coin, >= 0
        interval_s : float, ``tau``, seconds, > 0
        slice_count : int, ``N`` >= 1
        variance_aversion_per_usd : float, ``lambda``, per USD, >= 0 (0 gives the straight line, TWAP)

        Returns
        -------
        ndarray of shape (N + 1,), coin
        """
        _require(size_coin, "size_coin")
        if slice_count < 1:
            raise BadData(f"slice_count must be >= 1, got {slice_count}")
        kappa = self.kappa(interval_s, variance_aversion_per_usd)
        remaining = np.arange(slice_count, -1, -1, dtype=np.float64)  # (T - t_j) / tau
        if kappa == 0.0:
            return size_coin * remaining / slice_count
        # sinh(a) / sinh(b) = exp(a - b) expm1(-2a) / expm1(-2b): no overflow for large kappa T.
        a = kappa * interval_s * remaining
        b = a[0]
        return size_coin * np.exp(a - b) * np.expm1(-2.0 * a) / np.expm1(-2.0 * b)

    def expected_cost_usd(self, holdings_coin: ArrayLike, interval_s: float) -> float:
        """Return ``E = gamma X^2 / 2 + eps sum |n_k| + (eta_tilde / tau) sum n_k^2`` of a trajectory, USD.

        Parameters
        ----------
        holdings_coin : array of ``x_0 = X, ..., x_N = 0``, coin
        interval_s : float, ``tau``, seconds, > 0

        ``0.5 * 0.5 * 2^2 + 0.1 * 2 + (2 - 0.5 / 2) * (1 + 1)``:

        >>> AlmgrenChriss(1.0, 2.0, 0.5, 0.1).expected_cost_usd([2.0, 1.0, 0.0], 1.0)
        4.7
        """
        holdings = _trajectory(holdings_coin)
        trades = -np.diff(holdings)
        return float(
            0.5 * self.permanent_impact * holdings[0] ** 2
            + self.fixed_cost_usd_per_coin * np.abs(trades).sum()
            + self.eta_tilde(interval_s) / interval_s * (trades @ trades)
        )

    def cost_variance_usd2(self, holdings_coin: ArrayLike, interval_s: float) -> float:
        """Return ``V = sigma^2 tau sum_{k=1..N} x_k^2`` of a trajectory, USD squared.

        >>> AlmgrenChriss(2.0, 1.0).cost_variance_usd2([2.0, 1.0, 0.0], 3.0)
        12.0
        """
        holdings = _trajectory(holdings_coin)
        _require(interval_s, "interval_s", positive=True)
        return float(self.sigma_usd**2 * interval_s * (holdings[1:] @ holdings[1:]))

    def efficient_frontier(
        self, size_coin: float, interval_s: float, slice_count: int, variance_aversions_per_usd: ArrayLike
    ) -> tuple[FloatArray, FloatArray]:
        """Return ``(V, E)`` of the optimal trajectories for each ``lambda``: the efficient frontier.

        Returns
        -------
        variance_usd2, expected_cost_usd : ndarrays, one entry per ``lambda``
        """
        aversions = np.asarray(variance_aversions_per_usd, dtype=np.float64).ravel()
        variance, expected = np.empty(aversions.size), np.empty(aversions.size)
        for index, aversion in enumerate(aversions):
            holdings = self.optimal_holdings(size_coin, interval_s, slice_count, float(aversion))
            variance[index] = self.cost_variance_usd2(holdings, interval_s)
            expected[index] = self.expected_cost_usd(holdings, interval_s)
        return variance, expected


def _trajectory(holdings_coin: ArrayLike) -> FloatArray:
    holdings = np.asarray(holdings_coin, dtype=np.float64)
    if holdings.ndim != 1 or holdings.size < 2 or not np.all(np.isfinite(holdings)):
        raise BadData("a trajectory is a finite array x_0, ..., x_N of at least two holdings")
    if holdings[-1] != 0.0:
        raise BadData(f"a trajectory ends with nothing left to trade, got x_N = {holdings[-1]:g}")
    return holdings


@dataclass(frozen=True, slots=True)
class HedgePace:
    """How a hedge is spread over time: the chosen trajectory and what it is expected to cost.

    Attributes
    ----------
    size_coin : Decimal, the hedge, coin, a whole number of lots
    lot_coin : Decimal, coin
    interval_ns : int, time between slices, ns
    holdings_coin : ndarray of shape (N + 1,), coin still to trade after each slice
    kappa_per_s : float, the trajectory's decay rate ``kappa``, per second
    expected_cost_usd : float, ``E``, USD
    variance_usd2 : float, ``V``, USD squared
    slices_cost_usd : float, the fixed cost of the N slices, USD
    certainty_equivalent_cost_usd : float, ``E + (gamma_u / 2) V`` plus the slices' fixed cost, USD
    """

    size_coin: Decimal
    lot_coin: Decimal
    interval_ns: int
    holdings_coin: FloatArray
    kappa_per_s: float
    expected_cost_usd: float
    variance_usd2: float
    slices_cost_usd: float
    certainty_equivalent_cost_usd: float

    @property
    def slice_count(self) -> int:
        """Return ``N``, the number of slices."""
        return self.holdings_coin.size - 1

    @property
    def horizon_ns(self) -> int:
        """Return ``T = N tau``, ns."""
        return self.slice_count * self.interval_ns

    def schedule(self, start_ns: int) -> tuple[ScheduledSlice, ...]:
        """Return the trajectory's slices in whole lots, slice ``k`` sent at ``start_ns + k * interval_ns``."""
        done = 1.0 - self.holdings_coin[1:] / self.holdings_coin[0]
        times = [start_ns + k * self.interval_ns for k in range(self.slice_count)]
        return lot_rounded_slices(done, times, self.size_coin, self.lot_coin)


def pace_hedge(
    model: AlmgrenChriss,
    size_coin: Decimal | float | str,
    lot_coin: Decimal | float | str,
    interval_ns: int,
    risk_aversion_per_usd: float,
    *,
    cost_per_slice_usd: float = 0.0,
    max_slices: int = 1000,
) -> HedgePace:
    """Return how many slices of ``interval_ns`` to spread a hedge over, and its optimal trajectory.

    Every slice count ``N`` from 1 up is priced at its Almgren-Chriss optimum, in
    certainty equivalent USD ``E + (gamma_u / 2) V + N * cost_per_slice_usd``, and the
    cheapest wins. The risk of waiting (``V``) is what makes trading slowly costly:
    with more volatility or risk aversion the hedge goes faster. More slices never
    raise ``E + lambda V`` (a longer schedule can end early), so the counts tried
    stop where the infinite-horizon optimum ``X exp(-kappa N tau)`` has less than half
    a lot left, or at ``max_slices``; a fixed cost per slice (gas, a per-order fee)
    makes fewer slices cheaper.

    Parameters
    ----------
    model : AlmgrenChriss, the market (sigma from the vol, impact)
    size_coin : the hedge, coin, > 0, a whole number of lots (the side is separate)
    lot_coin : coin, > 0
    interval_ns : int, time between slices, ns, > 0
    risk_aversion_per_usd : float, ``gamma_u``, the absolute risk aversion of
        ``policy/cost_aware.py``, per USD, >= 0; ``lambda = gamma_u / 2``
    cost_per_slice_usd : float, fixed cost of each slice, USD, >= 0
    max_slices : int >= 1

    Returns
    -------
    HedgePace

    Examples
    --------
    2 BTC at 100,000 USD and 60% vol, 10-second slices, ``eta`` 50 USD per BTC per
    (BTC per second), risk aversion 0.001 per USD: 25 slices over about 4 minutes,
    the first 0.571 BTC; ten times the risk aversion trades it in 9.

    >>> model = AlmgrenChriss.from_annual_vol(100_000.0, 0.6, temporary_impact=50.0)
    >>> pace = pace_hedge(model, "2", "0.001", 10_000_000_000, 1e-3)
    >>> pace.slice_count, str(pace.schedule(0)[0].size_coin), round(pace.certainty_equivalent_cost_usd, 2)
    (25, '0.571', 5.71)
    >>> pace_hedge(model, "2", "0.001", 10_000_000_000, 1e-2).slice_count
    9
    """
    size, lot = to_decimal(size_coin, "size_coin"), to_decimal(lot_coin, "lot_coin")
    if not (size > 0 and lot > 0):
        raise BadData(f"size_coin and lot_coin must be > 0, got {size} and {lot}")
    if interval_ns <= 0 or max_slices < 1:
        raise BadData(f"interval_ns and max_slices must be >= 1, got {interval_ns} and {max_slices}")
    _require(risk_aversion_per_usd, "risk_aversion_per_usd")
    _require(cost_per_slice_usd, "cost_per_slice_usd")
    interval_s = interval_ns * 1e-9
    variance_aversion = 0.5 * risk_aversion_per_usd
    kappa = model.kappa(interval_s, variance_aversion)
    size_float = float(size)
    most = max_slices
    if kappa > 0.0 and 2.0 * size_float > float(lot):
        most = min(max_slices, math.ceil(math.log(2.0 * size_float / float(lot)) / (kappa * interval_s)))
    best: HedgePace | None = None
    for count in range(1, most + 1):
        holdings = model.optimal_holdings(size_float, interval_s, count, variance_aversion)
        expected = model.expected_cost_usd(holdings, interval_s)
        variance = model.cost_variance_usd2(holdings, interval_s)
        slices_cost = count * cost_per_slice_usd
        total = expected + variance_aversion * variance + slices_cost
        if best is None or total < best.certainty_equivalent_cost_usd:
            best = HedgePace(size, lot, interval_ns, holdings, kappa, expected, variance, slices_cost, total)
    assert best is not None  # at least one slice count is tried
    return best

"""Almgren-Chriss: the trajectory against its closed forms, brute force and a simulation of the market."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from hedgekeeper.errors import BadData
from hedgekeeper.execution.almgren_chriss import SECONDS_PER_YEAR, AlmgrenChriss, pace_hedge
from hedgekeeper.policy.cost_aware import hedge_benefit_usd

# Almgren and Chriss's (2000) example, section 3: time in days, sigma from 30% a year over 250 days.
PAPER = AlmgrenChriss(0.3 * 50 / math.sqrt(250), 2.5e-6, 2.5e-7, 0.0625)
BTC = AlmgrenChriss.from_annual_vol(100_000.0, 0.6, temporary_impact=50.0, permanent_impact=0.5,
                                    fixed_cost_usd_per_coin=5.0)


def simulate_cost_usd(model: AlmgrenChriss, holdings: np.ndarray, tau: float, shocks: np.ndarray) -> float:
    """Return the cost against the arrival price of selling along ``holdings`` when the noise is ``shocks``.

    The paper's dynamics written out step by step: ``S_k = S_{k-1} + sigma sqrt(tau) xi_k - gamma n_k``,
    slice ``k`` sold at ``S_{k-1} - eps sgn(n_k) - eta n_k / tau``.
    """
    start_usd = 1_000.0
    price = start_usd
    proceeds = 0.0
    for k, trade in enumerate(-np.diff(holdings)):
        proceeds += trade * (price - model.fixed_cost_usd_per_coin * np.sign(trade)
                             - model.temporary_impact * trade / tau)
        price += model.sigma_usd * math.sqrt(tau) * shocks[k] - model.permanent_impact * trade
    return holdings[0] * start_usd - proceeds


@pytest.mark.parametrize("trajectory", [[3.0, 2.0, 1.5, 0.0], [3.0, 3.5, -1.0, 0.0], [2.0, 0.0]])
def test_expected_cost_and_variance_match_a_simulation_of_the_market(trajectory: list[float]) -> None:
    holdings, tau = np.array(trajectory), 2.0
    model = AlmgrenChriss(3.0, 4.0, 0.7, 0.2)
    count = holdings.size - 1
    calm = simulate_cost_usd(model, holdings, tau, np.zeros(count))
    # The cost is linear in the shocks: its variance is the sum of the squared responses to each.
    responses = [simulate_cost_usd(model, holdings, tau, np.eye(count)[k]) - calm for k in range(count)]
    assert model.expected_cost_usd(holdings, tau) == pytest.approx(calm, rel=1e-12)
    assert model.cost_variance_usd2(holdings, tau) == pytest.approx(math.fsum(r * r for r in responses), rel=1e-12)


@pytest.mark.parametrize(("size", "tau", "count", "aversion"), [(1e6, 1.0, 5, 1e-6), (1e6, 0.5, 20, 3e-6)])
def test_optimal_cost_and_variance_match_the_papers_closed_forms(
    size: float, tau: float, count: int, aversion: float
) -> None:
    holdings = PAPER.optimal_holdings(size, tau, count, aversion)
    kappa, horizon, eta_tilde = PAPER.kappa(tau, aversion), count * tau, PAPER.eta_tilde(tau)
    expected = (0.5 * PAPER.permanent_impact * size**2 + PAPER.fixed_cost_usd_per_coin * size
                + eta_tilde * size**2 * math.tanh(0.5 * kappa * tau)
                * (tau * math.sinh(2 * kappa * horizon) + 2 * horizon * math.sinh(kappa * tau))
                / (2 * tau**2 * math.sinh(kappa * horizon) ** 2))
    variance = (0.5 * PAPER.sigma_usd**2 * size**2
                * (tau * math.sinh(kappa * horizon) * math.cosh(kappa * (horizon - tau))
                   - horizon * math.sinh(kappa * tau))
                / (math.sinh(kappa * horizon) ** 2 * math.sinh(kappa * tau)))
    assert PAPER.expected_cost_usd(holdings, tau) == pytest.approx(expected, rel=1e-10)
    assert PAPER.cost_variance_usd2(holdings, tau) == pytest.approx(variance, rel=1e-10)


@pytest.mark.parametrize("model", [PAPER, BTC])
@pytest.mark.parametrize("aversion", [1e-9, 1e-6, 1e-3])
def test_kappa_solves_its_defining_equation(model: AlmgrenChriss, aversion: float) -> None:
    tau = 0.7
    kappa = model.kappa(tau, aversion)
    kappa_tilde_squared = aversion * model.sigma_usd**2 / (model.temporary_impact - 0.5 * model.permanent_impact * tau)
    assert 2 / tau**2 * (math.cosh(kappa * tau) - 1) == pytest.approx(kappa_tilde_squared, rel=1e-9)


@pytest.mark.parametrize(("model", "aversion"), [(PAPER, 1e-6), (PAPER, 2e-5), (BTC, 1e-4), (BTC, 1e-2)])
def test_optimal_trajectory_satisfies_the_discrete_euler_lagrange_equation(
    model: AlmgrenChriss, aversion: float
) -> None:
    tau = 0.5
    holdings = model.optimal_holdings(7.0, tau, 30, aversion)
    kappa_tilde_squared = aversion * model.sigma_usd**2 / model.eta_tilde(tau)
    second_difference = (holdings[:-2] - 2 * holdings[1:-1] + holdings[2:]) / tau**2
    np.testing.assert_allclose(second_difference, kappa_tilde_squared * holdings[1:-1], rtol=1e-8, atol=1e-12)
    assert holdings[0] == 7.0 and holdings[-1] == 0.0


def test_without_risk_aversion_the_trajectory_is_the_straight_line_of_twap() -> None:
    straight = np.linspace(4.0, 0.0, 9)
    np.testing.assert_allclose(PAPER.optimal_holdings(4.0, 1.0, 8, 0.0), straight, rtol=0, atol=1e-15)
    np.testing.assert_allclose(PAPER.optimal_holdings(4.0, 1.0, 8, 1e-15), straight, rtol=1e-6)


def test_with_large_risk_aversion_almost_everything_trades_in_the_first_slice() -> None:
    holdings = PAPER.optimal_holdings(1e6, 1.0, 5, 1.0)
    assert holdings[1] < 1e-3 * holdings[0]
    assert np.all(np.isfinite(holdings)) and np.all(np.diff(holdings) <= 0.0)


def test_efficient_frontier_is_decreasing_and_convex_with_slope_minus_lambda() -> None:
    aversions = np.geomspace(1e-8, 1e-4, 25)
    variance, expected = PAPER.efficient_frontier(1e6, 1.0, 10, aversions)
    order = np.argsort(variance)
    variance, expected, aversions = variance[order], expected[order], aversions[order]
    slopes = np.diff(expected) / np.diff(variance)
    assert np.all(slopes < 0.0) and np.all(np.diff(slopes) > 0.0)
    # Envelope theorem: the frontier's slope at lambda's optimum is -lambda.
    assert np.all(-aversions[:-1] <= slopes * (1 - 1e-9)) and np.all(slopes <= -aversions[1:] * (1 - 1e-9))


def test_optimum_beats_twap_and_every_trajectory_on_a_grid() -> None:
    model, tau, aversion = AlmgrenChriss(2.0, 1.5, 0.3, 0.1), 1.0, 0.4

    def objective(holdings: np.ndarray) -> float:
        return model.expected_cost_usd(holdings, tau) + aversion * model.cost_variance_usd2(holdings, tau)

    best = objective(model.optimal_holdings(1.0, tau, 3, aversion))
    twap = objective(np.linspace(1.0, 0.0, 4))
    grid = np.linspace(-0.2, 1.2, 141)
    on_grid = min(objective(np.array([1.0, x1, x2, 0.0])) for x1, x2 in itertools.product(grid, grid))
    assert best < twap
    assert best <= on_grid + 1e-12
    assert on_grid - best < 1e-3  # the grid's 0.01 spacing comes within a hair of the optimum


def test_variance_matches_the_cost_aware_policys_risk_of_carrying_a_delta() -> None:
    # Holding the whole hedge for one interval, then trading it: lambda V is the benefit of hedging at once.
    spot, vol, size, interval_s, risk_aversion = 100_000.0, 0.6, 0.5, 3600.0, 1e-4
    model = AlmgrenChriss.from_annual_vol(spot, vol, temporary_impact=1.0)
    variance = model.cost_variance_usd2([size, size, 0.0], interval_s)
    benefit = hedge_benefit_usd(size, spot, vol, risk_aversion, interval_s / SECONDS_PER_YEAR)
    assert 0.5 * risk_aversion * variance == pytest.approx(benefit, rel=1e-12)


def test_pace_picks_the_cheapest_slice_count_in_certainty_equivalent() -> None:
    interval_ns, risk_aversion, per_slice = 10_000_000_000, 1e-3, 0.2
    pace = pace_hedge(BTC, "2", "0.001", interval_ns, risk_aversion, cost_per_slice_usd=per_slice)

    def certainty_equivalent(count: int) -> float:
        holdings = BTC.optimal_holdings(2.0, 10.0, count, 0.5 * risk_aversion)
        return (BTC.expected_cost_usd(holdings, 10.0) + 0.5 * risk_aversion * BTC.cost_variance_usd2(holdings, 10.0)
                + count * per_slice)

    totals = [certainty_equivalent(count) for count in range(1, 101)]
    assert pace.slice_count == 1 + int(np.argmin(totals))
    assert pace.certainty_equivalent_cost_usd == pytest.approx(min(totals), rel=1e-12)
    assert pace.horizon_ns == pace.slice_count * interval_ns


def test_more_risk_trades_a_hedge_faster() -> None:
    counts = [pace_hedge(AlmgrenChriss.from_annual_vol(100_000.0, vol, 50.0), "2", "0.001", 10_000_000_000, 1e-3)
              .slice_count for vol in (0.2, 0.6, 1.2)]
    assert counts[0] > counts[1] > counts[2] >= 1
    calm, nervous = (pace_hedge(BTC, "2", "0.001", 10_000_000_000, aversion) for aversion in (1e-4, 1e-2))
    assert nervous.slice_count < calm.slice_count
    assert nervous.holdings_coin[1] < calm.holdings_coin[1]


def test_pace_schedule_sums_to_the_hedge_and_ends_under_half_a_lot() -> None:
    pace = pace_hedge(BTC, "2.5", "0.001", 5_000_000_000, 1e-3)
    slices = pace.schedule(start_ns=1_000)
    assert sum(s.size_coin for s in slices) == pace.size_coin
    assert all(s.ts_ns == 1_000 + k * 5_000_000_000 for k, s in enumerate(slices[:3]))
    # The optimal trajectory over the chosen horizon leaves under half a lot before its last slice.
    infinite_horizon_left = 2.5 * math.exp(-pace.kappa_per_s * 5.0 * pace.slice_count)
    assert infinite_horizon_left < 0.0005


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: AlmgrenChriss(1.0, 0.0), "temporary_impact must be a number > 0"),
        (lambda: AlmgrenChriss(math.nan, 1.0), "sigma_usd must be a number >= 0"),
        (lambda: AlmgrenChriss(1.0, 1.0, permanent_impact=4.0).kappa(1.0, 1e-3), "shorten the interval"),
        (lambda: PAPER.expected_cost_usd([1.0, 0.5], 1.0), "ends with nothing left to trade"),
        (lambda: PAPER.optimal_holdings(1.0, 1.0, 0, 1e-6), "slice_count must be >= 1"),
        (lambda: pace_hedge(BTC, "1", "0.001", 0, 1e-3), "interval_ns"),
        (lambda: pace_hedge(BTC, "1", "0.001", 1_000, -1.0), "risk_aversion_per_usd"),
    ],
)
def test_bad_parameters_are_refused_naming_the_problem(call, message: str) -> None:
    with pytest.raises(BadData, match=message):
        call()

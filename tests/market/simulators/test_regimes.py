"""Regime switching: transition frequencies, the stationary distribution, per-regime dynamics.

Monte Carlo checks allow MC_SIGMAS standard errors.
"""

from __future__ import annotations

import numpy as np
import pydantic
import pytest

from hedgekeeper.errors import BadData
from hedgekeeper.market.simulators.regimes import (
    HOURS_PER_YEAR,
    RegimeParameters,
    RegimeSwitchingParameters,
    simulate_markov_chain,
    simulate_regime_switching,
    stationary_distribution,
    transition_matrix,
)

MC_SIGMAS = 4.0
THREE_STATES = np.array([[0.90, 0.07, 0.03],
                         [0.20, 0.70, 0.10],
                         [0.05, 0.25, 0.70]])


def test_empirical_transition_frequencies_match_the_matrix() -> None:
    states = simulate_markov_chain(THREE_STATES, 0, 300_000, 1, np.random.default_rng(41))[0]
    counts = np.zeros((3, 3))
    np.add.at(counts, (states[:-1], states[1:]), 1.0)
    visits = counts.sum(axis=1, keepdims=True)
    # Given the current state, each move is an independent draw from its row.
    standard_error = np.sqrt(THREE_STATES * (1.0 - THREE_STATES) / visits)
    assert np.all(np.abs(counts / visits - THREE_STATES) < MC_SIGMAS * standard_error)


def test_stationary_distribution_solves_pi_p_equals_pi() -> None:
    pi = stationary_distribution(THREE_STATES)
    np.testing.assert_allclose(pi @ THREE_STATES, pi, atol=1e-12)
    assert pi.sum() == pytest.approx(1.0) and np.all(pi > 0.0)


def test_stationary_distribution_of_two_states_has_its_closed_form() -> None:
    p, q = 0.1, 0.3
    pi = stationary_distribution(np.array([[1 - p, p], [q, 1 - q]]))
    np.testing.assert_allclose(pi, [q / (p + q), p / (p + q)])


def test_chain_settles_into_its_stationary_distribution() -> None:
    paths = 40_000
    final = simulate_markov_chain(THREE_STATES, 2, 200, paths, np.random.default_rng(42))[:, -1]
    pi = stationary_distribution(THREE_STATES)
    frequencies = np.bincount(final, minlength=3) / paths
    assert np.all(np.abs(frequencies - pi) < MC_SIGMAS * np.sqrt(pi * (1.0 - pi) / paths))


def test_transition_matrix_of_two_regimes_has_its_closed_form() -> None:
    # Leaving rates a and b: P[0, 1] = a / (a + b) (1 - exp(-(a + b) dt)).
    a, b, dt = 1 / 30, 1 / 3, 1.0
    matrix = transition_matrix(np.array([30.0, 3.0]), dt)
    np.testing.assert_allclose(matrix.sum(axis=1), 1.0)
    assert matrix[0, 1] == pytest.approx(a / (a + b) * (1.0 - np.exp(-(a + b) * dt)))
    assert matrix[1, 0] == pytest.approx(b / (a + b) * (1.0 - np.exp(-(a + b) * dt)))


def test_regimes_switch_at_their_mean_durations_and_move_with_their_own_vol() -> None:
    parameters = RegimeSwitchingParameters(initial_regime="calm", regimes=[
        RegimeParameters(name="calm", drift=0.0, vol=0.4, mean_duration_hours=12.0),
        RegimeParameters(name="stressed", drift=0.0, vol=1.6, mean_duration_hours=3.0),
    ])
    dt_years = 1 / HOURS_PER_YEAR / 60  # one minute
    rng = np.random.default_rng(43)
    paths = simulate_regime_switching(100.0, parameters, dt_years, 20_000, 20, rng)
    step_regime = paths.regime[:, :-1]
    returns = np.diff(np.log(paths.spot_usd), axis=1)
    for index, vol in enumerate((0.4, 1.6)):
        sample = returns[step_regime == index]
        variance = vol**2 * dt_years
        assert abs(sample.var() - variance) < MC_SIGMAS * variance * np.sqrt(2.0 / sample.size)
    np.testing.assert_allclose(paths.variance, np.where(paths.regime == 0, 0.16, 2.56))
    # Time in stress: 3 / (12 + 3) of the time once settled; the chain starts calm.
    assert 0.15 < (paths.regime == 1).mean() < 0.25


def test_bad_transition_matrix_is_refused() -> None:
    with pytest.raises(BadData, match="rows must sum to one"):
        simulate_markov_chain(np.array([[0.5, 0.4], [0.5, 0.5]]), 0, 3, 1, np.random.default_rng(0))
    with pytest.raises(BadData, match="square"):
        stationary_distribution(np.ones((2, 3)) / 3)


def test_initial_regime_must_be_one_of_the_regimes() -> None:
    regimes = [RegimeParameters(name="calm", drift=0.0, vol=0.4, mean_duration_hours=12.0),
               RegimeParameters(name="stressed", drift=0.0, vol=1.6, mean_duration_hours=3.0)]
    with pytest.raises(pydantic.ValidationError, match="'panic' is not one of the regimes"):
        RegimeSwitchingParameters(initial_regime="panic", regimes=regimes)

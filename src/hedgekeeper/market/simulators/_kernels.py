"""Numba kernels for the simulators' sequential recursions (each step needs the last).

The random numbers are drawn by the callers from their ``np.random.Generator`` and
passed in, so the kernels hold no randomness of their own: a path is a pure
function of its inputs.
"""

from __future__ import annotations

import math

import numba as nb
import numpy as np

_JIT = {"cache": True, "nogil": True, "error_model": "numpy"}

_INV_SQRT_2 = 0.7071067811865476
_CRITICAL_PSI = 1.5  # Andersen's switch between the quadratic and exponential branches


@nb.njit(**_JIT)
def heston_quadratic_exponential(
    drift: float,
    initial_variance: float,
    mean_reversion: float,
    long_run_variance: float,
    vol_of_variance: float,
    correlation: float,
    dt_years: float,
    variance_normals: np.ndarray,
    spot_normals: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    # Andersen (2008), "Simple and efficient simulation of the Heston stochastic
    # volatility model": QE variance step (section 3.2.4), central log-spot step with
    # gamma1 = gamma2 = 1/2 (eq. 33) and the martingale correction (section 4.3.3).
    # Returns the log spot relative to the start, and the variance.
    path_count, step_count = variance_normals.shape
    log_spot = np.empty((path_count, step_count + 1))
    variance = np.empty((path_count, step_count + 1))
    decay = math.exp(-mean_reversion * dt_years)
    one_minus_decay = -math.expm1(-mean_reversion * dt_years)  # exact at 1-second steps
    xi2 = vol_of_variance * vol_of_variance
    half_dt = 0.5 * dt_years
    rho_over_xi = correlation / vol_of_variance
    k1 = half_dt * (mean_reversion * rho_over_xi - 0.5) - rho_over_xi
    k2 = half_dt * (mean_reversion * rho_over_xi - 0.5) + rho_over_xi
    k3 = half_dt * (1.0 - correlation * correlation)
    k4 = k3
    uncorrected_k0 = -rho_over_xi * mean_reversion * long_run_variance * dt_years
    a_coefficient = k2 + 0.5 * k4
    for path in range(path_count):
        log_spot[path, 0] = 0.0
        variance[path, 0] = initial_variance
        for step in range(step_count):
            v = variance[path, step]
            mean = long_run_variance + (v - long_run_variance) * decay
            second = (v * xi2 * decay * one_minus_decay / mean_reversion
                      + long_run_variance * xi2 * one_minus_decay**2 / (2.0 * mean_reversion))
            psi = second / (mean * mean)
            z = variance_normals[path, step]
            k0 = uncorrected_k0
            if psi <= _CRITICAL_PSI:
                inverse_psi = 2.0 / psi
                b2 = inverse_psi - 1.0 + math.sqrt(inverse_psi) * math.sqrt(inverse_psi - 1.0)
                a = mean / (1.0 + b2)
                next_v = a * (math.sqrt(b2) + z) ** 2
                if a_coefficient < 0.5 / a:
                    k0 = (-a_coefficient * b2 * a / (1.0 - 2.0 * a_coefficient * a)
                          + 0.5 * math.log(1.0 - 2.0 * a_coefficient * a) - (k1 + 0.5 * k3) * v)
            else:
                p = (psi - 1.0) / (psi + 1.0)
                beta = (1.0 - p) / mean
                # 1 - U for U = N(z), computed as N(-z) so that it stays exact in the far tail.
                survival = 0.5 * math.erfc(z * _INV_SQRT_2)
                next_v = 0.0 if survival >= 1.0 - p else math.log((1.0 - p) / survival) / beta
                if a_coefficient < beta:
                    k0 = (-math.log(p + beta * (1.0 - p) / (beta - a_coefficient))
                          - (k1 + 0.5 * k3) * v)
            variance[path, step + 1] = next_v
            log_spot[path, step + 1] = (
                log_spot[path, step] + drift * dt_years + k0 + k1 * v + k2 * next_v
                + math.sqrt(k3 * v + k4 * next_v) * spot_normals[path, step]
            )
    return log_spot, variance


@nb.njit(**_JIT)
def markov_chain(
    cumulative_transitions: np.ndarray, initial_state: int, uniforms: np.ndarray
) -> np.ndarray:
    # State s moves to the first j with uniform < cumulative_transitions[s, j].
    path_count, step_count = uniforms.shape
    state_count = cumulative_transitions.shape[0]
    states = np.empty((path_count, step_count + 1), dtype=np.int64)
    for path in range(path_count):
        state = initial_state
        states[path, 0] = state
        for step in range(step_count):
            u = uniforms[path, step]
            next_state = 0
            while next_state < state_count - 1 and u >= cumulative_transitions[state, next_state]:
                next_state += 1
            state = next_state
            states[path, step + 1] = state
    return states


@nb.njit(**_JIT)
def deviation_heartbeat_rounds(
    price: np.ndarray, ts_ns: np.ndarray, deviation_threshold: float, heartbeat_ns: int
) -> np.ndarray:
    # A round at the first observation, then whenever the price has moved by the
    # threshold from the last reported one or the heartbeat has elapsed since it.
    rounds = np.empty(price.shape[0], dtype=np.int64)
    if price.shape[0] == 0:
        return rounds
    count = 1
    rounds[0] = 0
    reported_price = price[0]
    reported_ns = ts_ns[0]
    for i in range(1, price.shape[0]):
        moved = abs(price[i] - reported_price) >= deviation_threshold * reported_price
        if moved or ts_ns[i] - reported_ns >= heartbeat_ns:
            rounds[count] = i
            count += 1
            reported_price = price[i]
            reported_ns = ts_ns[i]
    return rounds[:count]

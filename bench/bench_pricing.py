"""Benchmark: price + delta + gamma + vega + theta of 1,000,000 European options.

hedgekeeper's fused numba kernel (``black_scholes_greeks``, which also returns rho,
vanna and volga) against py_vollib_vectorized, the numba-vectorised port of
py_vollib, measured in the same run on the same random options. Both are warmed up
first so that JIT compilation is not timed; each figure is the best of several runs.

    python bench/bench_pricing.py [--n 1000000] [--repeat 5]
"""

from __future__ import annotations

import argparse
import os
import time
from collections.abc import Callable

import numba
import numpy as np

from hedgekeeper.pricing import black_scholes_greeks


def best_seconds(run: Callable[[], object], repeat: int) -> float:
    """Return the fastest wall time of ``repeat`` calls of ``run``, after one warm-up call."""
    run()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1_000_000, help="number of options")
    parser.add_argument("--repeat", type=int, default=5, help="timed runs per library")
    options = parser.parse_args()

    import py_vollib_vectorized as peer  # the benchmark extra: pip install -e '.[bench]'

    rng = np.random.default_rng(7)
    n = options.n
    spot = rng.uniform(10_000.0, 100_000.0, n)
    strike = spot * np.exp(rng.uniform(-1.0, 1.0, n))
    t_years = rng.uniform(1.0 / 365, 2.0, n)
    vol = rng.uniform(0.2, 2.0, n)
    rate = 0.03
    is_call = rng.random(n) < 0.5
    flag = np.where(is_call, "c", "p")

    def ours() -> object:
        return black_scholes_greeks(spot, strike, t_years, vol, is_call, rate=rate)

    def theirs() -> object:
        args = (flag, spot, strike, t_years, rate, vol)
        return (
            peer.vectorized_black_scholes(*args, return_as="numpy"),
            peer.vectorized_delta(*args, model="black_scholes", return_as="numpy"),
            peer.vectorized_gamma(*args, model="black_scholes", return_as="numpy"),
            peer.vectorized_vega(*args, model="black_scholes", return_as="numpy"),
            peer.vectorized_theta(*args, model="black_scholes", return_as="numpy"),
        )

    g = ours()
    price, delta, gamma, vega, theta = theirs()
    price_gap = np.max(np.abs(g.price - price) / spot)
    delta_gap = np.max(np.abs(g.delta - delta))
    # The peer's gamma, vega and theta are finite-difference estimates (per vol point,
    # per day), so they are compared in relative terms against the closed forms.
    live = g.vega > 1e-6 * spot  # options whose Greeks have not underflowed to zero
    numerical_gap = max(
        np.median(np.abs(g.gamma - gamma)[live] / g.gamma[live]),
        np.median(np.abs(g.vega / 100 - vega)[live] / (g.vega[live] / 100)),
        np.median(np.abs(g.theta / 365 - theta)[live] / np.abs(g.theta[live] / 365)),
    )

    ours_s = best_seconds(ours, options.repeat)
    numba.set_num_threads(1)
    ours_one_core_s = best_seconds(ours, options.repeat)
    numba.set_num_threads(numba.config.NUMBA_NUM_THREADS)
    theirs_s = best_seconds(theirs, options.repeat)

    print(f"European options, price + delta + gamma + vega + theta, n = {n:,}, cores = {os.cpu_count()}")
    print(f"{'library':<34}{'seconds':>10}{'options/s':>16}")
    rows = [
        ("hedgekeeper (all cores)", ours_s),
        ("hedgekeeper (one core)", ours_one_core_s),
        ("py_vollib_vectorized 0.1.1", theirs_s),
    ]
    for name, seconds in rows:
        print(f"{name:<34}{seconds:>10.4f}{n / seconds:>16,.0f}")
    print(f"ratio hedgekeeper / peer (options per second): {theirs_s / ours_s:.1f}x")
    print(f"agreement: price within {price_gap:.1e} of spot, delta within {delta_gap:.1e}; the peer's")
    print(f"numerical gamma/vega/theta sit a median {numerical_gap:.1e} (relative) off the closed forms")


if __name__ == "__main__":
    main()

"""Benchmark: implied volatility of 1,000,000 random quotes spanning the extremes.

hedgekeeper's ``implied_vol_black76`` (Jäckel's "Let's Be Rational" in a parallel
numba kernel) against py_vollib_vectorized (the same algorithm, numba, one thread),
on the same quotes in the same run. Both are warmed up first so that JIT
compilation is not timed; each figure is the best of ``--repeat`` runs.

Quotes: vol log-uniform 5% to 500%, expiry log-uniform 1 minute to 5 years,
strike uniform from 8 standard deviations out of to 8 in the money, USD rate 0 to
10%, calls and puts. They are priced with ``black76_price`` on the out-of-the-money
side, plus the discounted intrinsic value in the money (put-call parity): straight
``F N(d1) - K N(d2)`` loses about 2**-52 F to cancellation, which deep in the money
swamps the time value and would blame both solvers for the pricer's rounding.

A quote carries information when its vol is resolved to 1e-9 by its float64 price
(hedgekeeper's rule, evaluated at the true vol here so that it judges neither
library): ``vega * 1e-9 >= 8 * 2**-52 * price``, undiscounted. Round trips are
counted off when the vol returned is NaN or more than 1e-9 from the true vol.

    python bench/bench_implied_vol.py [--n 1000000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import os
import time
import warnings
from collections.abc import Callable
from typing import NamedTuple

import numba
import numpy as np

from hedgekeeper.pricing.black76 import black76_greeks, black76_price
from hedgekeeper.pricing.implied_vol import (
    PRICE_UNCERTAINTY_ULPS,
    VOL_RESOLUTION,
    implied_vol_black76,
)

ONE_MINUTE_YEARS = 1.0 / 525_600.0


class Quotes(NamedTuple):
    """Random Black-76 quotes, USD per coin, with the vol that priced them."""

    price: np.ndarray
    forward: np.ndarray
    strike: np.ndarray
    t_years: np.ndarray
    rate: np.ndarray
    is_call: np.ndarray
    vol: np.ndarray


def make_quotes(n: int, rng: np.random.Generator) -> Quotes:
    """Return ``n`` quotes spanning the extremes (see the module docstring)."""
    forward = rng.uniform(1_000.0, 100_000.0, n)
    vol = np.exp(rng.uniform(np.log(0.05), np.log(5.0), n))
    t_years = np.exp(rng.uniform(np.log(ONE_MINUTE_YEARS), np.log(5.0), n))
    strike = forward * np.exp(-rng.uniform(-8.0, 8.0, n) * vol * np.sqrt(t_years))
    rate = rng.uniform(0.0, 0.1, n)
    is_call = rng.random(n) < 0.5
    out_of_the_money_is_call = strike >= forward
    out_of_the_money = black76_price(
        forward, strike, t_years, vol, out_of_the_money_is_call, rate=rate
    )
    intrinsic = np.maximum(np.where(is_call, forward - strike, strike - forward), 0.0)
    price = out_of_the_money + np.exp(-rate * t_years) * intrinsic
    return Quotes(price, forward, strike, t_years, rate, is_call, vol)


def carries_information(quotes: Quotes) -> np.ndarray:
    """Return where the float64 price resolves the vol to ``VOL_RESOLUTION``, at the true vol."""
    greeks = black76_greeks(
        quotes.forward, quotes.strike, quotes.t_years, quotes.vol, quotes.is_call, rate=quotes.rate
    )
    return (
        greeks.vega * VOL_RESOLUTION >= PRICE_UNCERTAINTY_ULPS * np.finfo(float).eps * quotes.price
    )


def best_seconds(run: Callable[[], np.ndarray], repeat: int) -> tuple[float, np.ndarray]:
    """Return the fastest wall time of ``repeat`` calls of ``run`` and the last result."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        result = run()
        times.append(time.perf_counter() - start)
    return min(times), result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1_000_000, help="number of quotes")
    parser.add_argument("--repeat", type=int, default=3, help="timed runs per library")
    options = parser.parse_args()

    import py_vollib_vectorized as peer  # the benchmark extra: pip install -e '.[bench]'

    # Quotes ---------------------------------------------------------------------
    quotes = make_quotes(options.n, np.random.default_rng(7))
    informative = carries_information(quotes)
    flag = np.where(quotes.is_call, "c", "p")

    # Solvers, warmed up on a slice ----------------------------------------------
    def ours(sl: slice = slice(None)) -> np.ndarray:
        return implied_vol_black76(
            quotes.price[sl],
            quotes.forward[sl],
            quotes.strike[sl],
            quotes.t_years[sl],
            quotes.is_call[sl],
            quotes.rate[sl],
        )

    def theirs(sl: slice = slice(None)) -> np.ndarray:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return peer.vectorized_implied_volatility(
                quotes.price[sl],
                quotes.forward[sl],
                quotes.strike[sl],
                quotes.t_years[sl],
                quotes.rate[sl],
                flag[sl],
                q=0.0,
                model="black",
                on_error="ignore",
                return_as="numpy",
            )

    ours(slice(0, 1000))
    theirs(slice(0, 1000))

    # Results --------------------------------------------------------------------
    n = options.n
    print(
        f"implied vol: {n:,} quotes, {os.cpu_count()} cores, "
        f"numba threads {numba.get_num_threads()}"
    )
    print("vol 5%..500%, expiry 1 minute..5 years, strike -8..+8 sd, rate 0..10%, calls and puts")
    print(
        f"excluded as carrying no information: {np.count_nonzero(~informative):,} "
        f"(rule: vega * {VOL_RESOLUTION:g} < {PRICE_UNCERTAINTY_ULPS:g} ulp of the price, "
        "at the true vol)"
    )
    print()
    header = (
        f"{'library':<22}{'vols per s':>12}{'best time s':>13}{'off by > 1e-9':>15}{'of them NaN':>13}"
        f"{'excluded but given a vol (off)':>32}"
    )
    print(header)
    print("-" * len(header))
    rates = {}
    for name, solve in (("hedgekeeper", ours), ("py_vollib_vectorized", theirs)):
        seconds, vols = best_seconds(solve, options.repeat)
        rates[name] = n / seconds
        off = ~(np.abs(vols - quotes.vol) <= VOL_RESOLUTION)
        given = np.isfinite(vols) & ~informative
        excluded = f"{np.count_nonzero(given):,} ({np.count_nonzero(given & off):,})"
        print(
            f"{name:<22}{rates[name] / 1e6:>10.2f} M{seconds:>13.3f}"
            f"{np.count_nonzero(off & informative):>15,}"
            f"{np.count_nonzero(np.isnan(vols) & informative):>13,}{excluded:>32}"
        )
    print()
    print(
        "ratio hedgekeeper / py_vollib_vectorized: "
        f"{rates['hedgekeeper'] / rates['py_vollib_vectorized']:.2f}x"
    )
    print(
        f"'off' counts among the {np.count_nonzero(informative):,} informative quotes; the last "
        "column counts vols returned for excluded quotes (and how many of them are off)"
    )


if __name__ == "__main__":
    main()

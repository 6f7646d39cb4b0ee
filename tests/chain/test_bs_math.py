"""bs_math.vy: fixed-point ln, exp, sqrt, normal CDF and Black-Scholes delta against Python.

The truth is independent: ``math.log``, ``math.exp``, ``math.isqrt`` (exact
integer square root), ``scipy.stats.norm.cdf`` and ``hedgekeeper.pricing``. Inputs
are exactly representable 18-decimal integers, and the reference is evaluated at
the same decimal values.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from scipy.stats import norm
from web3.contract import Contract

from hedgekeeper.chain.backends import Chain
from hedgekeeper.chain.deploy import deploy_contract
from hedgekeeper.chain.errors import TransactionReverted
from hedgekeeper.pricing.black_scholes import black_scholes_greeks

ONE = 10**18
HARNESS = Path(__file__).resolve().parent / "contracts" / "bs_math_harness.vy"


@pytest.fixture(scope="module")
def harness(chain: Chain) -> Contract:
    return deploy_contract(chain, HARNESS)


def _fixed(values: np.ndarray) -> list[int]:
    return [int(round(float(v) * ONE)) for v in values]


def test_ln_agrees_with_math_log_from_1e_minus_12_to_1e12(harness: Contract) -> None:
    xs = _fixed(np.geomspace(1e-12, 1e12, 101)) + [ONE, ONE + 1, ONE - 1, 2 * ONE, 1]
    got = harness.functions.ln(xs).call()
    for x, y in zip(xs, got, strict=True):
        assert abs(y / ONE - math.log(x / ONE)) <= 1e-15 * max(1.0, abs(math.log(x / ONE)))


def test_ln_of_zero_or_a_negative_number_reverts(harness: Contract, chain: Chain) -> None:
    for bad in (0, -ONE):
        with pytest.raises(TransactionReverted, match="ln of a non-positive"):
            chain.call(harness.functions.ln([bad]))


def test_exp_agrees_with_math_exp_relatively(harness: Contract) -> None:
    xs = _fixed(np.linspace(-30.0, 80.0, 111)) + [0, 1, -1]
    got = harness.functions.exp(xs).call()
    for x, y in zip(xs, got, strict=True):
        expected = math.exp(x / ONE)
        # relative 1e-12, or the 1e-18 resolution of the fixed point for tiny results
        assert abs(y / ONE - expected) <= 1e-12 * expected + 2e-18


def test_exp_underflows_to_zero_below_minus_42(harness: Contract) -> None:
    assert harness.functions.exp([-43 * ONE, -100 * ONE]).call() == [0, 0]


def test_sqrt_is_the_exact_integer_square_root(harness: Contract) -> None:
    xs = [0, 1, 2, ONE, 2 * ONE, 10**30, 123456789 * ONE // 1000, 7 * 10**40]
    assert harness.functions.sqrt(xs).call() == [math.isqrt(x * ONE) for x in xs]


def test_norm_cdf_agrees_with_scipy_to_1e_15_absolute_and_in_the_tails(harness: Contract) -> None:
    xs = _fixed(np.concatenate([np.linspace(-12.0, 12.0, 97), [-38.0, 38.0, 7.0710678, -7.0710679]]))
    got = harness.functions.norm_cdf(xs).call()
    for x, y in zip(xs, got, strict=True):
        expected = float(norm.cdf(x / ONE))
        assert abs(y / ONE - expected) <= 1e-15
        if 1e-9 < expected < 0.5:  # the lower tail keeps relative accuracy
            assert abs(y / ONE - expected) <= 1e-9 * expected


def test_norm_cdf_is_monotone_and_symmetric(harness: Contract) -> None:
    xs = _fixed(np.linspace(-6.0, 6.0, 121))
    got = harness.functions.norm_cdf(xs).call()
    assert all(a <= b for a, b in zip(got, got[1:]))
    mirrored = harness.functions.norm_cdf([-x for x in xs]).call()
    assert all(abs(a + b - ONE) <= 2 for a, b in zip(got, mirrored, strict=True))


def test_delta_agrees_with_hedgekeeper_pricing_to_1e_minus_6_over_a_grid(harness: Contract) -> None:
    spots = np.array([600.0, 1500.0, 2800.0, 3000.0, 3300.0, 6000.0])
    strikes = np.array([1000.0, 2900.0, 3000.0, 3500.0])
    t_years = np.array([1.0 / 365.0, 7.0 / 365.0, 0.25, 1.0, 3.0])
    vols = np.array([0.1, 0.6, 1.5])
    grid = np.array(np.meshgrid(spots, strikes, t_years, vols, [True, False], indexing="ij")).reshape(5, -1)
    compared = 0
    for start in range(0, grid.shape[1], 120):
        s, k, t, v, c = (row[start : start + 120] for row in grid)
        got = harness.functions.delta(_fixed(s), _fixed(k), _fixed(t), _fixed(v), [bool(x) for x in c]).call()
        expected = black_scholes_greeks(s, k, t, v, c.astype(bool)).delta
        got_float = np.array(got, dtype=float) / ONE
        # 1e-6 relative; below |delta| = 1e-9 the 18-decimal grid's own resolution rules
        tolerance = 1e-6 * np.abs(expected) + 1e-15
        assert np.all(np.abs(got_float - expected) <= tolerance), (s, k, t, v, c, got_float, expected)
        compared += len(got)
    assert compared == grid.shape[1] == 720


def test_delta_at_expiry_is_the_step_with_one_half_at_the_money(harness: Contract) -> None:
    spots = _fixed(np.array([2900.0, 3000.0, 3100.0] * 2))
    strikes = _fixed(np.full(6, 3000.0))
    calls = [True] * 3 + [False] * 3
    got = harness.functions.delta(spots, strikes, [0] * 6, _fixed(np.full(6, 0.8)), calls).call()
    expected = black_scholes_greeks(np.array(spots) / ONE, 3000.0, 0.0, 0.8, np.array(calls)).delta
    assert [g / ONE for g in got] == list(expected) == [0.0, 0.5, 1.0, -1.0, -0.5, 0.0]


def test_year_fraction_is_act_365(harness: Contract) -> None:
    assert harness.functions.year_fraction(365 * 86400).call() == ONE
    assert harness.functions.year_fraction(86400).call() == ONE // 365

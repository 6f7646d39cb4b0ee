"""Black-76 against Hull's example, parity, finite differences and its limits."""

from __future__ import annotations

import numpy as np
import pytest

from hedgekeeper.pricing import black76_greeks, black76_price
from finite_differences import central_difference

rng = np.random.default_rng(76)
N = 300
FORWARD = rng.uniform(1_000.0, 100_000.0, N)
STRIKE = FORWARD * np.exp(rng.uniform(-1.0, 1.0, N))
T_YEARS = rng.uniform(1.0 / 365, 3.0, N)
VOL = rng.uniform(0.1, 3.0, N)
RATE = rng.uniform(0.0, 0.1, N)
IS_CALL = rng.random(N) < 0.5


def _greeks(**bumps: np.ndarray):
    args = {"forward": FORWARD, "strike": STRIKE, "t_years": T_YEARS, "vol": VOL,
            "is_call": IS_CALL, "rate": RATE} | bumps
    return black76_greeks(**args)


def test_hull_example_18_6_futures_put() -> None:
    # Hull (9th ed.) Example 18.6: crude oil futures 20, strike 20, r 9%, vol 25%, 4 months: 1.12.
    assert float(black76_price(20.0, 20.0, 4 / 12, 0.25, False, rate=0.09)) == pytest.approx(1.12, abs=0.005)


def test_put_call_parity_on_the_forward() -> None:
    call = black76_price(FORWARD, STRIKE, T_YEARS, VOL, True, RATE)
    put = black76_price(FORWARD, STRIKE, T_YEARS, VOL, False, RATE)
    parity = np.exp(-RATE * T_YEARS) * (FORWARD - STRIKE)
    assert np.all(np.abs(call - put - parity) <= 1e-10 * FORWARD)


def test_greeks_match_finite_differences() -> None:
    g = _greeks()
    h_forward = 1e-4 * FORWARD
    np.testing.assert_allclose(
        g.delta, central_difference(lambda f: _greeks(forward=f).price, FORWARD, h_forward), atol=1e-7)
    np.testing.assert_allclose(
        g.gamma, central_difference(lambda f: _greeks(forward=f).delta, FORWARD, h_forward),
        rtol=1e-5, atol=1e-13)
    np.testing.assert_allclose(
        g.vega, central_difference(lambda v: _greeks(vol=v).price, VOL, 1e-5), rtol=1e-6, atol=1e-4)
    np.testing.assert_allclose(
        g.theta, -central_difference(lambda t: _greeks(t_years=t).price, T_YEARS, 1e-6), rtol=1e-5, atol=1e-3)


def test_rho_holds_the_forward_fixed() -> None:
    g = _greeks()
    np.testing.assert_allclose(g.rho, -T_YEARS * g.price, rtol=1e-13)
    np.testing.assert_allclose(
        g.rho, central_difference(lambda r: _greeks(rate=r).price, RATE, 1e-6), rtol=1e-5, atol=1e-4)


def test_black76_delta_at_expiry_is_step() -> None:
    g = black76_greeks(np.array([99.0, 100.0, 101.0]), 100.0, 0.0, 0.5, False)
    np.testing.assert_array_equal(g.delta, [-1.0, -0.5, 0.0])
    np.testing.assert_array_equal(g.price, [1.0, 0.0, 0.0])


def test_deep_out_of_the_money_price_is_tiny_and_positive() -> None:
    price = black76_price(100.0, 1_000.0, 1.0 / 365, 0.5, True)
    assert 0.0 <= float(price) < 1e-300 or float(price) == 0.0
    assert float(black76_price(100.0, 300.0, 0.5, 0.5, True)) > 0.0

"""Black-Scholes-Merton against closed forms, parity, finite differences and Hull's examples."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from hedgekeeper.errors import BadData
from hedgekeeper.pricing import black76_greeks, black_scholes_greeks, black_scholes_price
from finite_differences import central_difference, second_difference

rng = np.random.default_rng(20261125)
N = 400
SPOT = rng.uniform(20_000.0, 120_000.0, N)
STRIKE = SPOT * np.exp(rng.uniform(-0.8, 0.8, N))
T_YEARS = rng.uniform(2.0 / 365, 2.0, N)
VOL = rng.uniform(0.2, 2.0, N)
RATE = rng.uniform(-0.01, 0.08, N)
COIN_RATE = rng.uniform(0.0, 0.05, N)
IS_CALL = rng.random(N) < 0.5


def _greeks(**bumps: np.ndarray):
    args = {"spot": SPOT, "strike": STRIKE, "t_years": T_YEARS, "vol": VOL, "is_call": IS_CALL,
            "rate": RATE, "coin_rate": COIN_RATE} | bumps
    return black_scholes_greeks(**args)


def test_hull_example_15_6_call_and_put() -> None:
    price = black_scholes_price(42.0, 40.0, 0.5, 0.2, np.array([True, False]), rate=0.1)
    np.testing.assert_allclose(price, [4.76, 0.81], atol=0.005)


def test_hull_chapter_19_greeks_of_a_call() -> None:
    # Hull (9th ed.) sections 19.4-19.8: S=49, K=50, r=5%, vol 20%, 20 weeks.
    g = black_scholes_greeks(49.0, 50.0, 20 / 52, 0.2, True, rate=0.05)
    assert float(g.price) == pytest.approx(2.40, abs=0.005)
    assert float(g.delta) == pytest.approx(0.522, abs=0.0005)
    assert float(g.gamma) == pytest.approx(0.066, abs=0.0005)
    assert float(g.theta) == pytest.approx(-4.31, abs=0.005)
    assert float(g.vega) == pytest.approx(12.1, abs=0.05)
    assert float(g.rho) == pytest.approx(8.91, abs=0.005)


def test_put_call_parity_holds_to_rounding() -> None:
    call = black_scholes_price(SPOT, STRIKE, T_YEARS, VOL, True, RATE, COIN_RATE)
    put = black_scholes_price(SPOT, STRIKE, T_YEARS, VOL, False, RATE, COIN_RATE)
    parity = SPOT * np.exp(-COIN_RATE * T_YEARS) - STRIKE * np.exp(-RATE * T_YEARS)
    assert np.all(np.abs(call - put - parity) <= 1e-10 * SPOT)


def test_price_lies_within_no_arbitrage_bounds() -> None:
    g = _greeks()
    spot_pv = SPOT * np.exp(-COIN_RATE * T_YEARS)
    strike_pv = STRIKE * np.exp(-RATE * T_YEARS)
    upper = np.where(IS_CALL, spot_pv, strike_pv)
    lower = np.maximum(np.where(IS_CALL, spot_pv - strike_pv, strike_pv - spot_pv), 0.0)
    assert np.all((g.price >= lower - 1e-9 * SPOT) & (g.price <= upper))


def test_delta_and_gamma_match_finite_differences_in_spot() -> None:
    g = _greeks()
    h = 1e-4 * SPOT
    price = lambda s: _greeks(spot=s).price  # noqa: E731
    np.testing.assert_allclose(g.delta, central_difference(price, SPOT, h), atol=1e-7)
    np.testing.assert_allclose(g.gamma, second_difference(price, SPOT, h), rtol=1e-4, atol=1e-12)


def test_vega_vanna_volga_match_finite_differences_in_vol() -> None:
    g = _greeks()
    h = 1e-5
    # Round-off in the difference is about 1e-16 * price / h, up to ~1e-5 USD here.
    np.testing.assert_allclose(g.vega, central_difference(lambda v: _greeks(vol=v).price, VOL, h),
                               rtol=1e-6, atol=1e-4)
    np.testing.assert_allclose(g.vanna, central_difference(lambda v: _greeks(vol=v).delta, VOL, h),
                               rtol=1e-5, atol=1e-8)
    np.testing.assert_allclose(g.volga, central_difference(lambda v: _greeks(vol=v).vega, VOL, h),
                               rtol=1e-5, atol=1e-4)


def test_theta_is_minus_the_derivative_in_time_to_expiry() -> None:
    g = _greeks()
    h = 1e-6
    np.testing.assert_allclose(g.theta, -central_difference(lambda t: _greeks(t_years=t).price, T_YEARS, h),
                               rtol=1e-5, atol=1e-4)


def test_rho_moves_the_usd_rate_with_the_coin_rate_fixed() -> None:
    g = _greeks()
    h = 1e-6
    np.testing.assert_allclose(g.rho, central_difference(lambda r: _greeks(rate=r).price, RATE, h),
                               rtol=1e-5, atol=1e-4)


def test_black_scholes_is_black76_on_the_forward() -> None:
    growth = np.exp((RATE - COIN_RATE) * T_YEARS)
    spot = _greeks()
    forward = black76_greeks(SPOT * growth, STRIKE, T_YEARS, VOL, IS_CALL, RATE)
    np.testing.assert_allclose(spot.price, forward.price, rtol=1e-12, atol=1e-9)
    np.testing.assert_allclose(spot.delta, forward.delta * growth, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(spot.gamma, forward.gamma * growth**2, rtol=1e-11)
    np.testing.assert_allclose(spot.vega, forward.vega, rtol=1e-12)


def test_agrees_with_py_vollib_reference_implementation() -> None:
    vollib = pytest.importorskip("py_vollib.black_scholes_merton")
    greeks = pytest.importorskip("py_vollib.black_scholes_merton.greeks.analytical")
    ours = _greeks()
    for i in range(0, N, 20):
        flag = "c" if IS_CALL[i] else "p"
        args = (flag, SPOT[i], STRIKE[i], T_YEARS[i], RATE[i], VOL[i], COIN_RATE[i])
        assert ours.price[i] == pytest.approx(vollib.black_scholes_merton(*args), rel=1e-9, abs=1e-8)
        assert ours.delta[i] == pytest.approx(greeks.delta(*args), rel=1e-9, abs=1e-12)
        assert ours.gamma[i] == pytest.approx(greeks.gamma(*args), rel=1e-9, abs=1e-15)


def test_at_expiry_price_is_intrinsic_and_delta_is_a_step() -> None:
    spot = np.array([90.0, 100.0, 110.0])
    g = black_scholes_greeks(spot, 100.0, 0.0, 0.8, True)
    np.testing.assert_array_equal(g.price, [0.0, 0.0, 10.0])
    np.testing.assert_array_equal(g.delta, [0.0, 0.5, 1.0])
    np.testing.assert_array_equal(g.gamma, 0.0)
    np.testing.assert_array_equal(g.vega, 0.0)


def test_zero_vol_is_discounted_intrinsic_on_the_forward() -> None:
    price = black_scholes_price(100.0, np.array([90.0, 110.0]), 1.0, 0.0, False, rate=0.05, coin_rate=0.01)
    forward = 100.0 * np.exp(0.04)
    np.testing.assert_allclose(price, np.exp(-0.05) * np.maximum([90.0 - forward, 110.0 - forward], 0.0))


def test_inputs_broadcast_to_a_common_shape() -> None:
    strikes = np.array([[80.0], [100.0], [120.0]])
    vols = np.array([0.4, 0.6, 0.8, 1.0])
    price = black_scholes_price(100.0, strikes, 0.25, vols, True)
    assert price.shape == (3, 4)
    assert price[1, 2] == black_scholes_price(100.0, 100.0, 0.25, 0.8, True)
    assert black_scholes_price(100.0, 100.0, 0.25, 0.8, True).shape == ()


@pytest.mark.parametrize(
    ("argument", "value"),
    [("spot", np.nan), ("spot", -1.0), ("strike", 0.0), ("t_years", -0.1), ("vol", -0.2), ("rate", np.inf)],
)
def test_bad_input_is_refused_naming_the_argument(argument: str, value: float) -> None:
    args = {"spot": np.array([100.0, 100.0]), "strike": 100.0, "t_years": 0.5, "vol": 0.6,
            "is_call": True, "rate": 0.0}
    args[argument] = np.array([1.0, value]) if argument != "spot" else np.array([100.0, value])
    with pytest.raises(BadData, match=rf"1 of 2 inputs invalid.*index \(1,\).*{argument}"):
        black_scholes_greeks(**args)


def test_non_boolean_option_type_is_refused() -> None:
    with pytest.raises(TypeError, match="is_call must be boolean"):
        black_scholes_price(100.0, 100.0, 0.5, 0.6, "call")


@given(
    spot=st.floats(1.0, 1e6),
    log_moneyness=st.floats(-3.0, 3.0),
    t_years=st.floats(1e-4, 5.0),
    vol=st.floats(0.01, 5.0),
)
def test_call_price_is_monotone_in_spot_and_convex(spot: float, log_moneyness: float,
                                                    t_years: float, vol: float) -> None:
    strike = spot * np.exp(log_moneyness)
    g = black_scholes_greeks(spot, strike, t_years, vol, True)
    assert 0.0 <= float(g.delta) <= 1.0
    assert float(g.gamma) >= 0.0
    assert float(g.vega) >= 0.0
    put = black_scholes_greeks(spot, strike, t_years, vol, False)
    assert float(g.delta - put.delta) == pytest.approx(1.0, abs=1e-12)

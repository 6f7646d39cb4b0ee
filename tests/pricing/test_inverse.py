"""Inverse (coin-settled) options: linear relations, premium-adjusted delta, Deribit's marks."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
from scipy.optimize import minimize_scalar
from scipy.stats import norm

from hedgekeeper.pricing import black76_greeks, inverse_greeks, inverse_price
from finite_differences import central_difference

rng = np.random.default_rng(2024)
N = 300
FORWARD = rng.uniform(10_000.0, 150_000.0, N)
STRIKE = FORWARD * np.exp(rng.uniform(-0.9, 0.9, N))
T_YEARS = rng.uniform(1.0 / 365, 1.5, N)
VOL = rng.uniform(0.2, 2.5, N)
IS_CALL = rng.random(N) < 0.5


def _greeks(**bumps: np.ndarray):
    args = {"forward": FORWARD, "strike": STRIKE, "t_years": T_YEARS, "vol": VOL, "is_call": IS_CALL} | bumps
    return inverse_greeks(**args)


def test_usd_value_equals_the_linear_option() -> None:
    linear = black76_greeks(FORWARD, STRIKE, T_YEARS, VOL, IS_CALL)
    np.testing.assert_allclose(_greeks().price * FORWARD, linear.price, rtol=1e-13, atol=1e-10)


def test_coin_put_call_parity() -> None:
    call = inverse_price(FORWARD, STRIKE, T_YEARS, VOL, True)
    put = inverse_price(FORWARD, STRIKE, T_YEARS, VOL, False)
    np.testing.assert_allclose(call - put, 1.0 - STRIKE / FORWARD, atol=1e-12)


def test_premium_adjusted_call_delta_is_strike_times_n_d2_over_forward() -> None:
    vol_sqrt_t = VOL * np.sqrt(T_YEARS)
    d2 = np.log(FORWARD / STRIKE) / vol_sqrt_t - 0.5 * vol_sqrt_t
    call = inverse_greeks(FORWARD, STRIKE, T_YEARS, VOL, True)
    np.testing.assert_allclose(call.delta, STRIKE * norm.cdf(d2) / FORWARD, rtol=1e-11, atol=1e-15)


def test_greeks_are_derivatives_of_the_coin_value() -> None:
    g = _greeks()
    h = 1e-4 * FORWARD
    coin_delta = FORWARD * central_difference(lambda f: _greeks(forward=f).price, FORWARD, h)
    np.testing.assert_allclose(g.delta, coin_delta, atol=1e-8)
    np.testing.assert_allclose(
        g.gamma, central_difference(lambda f: _greeks(forward=f).delta, FORWARD, h), rtol=1e-5, atol=1e-13)
    np.testing.assert_allclose(
        g.vega, central_difference(lambda v: _greeks(vol=v).price, VOL, 1e-5), rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(
        g.vanna, central_difference(lambda v: _greeks(vol=v).delta, VOL, 1e-5), rtol=1e-5, atol=1e-9)


def _deribit_chain(folder: Path) -> dict[str, np.ndarray]:
    rows = list(csv.DictReader((folder / "deribit_options.csv").open()))
    number = lambda name, scale=1.0: np.array([float(row[name]) * scale for row in rows])  # noqa: E731
    return {
        "forward": number("underlying_price"), "strike": number("strike"),
        "expiry_ms": number("expiration_timestamp"), "vol": number("mark_iv", 0.01),
        "is_call": np.array([row["type"] == "call" for row in rows]), "mark": number("mark_price"),
        "delta": number("delta"), "gamma": number("gamma"), "vega": number("vega"), "theta": number("theta"),
    }


def test_reproduces_deribit_marks_and_greeks(dataset) -> None:
    """Deribit's own mark prices and greeks, from its mark IV and futures price.

    The snapshot time is not recorded (SOURCE.md bounds it to 2026-02-28 10:33 ..
    2026-03-13 08:00 UTC), so it is fitted once to the mark prices; every price and
    Greek of the 166 options must then agree to Deribit's published rounding.
    Deribit's ticker reports the linear (not premium-adjusted) delta, gamma per USD,
    vega in USD per vol point and theta in USD per day.
    """
    chain = _deribit_chain(dataset("deribit-btc-chain-2026-tessicin"))
    year_ms = 365 * 86_400_000

    def greeks_at(snapshot_ms: float):
        t_years = (chain["expiry_ms"] - snapshot_ms) / year_ms
        args = (chain["forward"], chain["strike"], t_years, chain["vol"], chain["is_call"])
        return inverse_greeks(*args), black76_greeks(*args)

    fit = minimize_scalar(lambda ms: np.sum((greeks_at(ms)[0].price - chain["mark"]) ** 2),
                          bounds=(1772274780000, 1773388800000 - 3_600_000), method="bounded",
                          options={"xatol": 1_000})
    coin, linear = greeks_at(fit.x)
    # Mark prices are published to 4 decimals of BTC (one tick): agree within a tick.
    assert np.all(np.abs(coin.price - chain["mark"]) <= 1e-4)
    np.testing.assert_allclose(linear.delta, chain["delta"], atol=3e-5)
    np.testing.assert_allclose(coin.delta, chain["delta"] - chain["mark"], atol=1.5e-4)
    np.testing.assert_allclose(linear.gamma, chain["gamma"], atol=6e-6)
    np.testing.assert_allclose(linear.vega / 100, chain["vega"], rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(linear.theta / 365, chain["theta"], rtol=5e-4, atol=1e-3)

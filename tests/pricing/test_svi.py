"""Tests of raw SVI: the parameter domain, the derivatives and the slice fit."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hedgekeeper.errors import BadData
from hedgekeeper.pricing.svi import (
    MAX_WING_SLOPE,
    SviParameters,
    fit_svi_slice,
    log_moneyness,
    svi_implied_vol,
    svi_total_variance,
    svi_total_variance_first_derivative,
    svi_total_variance_second_derivative,
)

FORWARD = 72_000.0

# Well-behaved slices of different shapes: equity-like skew, crypto-like smile with
# upside skew and a negative level, a nearly symmetric short-dated one.
KNOWN_SLICES = [
    (SviParameters(a=0.04, b=0.4, rho=-0.4, m=0.1, sigma=0.2), 0.25),
    (SviParameters(a=-0.02, b=0.3, rho=0.35, m=0.05, sigma=0.25), 0.5),
    (SviParameters(a=0.0005, b=0.05, rho=0.1, m=-0.01, sigma=0.03), 0.02),
]

valid_parameters = st.builds(
    lambda minimum, b, rho, m, sigma: SviParameters(
        a=minimum - b * sigma * np.sqrt(1.0 - rho**2), b=b, rho=rho, m=m, sigma=sigma
    ),
    minimum=st.floats(0.0, 0.5),
    b=st.floats(0.0, 1.0),
    rho=st.floats(-0.99, 0.99),
    m=st.floats(-0.5, 0.5),
    sigma=st.floats(0.01, 1.0),
)


def _quotes(parameters: SviParameters, t_years: float, k_low: float, k_high: float, count: int):
    k = np.linspace(k_low, k_high, count)
    return FORWARD * np.exp(k), svi_implied_vol(k, t_years, parameters)


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("b", -0.1, "b = -0.1 is negative"),
        ("rho", 1.0, "rho = 1.0 is outside"),
        ("rho", -1.2, "rho = -1.2 is outside"),
        ("sigma", 0.0, "sigma = 0.0 is not positive"),
        ("a", -0.2, r"minimum total variance -0.1267 is negative"),
        ("m", float("nan"), "m = nan is not finite"),
    ],
)
def test_svi_parameters_outside_domain_are_rejected_naming_the_field(
    field: str, value: float, message: str
) -> None:
    fields = {"a": 0.04, "b": 0.4, "rho": -0.4, "m": 0.1, "sigma": 0.2} | {field: value}
    with pytest.raises(BadData, match=message):
        SviParameters(**fields)


def test_svi_parameters_at_zero_minimum_variance_are_accepted() -> None:
    a = -0.4 * 0.2 * np.sqrt(1 - 0.4**2)
    parameters = SviParameters(a=a, b=0.4, rho=-0.4, m=0.1, sigma=0.2)
    assert parameters.minimum_total_variance() == pytest.approx(0.0, abs=1e-15)


@given(valid_parameters)
def test_svi_total_variance_never_falls_below_its_minimum(parameters: SviParameters) -> None:
    k = np.linspace(-3.0, 3.0, 601)
    lowest = parameters.minimum_total_variance()
    assert np.all(svi_total_variance(k, parameters) >= lowest - 1e-12)
    # The minimum is reached at k* = m - rho sigma / sqrt(1 - rho^2).
    k_star = parameters.m - parameters.rho * parameters.sigma / np.sqrt(1.0 - parameters.rho**2)
    assert float(svi_total_variance(k_star, parameters)) == pytest.approx(lowest, abs=1e-12)


@pytest.mark.parametrize(("parameters", "t_years"), KNOWN_SLICES)
def test_svi_derivatives_match_central_differences(
    parameters: SviParameters, t_years: float
) -> None:
    k = np.linspace(-1.0, 1.0, 41)
    step = 1e-4
    up, down = svi_total_variance(k + step, parameters), svi_total_variance(k - step, parameters)
    centre = svi_total_variance(k, parameters)
    first = (up - down) / (2 * step)
    second = (up - 2 * centre + down) / step**2
    np.testing.assert_allclose(svi_total_variance_first_derivative(k, parameters), first, atol=1e-7)
    np.testing.assert_allclose(
        svi_total_variance_second_derivative(k, parameters), second, rtol=1e-4, atol=1e-4
    )


def test_svi_implied_vol_is_square_root_of_total_variance_over_time() -> None:
    parameters, t_years = KNOWN_SLICES[0]
    k = np.array([-0.3, 0.0, 0.3])
    np.testing.assert_allclose(
        svi_implied_vol(k, t_years, parameters) ** 2 * t_years, svi_total_variance(k, parameters)
    )


def test_svi_functions_broadcast_over_shapes() -> None:
    parameters, _ = KNOWN_SLICES[0]
    k = np.zeros((2, 3))
    t_years = np.array([0.1, 0.2, 0.3])
    assert svi_total_variance(k, parameters).shape == (2, 3)
    assert svi_implied_vol(k, t_years, parameters).shape == (2, 3)


@pytest.mark.parametrize(("parameters", "t_years"), KNOWN_SLICES)
def test_fit_recovers_known_parameters_from_noise_free_quotes(
    parameters: SviParameters, t_years: float
) -> None:
    half_width = 1.2 * np.sqrt(t_years)  # about two standard deviations at 60% vol
    strikes, vols = _quotes(parameters, t_years, -half_width, half_width, 21)
    fit = fit_svi_slice(strikes, FORWARD, t_years, vols)
    fitted = fit.svi_slice.parameters
    for name in ("a", "b", "rho", "m", "sigma"):
        assert getattr(fitted, name) == pytest.approx(getattr(parameters, name), abs=1e-6), name
    k = log_moneyness(strikes, FORWARD)
    np.testing.assert_allclose(svi_implied_vol(k, t_years, fitted), vols, atol=1e-8)
    assert fit.svi_slice.t_years == t_years
    assert fit.quote_count == 21
    assert fit.rmse_vol_points < 1e-6
    assert fit.max_error_vol_points < 1e-6


def test_fit_with_seeded_noise_stays_within_the_noise() -> None:
    parameters, t_years = KNOWN_SLICES[1]
    strikes, true_vols = _quotes(parameters, t_years, -0.8, 0.8, 33)
    noise = 0.005  # half a vol point, one standard deviation
    rng = np.random.default_rng(20240312)
    marks = true_vols + rng.normal(0.0, noise, true_vols.size)
    fit = fit_svi_slice(strikes, FORWARD, t_years, marks, marks - 0.01, marks + 0.01)
    k = log_moneyness(strikes, FORWARD)
    fitted_vols = svi_implied_vol(k, t_years, fit.svi_slice.parameters)
    assert np.sqrt(np.mean((fitted_vols - true_vols) ** 2)) < noise
    assert np.max(np.abs(fitted_vols - true_vols)) < 2 * noise
    assert 0.5 * 100 * noise < fit.rmse_vol_points < 1.5 * 100 * noise


def test_fit_gives_little_weight_to_a_quote_with_a_wide_spread() -> None:
    parameters, t_years = KNOWN_SLICES[0]
    strikes, true_vols = _quotes(parameters, t_years, -0.6, 0.6, 25)
    marks = true_vols.copy()
    marks[12] += 0.10  # a stale mark ten vol points off
    bids, asks = true_vols - 0.005, true_vols + 0.005
    bids[12], asks[12] = np.nan, np.nan  # and no market behind it
    k = log_moneyness(strikes, FORWARD)
    weighted = fit_svi_slice(strikes, FORWARD, t_years, marks, bids, asks)
    unweighted = fit_svi_slice(strikes, FORWARD, t_years, marks)
    weighted_error = svi_implied_vol(k, t_years, weighted.svi_slice.parameters) - true_vols
    unweighted_error = svi_implied_vol(k, t_years, unweighted.svi_slice.parameters) - true_vols
    assert np.max(np.abs(np.delete(weighted_error, 12))) < 0.004
    assert np.max(np.abs(np.delete(weighted_error, 12))) < 0.5 * np.max(
        np.abs(np.delete(unweighted_error, 12))
    )


@settings(max_examples=15, deadline=None)
@given(
    vols=st.lists(st.floats(0.2, 1.5), min_size=7, max_size=15),
    t_years=st.floats(0.002, 2.0),
)
def test_fit_to_arbitrary_quotes_stays_in_the_domain_with_non_negative_variance(
    vols: list[float], t_years: float
) -> None:
    strikes = FORWARD * np.exp(np.linspace(-0.5, 0.5, len(vols)))
    fitted = fit_svi_slice(strikes, FORWARD, t_years, np.array(vols)).svi_slice.parameters
    assert fitted.minimum_total_variance() >= 0.0
    assert fitted.b * (1 + abs(fitted.rho)) <= MAX_WING_SLOPE * (1 + 1e-9)
    assert np.all(svi_total_variance(np.linspace(-3, 3, 301), fitted) >= 0.0)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"mark_vols": np.r_[0.8, np.nan, np.full(5, 0.8)]}, r"mark_vols\[1\] = nan"),
        ({"mark_vols": np.r_[0.8, -0.1, np.full(5, 0.8)]}, r"mark_vols\[1\] = -0.1"),
        ({"strikes": np.r_[-1.0, np.linspace(60e3, 80e3, 6)]}, r"strike\[0\] = -1.0"),
        ({"forward": 0.0}, "forward = 0.0"),
        ({"t_years": 0.0}, "t_years = 0.0"),
        ({"t_years": float("nan")}, "t_years = nan"),
        ({"strikes": np.linspace(60e3, 80e3, 4), "mark_vols": np.full(4, 0.8)}, "at least 5"),
        ({"strikes": np.r_[np.full(4, 70e3), 71e3, 72e3, 73e3]}, "5 distinct strikes, got 4"),
        ({"mark_vols": np.full(6, 0.8)}, "mark_vols has 6 entries, expected 7"),
        ({"bid_vols": np.full(7, 0.9), "ask_vols": np.full(7, 0.8)}, "crossed"),
        ({"bid_vols": np.full(7, -0.1), "ask_vols": np.full(7, 0.8)}, r"bid_vols\[0\] = -0.1"),
    ],
)
def test_fit_rejects_bad_quotes_with_a_clear_error(change: dict[str, object], message: str) -> None:
    arguments: dict[str, object] = {
        "strikes": np.linspace(60e3, 80e3, 7),
        "forward": FORWARD,
        "t_years": 0.1,
        "mark_vols": np.full(7, 0.8),
    } | change
    with pytest.raises(BadData, match=message):
        fit_svi_slice(**arguments)  # type: ignore[arg-type]

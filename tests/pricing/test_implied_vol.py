"""Tests of hedgekeeper.pricing.implied_vol: round trips, published values, bad quotes.

Round trips price with ``_reference_black76_price``: the discounted intrinsic value
plus the out-of-the-money time value from the kernel's normalised Black function,
which keeps full relative accuracy in the tails (checked against 120-digit values
below). Prices straight from ``F N(d1) - K N(d2)`` lose about ``2**-52 * F`` to
cancellation, which deep in the money is more than the time value can bear.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.typing import ArrayLike

from hedgekeeper.errors import ArbitrageViolation, BadData
from hedgekeeper.pricing._implied_vol_kernels import normalised_black_and_vega, normalised_vega
from hedgekeeper.pricing.black76 import black76_price
from hedgekeeper.pricing.black_scholes import black_scholes_price
from hedgekeeper.pricing.implied_vol import (
    PRICE_UNCERTAINTY_ULPS,
    VOL_RESOLUTION,
    ImpliedVolReason,
    ImpliedVolResult,
    implied_vol_black76,
    implied_vol_black76_with_reason,
    implied_vol_black_scholes,
    implied_vol_black_scholes_with_reason,
    implied_vol_inverse,
    implied_vol_inverse_with_reason,
)
from hedgekeeper.pricing.inverse import inverse_price

ONE_MINUTE_YEARS = 1.0 / 525_600.0
VOL_TOLERANCE = 1e-9
PRICE_RELATIVE_TOLERANCE = 1e-10
EPSILON = np.finfo(np.float64).eps

_normalised_black = np.vectorize(
    lambda x, s: normalised_black_and_vega(x, s)[0], otypes=[np.float64]
)
_normalised_vega = np.vectorize(normalised_vega, otypes=[np.float64])


def _reference_black76_price(
    forward: ArrayLike,
    strike: ArrayLike,
    t_years: ArrayLike,
    vol: ArrayLike,
    is_call: ArrayLike,
    discount: ArrayLike = 1.0,
) -> np.ndarray:
    """Return the Black-76 price in USD to full relative accuracy, also deep in the money."""
    forward, strike, t_years, vol, is_call, discount = np.broadcast_arrays(
        *(np.asarray(a, dtype=float) for a in (forward, strike, t_years, vol)),
        np.asarray(is_call),
        np.asarray(discount, dtype=float),
    )
    x = -np.abs(np.log(forward / strike))
    intrinsic = np.maximum(np.where(is_call, forward - strike, strike - forward), 0.0)
    time_value = np.sqrt(forward) * np.sqrt(strike) * _normalised_black(x, vol * np.sqrt(t_years))
    return discount * (intrinsic + time_value)


def _undiscounted_vega(
    forward: ArrayLike, strike: ArrayLike, t_years: ArrayLike, vol: ArrayLike
) -> np.ndarray:
    s = vol * np.sqrt(t_years)
    return (
        np.sqrt(forward)
        * np.sqrt(strike)
        * np.sqrt(t_years)
        * _normalised_vega(-np.abs(np.log(forward / strike)), s)
    )


# ----------------------------------------------------------------------------------
# The quotes of the extreme grid, and one solver per model taking them
# ----------------------------------------------------------------------------------

GRID_VOLS = np.array([0.05, 0.1, 0.2, 0.5, 1.0, 2.0, 3.0, 5.0])
GRID_TIMES = np.array([ONE_MINUTE_YEARS, 1 / 8760, 1 / 365, 7 / 365, 30 / 365, 0.25, 1.0, 5.0])
# Standard deviations in the money for a call (out of the money for a put).
GRID_MONEYNESS = np.array([-12.0, -8.0, -5.0, -3.0, -1.0, -0.3, 0.0, 0.3, 1.0, 3.0, 5.0, 8.0, 12.0])
FORWARD = 65_000.0
RATE = 0.05
COIN_RATE = 0.02


def _grid() -> dict[str, np.ndarray]:
    vol, t_years, moneyness, is_call = (
        a.ravel()
        for a in np.meshgrid(GRID_VOLS, GRID_TIMES, GRID_MONEYNESS, [True, False], indexing="ij")
    )
    strike = FORWARD * np.exp(-moneyness * vol * np.sqrt(t_years))
    return {
        "vol": vol,
        "t_years": t_years,
        "moneyness": moneyness,
        "is_call": is_call.astype(bool),
        "strike": strike,
        "discount": np.exp(-RATE * t_years),
    }


def _black76_model(quote: dict[str, np.ndarray]) -> tuple[Callable, Callable]:
    """Return the model's pricer (vol to quoted price) and its solver (price to vol and reason)."""

    def price(v: np.ndarray) -> np.ndarray:
        return _reference_black76_price(
            FORWARD, quote["strike"], quote["t_years"], v, quote["is_call"], quote["discount"]
        )

    def solve(p: np.ndarray) -> ImpliedVolResult:
        return implied_vol_black76_with_reason(
            p, FORWARD, quote["strike"], quote["t_years"], quote["is_call"], rate=RATE
        )

    return price, solve


def _black_scholes_model(quote: dict[str, np.ndarray]) -> tuple[Callable, Callable]:
    spot = FORWARD * np.exp(-(RATE - COIN_RATE) * quote["t_years"])

    def price(v: np.ndarray) -> np.ndarray:
        forward = spot * np.exp((RATE - COIN_RATE) * quote["t_years"])
        return _reference_black76_price(
            forward,
            quote["strike"],
            quote["t_years"],
            v,
            quote["is_call"],
            np.exp(-RATE * quote["t_years"]),
        )

    def solve(p: np.ndarray) -> ImpliedVolResult:
        return implied_vol_black_scholes_with_reason(
            p, spot, quote["strike"], quote["t_years"], quote["is_call"], RATE, COIN_RATE
        )

    return price, solve


def _inverse_model(quote: dict[str, np.ndarray]) -> tuple[Callable, Callable]:
    def price(v: np.ndarray) -> np.ndarray:
        return (
            _reference_black76_price(
                FORWARD, quote["strike"], quote["t_years"], v, quote["is_call"]
            )
            / FORWARD
        )

    def solve(p: np.ndarray) -> ImpliedVolResult:
        return implied_vol_inverse_with_reason(
            p, FORWARD, quote["strike"], quote["t_years"], quote["is_call"]
        )

    return price, solve


MODELS = {
    "black76": _black76_model,
    "black_scholes": _black_scholes_model,
    "inverse": _inverse_model,
}


@pytest.fixture(scope="module", params=sorted(MODELS))
def grid_round_trip(request: pytest.FixtureRequest) -> dict[str, np.ndarray]:
    quote = _grid()
    price, solve = MODELS[request.param](quote)
    quoted = price(quote["vol"])
    result = solve(quoted)
    repriced = price(np.where(result.reason == 0, result.vol, quote["vol"]))
    return {
        **quote,
        "quoted": quoted,
        "implied": result.vol,
        "reason": result.reason,
        "price_error": np.abs(repriced - quoted) / quoted,
    }


# ----------------------------------------------------------------------------------
# The normalised Black function the round trips rely on
# ----------------------------------------------------------------------------------

# b(x, s) = Phi(x/s + s/2) exp(x/2) - Phi(x/s - s/2) exp(-x/2), computed with mpmath
# at 120 digits, one or more points in each of the four regions of the kernel.
NORMALISED_BLACK_REFERENCE = [
    (0.0, 0.5, 1.9741265136584745e-1),
    (-0.001, 0.0001, 7.4745602454210835e-29),
    (-30.0, 2.0, 2.9556608552583064e-52),
    (-0.05, 0.004, 1.1795970448478291e-39),
    (-0.01, 0.1, 3.507714583409783e-2),
    (-0.5, 0.1, 5.3399117858008648e-9),
    (-1.0, 1.0, 7.6991023141674131e-2),
    (-0.2, 3.0, 7.714182372320803e-1),
    (-5.0, 0.8, 2.3223653189032437e-11),
    (-200.0, 8.0, 3.3558352087748993e-142),
    (-1e-08, 1e-06, 3.9396222734921182e-7),
    (-700.0, 40.0, 9.8632929540346356e-153),
    (-2.0, 0.09, 4.2200183896364268e-112),
]


@pytest.mark.parametrize(("x", "s", "expected"), NORMALISED_BLACK_REFERENCE)
def test_normalised_black_matches_120_digit_values_in_every_region(
    x: float, s: float, expected: float
) -> None:
    # Rounding x/s to float64 alone moves b by about eps (x/s)^2 relative.
    tolerance = 1e-15 * (1.0 + (x / s) ** 2)
    assert normalised_black_and_vega(x, s)[0] == pytest.approx(expected, rel=tolerance)


# ----------------------------------------------------------------------------------
# Round trips
# ----------------------------------------------------------------------------------


def test_implied_vol_grid_quotes_either_round_trip_or_carry_no_information(
    grid_round_trip: dict[str, np.ndarray],
) -> None:
    reasons = set(np.unique(grid_round_trip["reason"]).tolist())
    assert reasons <= {ImpliedVolReason.OK, ImpliedVolReason.NO_INFORMATION}


def test_implied_vol_grid_round_trips_to_1e9_in_vol(grid_round_trip: dict[str, np.ndarray]) -> None:
    ok = grid_round_trip["reason"] == ImpliedVolReason.OK
    vol_error = np.abs(grid_round_trip["implied"][ok] - grid_round_trip["vol"][ok])
    assert vol_error.max() < VOL_TOLERANCE
    assert ok.mean() > 0.7


def test_implied_vol_grid_round_trips_to_1e10_in_price(
    grid_round_trip: dict[str, np.ndarray],
) -> None:
    ok = grid_round_trip["reason"] == ImpliedVolReason.OK
    assert grid_round_trip["price_error"][ok].max() < PRICE_RELATIVE_TOLERANCE


def test_implied_vol_deep_otm_and_short_dated_quotes_round_trip(
    grid_round_trip: dict[str, np.ndarray],
) -> None:
    # Out of the money (to 12 standard deviations, to 1 minute, to 500% vol) always
    # carries information unless the total variance pushes the price to its bound.
    s = grid_round_trip["vol"] * np.sqrt(grid_round_trip["t_years"])
    in_the_money = (
        np.where(grid_round_trip["is_call"], 1.0, -1.0) * grid_round_trip["moneyness"] > 0
    )
    out_of_the_money = ~in_the_money & (s < 4.0)
    assert np.all(grid_round_trip["reason"][out_of_the_money] == ImpliedVolReason.OK)


def test_implied_vol_no_information_flag_only_where_vega_cannot_resolve_the_vol(
    grid_round_trip: dict[str, np.ndarray],
) -> None:
    flagged = grid_round_trip["reason"] == ImpliedVolReason.NO_INFORMATION
    quote = {key: grid_round_trip[key][flagged] for key in ("strike", "t_years", "vol", "quoted")}
    vega = _undiscounted_vega(FORWARD, quote["strike"], quote["t_years"], quote["vol"])
    undiscounted = _reference_black76_price(
        FORWARD,
        quote["strike"],
        quote["t_years"],
        quote["vol"],
        grid_round_trip["is_call"][flagged],
    )
    # The rule is applied at the solved vol; allow a factor 2 for its distance to the true one.
    assert np.all(vega * VOL_RESOLUTION < 2 * PRICE_UNCERTAINTY_ULPS * EPSILON * undiscounted)


def test_implied_vol_deep_itm_call_one_minute_to_expiry_is_nan_not_a_wrong_number() -> None:
    price = float(_reference_black76_price(100.0, 90.0, ONE_MINUTE_YEARS, 0.5, True)[()])
    result = implied_vol_black76_with_reason(price, 100.0, 90.0, ONE_MINUTE_YEARS, True)
    assert math.isnan(result.vol)
    assert result.reason == ImpliedVolReason.NO_INFORMATION


@settings(max_examples=300, deadline=None)
@given(
    vol=st.floats(0.05, 5.0),
    t_years=st.floats(ONE_MINUTE_YEARS, 5.0),
    moneyness=st.floats(-10.0, 10.0),
    is_call=st.booleans(),
    rate=st.floats(-0.05, 0.2),
)
def test_implied_vol_black76_round_trip_property(
    vol: float, t_years: float, moneyness: float, is_call: bool, rate: float
) -> None:
    strike = FORWARD * math.exp(-moneyness * vol * math.sqrt(t_years))
    discount = math.exp(-rate * t_years)
    price = _reference_black76_price(FORWARD, strike, t_years, vol, is_call, discount)
    result = implied_vol_black76_with_reason(price, FORWARD, strike, t_years, is_call, rate=rate)
    if result.reason == ImpliedVolReason.OK:
        assert abs(float(result.vol) - vol) < VOL_TOLERANCE
        repriced = _reference_black76_price(
            FORWARD, strike, t_years, float(result.vol), is_call, discount
        )
        assert abs(repriced - price) <= PRICE_RELATIVE_TOLERANCE * price
    else:
        assert result.reason == ImpliedVolReason.NO_INFORMATION
        assert (-1.0 if is_call else 1.0) * moneyness < 0.0 or vol * math.sqrt(t_years) > 4.0


@pytest.mark.parametrize("is_call", [True, False])
def test_implied_vol_inverts_the_public_pricers_of_all_three_models(is_call: bool) -> None:
    # Within 3 standard deviations, where F N(d1) - K N(d2) keeps enough digits.
    strike = np.array([50_000.0, 55_000.0, 65_000.0, 75_000.0, 90_000.0])[:, None]
    t_years = np.array([7 / 365, 30 / 365, 0.5, 2.0])
    vol = 0.65
    black76 = black76_price(FORWARD, strike, t_years, vol, is_call, rate=RATE)
    np.testing.assert_allclose(
        implied_vol_black76(black76, FORWARD, strike, t_years, is_call, rate=RATE),
        vol,
        rtol=0,
        atol=VOL_TOLERANCE,
    )
    spot = 60_000.0
    black_scholes = black_scholes_price(
        spot, strike, t_years, vol, is_call, rate=RATE, coin_rate=COIN_RATE
    )
    np.testing.assert_allclose(
        implied_vol_black_scholes(
            black_scholes, spot, strike, t_years, is_call, rate=RATE, coin_rate=COIN_RATE
        ),
        vol,
        rtol=0,
        atol=VOL_TOLERANCE,
    )
    inverse = inverse_price(FORWARD, strike, t_years, vol, is_call)
    np.testing.assert_allclose(
        implied_vol_inverse(inverse, FORWARD, strike, t_years, is_call),
        vol,
        rtol=0,
        atol=VOL_TOLERANCE,
    )


# ----------------------------------------------------------------------------------
# Published values
# ----------------------------------------------------------------------------------


def test_implied_vol_black_scholes_hull_example_call_at_4_76_is_20_percent() -> None:
    # Hull, Options, Futures and Other Derivatives (9th ed.), Example 15.6: the call
    # is worth 4.76 at sigma = 0.2 (4.7594 unrounded).
    assert implied_vol_black_scholes(4.76, 42.0, 40.0, 0.5, True, rate=0.1) == pytest.approx(
        0.2, abs=1e-3
    )
    assert implied_vol_black_scholes(4.7594, 42.0, 40.0, 0.5, True, rate=0.1) == pytest.approx(
        0.2, abs=1e-5
    )


def test_implied_vol_black76_py_vollib_example_is_20_percent() -> None:
    # py_vollib.black.implied_volatility docstring: F = K = 100, t = 0.5, r = 2%,
    # a call at 5.5811067246 (10 decimals) has sigma = 0.2.
    vol = implied_vol_black76(5.5811067246, 100.0, 100.0, 0.5, True, rate=0.02)
    assert vol == pytest.approx(0.2, abs=1e-10)


def test_implied_vol_black76_lets_be_rational_normalised_put_example() -> None:
    # py_vollib (Jäckel's normalised Black): b_put(x = 0.1, s = 0.23232323888) =
    # 0.0509710222785; with F K = 1 and t = 1 the vol is s.
    forward, strike = math.exp(0.05), math.exp(-0.05)
    vol = implied_vol_black76(0.0509710222785, forward, strike, 1.0, False)
    assert vol == pytest.approx(0.23232323888, abs=1e-10)


# ----------------------------------------------------------------------------------
# Bad quotes
# ----------------------------------------------------------------------------------

BAD_QUOTES = [
    # price, forward, strike, t_years, is_call, rate, reason (an infinite rate discounts to 0)
    (math.nan, 100.0, 100.0, 0.5, True, 0.0, ImpliedVolReason.NOT_FINITE),
    (5.0, math.inf, 100.0, 0.5, True, 0.0, ImpliedVolReason.NOT_FINITE),
    (5.0, 100.0, 100.0, 0.0, True, 0.0, ImpliedVolReason.NON_POSITIVE_TIME),
    (5.0, 100.0, 100.0, -0.1, False, 0.0, ImpliedVolReason.NON_POSITIVE_TIME),
    (5.0, 0.0, 100.0, 0.5, True, 0.0, ImpliedVolReason.NON_POSITIVE_FORWARD),
    (5.0, -100.0, 100.0, 0.5, True, 0.0, ImpliedVolReason.NON_POSITIVE_FORWARD),
    (5.0, 100.0, 0.0, 0.5, False, 0.0, ImpliedVolReason.NON_POSITIVE_STRIKE),
    (5.0, 100.0, 100.0, 0.5, True, math.inf, ImpliedVolReason.NON_POSITIVE_DISCOUNT),
    (0.0, 100.0, 100.0, 0.5, True, 0.0, ImpliedVolReason.NON_POSITIVE_PRICE),
    (-1.0, 100.0, 120.0, 0.5, False, 0.0, ImpliedVolReason.NON_POSITIVE_PRICE),
    (0.5, 101.2, 100.0, 0.5, True, 0.0, ImpliedVolReason.BELOW_INTRINSIC),
    (9.0, 90.0, 100.0, 0.5, False, -2 * math.log(0.99), ImpliedVolReason.BELOW_INTRINSIC),
    (100.5, 100.0, 90.0, 0.5, True, 0.0, ImpliedVolReason.ABOVE_UPPER_BOUND),
    (99.5, 100.0, 110.0, 0.5, False, -2 * math.log(0.9), ImpliedVolReason.ABOVE_UPPER_BOUND),
    (10.0, 100.0, 90.0, 0.5, True, 0.0, ImpliedVolReason.NO_INFORMATION),
]


@pytest.mark.parametrize(
    ("price", "forward", "strike", "t_years", "is_call", "rate", "reason"), BAD_QUOTES
)
def test_implied_vol_bad_quote_is_nan_with_its_reason(
    price: float,
    forward: float,
    strike: float,
    t_years: float,
    is_call: bool,
    rate: float,
    reason: ImpliedVolReason,
) -> None:
    result = implied_vol_black76_with_reason(price, forward, strike, t_years, is_call, rate)
    assert math.isnan(result.vol)
    assert result.reason == reason
    assert math.isnan(implied_vol_black76(price, forward, strike, t_years, is_call, rate))


def test_implied_vol_price_below_intrinsic_raises_arbitrage_violation_naming_the_numbers() -> None:
    prices = np.array([3.0, 0.5])
    with pytest.raises(
        ArbitrageViolation,
        match=r"index \(1,\).*call price 0\.5 is below intrinsic 1\.2.*"
        r"forward 101\.2, strike 100\.0",
    ):
        implied_vol_black76(prices, 101.2, 100.0, 0.5, True, errors="raise")


def test_implied_vol_put_above_upper_bound_raises_arbitrage_violation_naming_the_bound() -> None:
    # A rate of 2 ln(10/9) over half a year discounts the strike of 100 to 90.
    with pytest.raises(ArbitrageViolation, match=r"put price 95\.0 is above its upper bound 90 "):
        implied_vol_black76(95.0, 100.0, 100.0, 0.5, False, 2 * math.log(10 / 9), errors="raise")


@pytest.mark.parametrize(
    ("price", "t_years", "message"),
    [
        (math.nan, 0.5, "NOT_FINITE"),
        (5.0, 0.0, "t_years 0.0 is not positive"),
        (10.0 + 1e-14, ONE_MINUTE_YEARS, "call price 10.00000000000001 .* carries no information"),
    ],
)
def test_implied_vol_quote_without_vol_raises_bad_data_not_arbitrage(
    price: float, t_years: float, message: str
) -> None:
    with pytest.raises(BadData, match=message) as raised:
        implied_vol_black76(price, 100.0, 90.0, t_years, True, errors="raise")
    assert not isinstance(raised.value, ArbitrageViolation)


def test_implied_vol_errors_raise_returns_vols_when_every_quote_has_one() -> None:
    vols = implied_vol_inverse(
        np.array([0.05, 0.08]), 60_000.0, 60_000.0, 30 / 365, True, errors="raise"
    )
    assert np.all(np.isfinite(vols))


def test_implied_vol_unknown_errors_mode_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="errors must be"):
        implied_vol_black76(5.0, 100.0, 100.0, 0.5, True, errors="ignore")  # type: ignore[arg-type]


def test_implied_vol_non_boolean_is_call_is_a_type_error() -> None:
    with pytest.raises(TypeError, match="is_call must be boolean"):
        implied_vol_black76(5.0, 100.0, 100.0, 0.5, np.array(["c"]))


# ----------------------------------------------------------------------------------
# Shapes and the three models agreeing
# ----------------------------------------------------------------------------------


def test_implied_vol_broadcasts_strikes_against_expiries_to_a_matrix() -> None:
    strike = np.array([50_000.0, 60_000.0, 70_000.0])[:, None]
    t_years = np.array([0.1, 0.5])
    price = _reference_black76_price(60_000.0, strike, t_years, 0.8, True)
    vols = implied_vol_black76(
        price=price, forward=60_000.0, strike=strike, t_years=t_years, is_call=True
    )
    assert vols.shape == (3, 2)
    assert vols.dtype == np.float64
    np.testing.assert_allclose(vols, 0.8, rtol=0, atol=VOL_TOLERANCE)


def test_implied_vol_scalar_quote_gives_zero_dimensional_array() -> None:
    vol = implied_vol_black76(12.5, 100.0, 90.0, 0.5, True)
    assert isinstance(vol, np.ndarray)
    assert vol.shape == ()


def test_implied_vol_black_scholes_equals_black76_on_the_forward() -> None:
    spot, strike, t_years, rate, coin_rate = (
        60_000.0,
        np.array([50_000.0, 70_000.0]),
        0.75,
        0.05,
        0.03,
    )
    forward = spot * math.exp((rate - coin_rate) * t_years)
    price = np.array([12_000.0, 4_000.0])
    np.testing.assert_allclose(
        implied_vol_black_scholes(price, spot, strike, t_years, True, rate, coin_rate),
        implied_vol_black76(price, forward, strike, t_years, True, rate=rate),
        rtol=1e-14,
    )


def test_implied_vol_inverse_equals_black76_on_the_usd_premium() -> None:
    forward, strike = 60_000.0, np.array([50_000.0, 70_000.0])
    price_coin = np.array([0.2, 0.05])
    np.testing.assert_allclose(
        implied_vol_inverse(price_coin, forward, strike, 0.5, True),
        implied_vol_black76(price_coin * forward, forward, strike, 0.5, True),
        rtol=1e-14,
    )

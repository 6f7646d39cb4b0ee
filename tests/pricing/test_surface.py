"""Tests of the volatility surface: Durrleman's condition, arbitrage reports, interpolation."""

from __future__ import annotations

import csv
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from scipy.special import ndtr

from hedgekeeper.errors import BadData
from hedgekeeper.market.deribit_chain import out_of_the_money_smiles, parse_book_summary_row
from hedgekeeper.pricing.implied_vol import implied_vol_inverse
from hedgekeeper.pricing.surface import (
    VolSurface,
    butterfly_violations,
    calendar_violations,
    durrleman_g,
    svi_durrleman_g,
)
from hedgekeeper.pricing.svi import (
    SviParameters,
    SviSlice,
    fit_svi_slice,
    svi_implied_vol,
    svi_total_variance,
)

# Gatheral & Jacquier (2014), section 3.1: Axel Vogt's raw SVI slice, T = 1, which admits
# butterfly arbitrage.
VOGT = SviSlice(1.0, SviParameters(a=-0.0410, b=0.1331, rho=0.3060, m=0.3586, sigma=0.4153))


def ssvi_slice(t_years: float, theta: float, rho: float, phi: float) -> SviSlice:
    """Return the raw SVI form of an SSVI slice.

    SSVI: w(k) = theta / 2 (1 + rho phi k + sqrt((phi k + rho)^2 + 1 - rho^2)).

    Gatheral & Jacquier (2014), Lemma 3.2 with Delta = mu = 0, omega = theta, zeta = phi.
    """
    return SviSlice(
        t_years,
        SviParameters(
            a=theta / 2 * (1 - rho**2),
            b=theta * phi / 2,
            rho=rho,
            m=-rho / phi,
            sigma=np.sqrt(1 - rho**2) / phi,
        ),
    )


# A well-behaved slice: SSVI inside Gatheral & Jacquier's Theorem 4.2 bounds.
WELL_BEHAVED = ssvi_slice(0.5, theta=0.3, rho=-0.3, phi=2.0)


def undiscounted_call(k: np.ndarray, total_variance: np.ndarray) -> np.ndarray:
    """Return the Black call price for forward 1 and strike e^k (an independent closed form)."""
    root = np.sqrt(total_variance)
    d_plus = -k / root + root / 2
    return ndtr(d_plus) - np.exp(k) * ndtr(d_plus - root)


@pytest.mark.parametrize(("svi_slice", "has_arbitrage"), [(VOGT, True), (WELL_BEHAVED, False)])
def test_durrleman_g_equals_the_risk_neutral_density_from_call_prices(
    svi_slice: SviSlice, has_arbitrage: bool
) -> None:
    # Gatheral & Jacquier (2014), eq. (2.1): the density of ln(S_T / F) at k is
    # g(k) / sqrt(2 pi w) exp(-d_minus^2 / 2), so d2C/dK2 is that divided by K = e^k.
    strikes = np.linspace(0.6, 2.5, 39)
    step = 1e-3

    def call(strike: np.ndarray) -> np.ndarray:
        k = np.log(strike)
        return undiscounted_call(k, svi_total_variance(k, svi_slice.parameters))

    density = (call(strikes + step) - 2 * call(strikes) + call(strikes - step)) / step**2
    k = np.log(strikes)
    w = svi_total_variance(k, svi_slice.parameters)
    d_minus = -k / np.sqrt(w) - np.sqrt(w) / 2
    log_density = svi_durrleman_g(k, svi_slice) / np.sqrt(2 * np.pi * w) * np.exp(-(d_minus**2) / 2)
    np.testing.assert_allclose(density, log_density / strikes, rtol=1e-4, atol=1e-6)
    # Vogt's call prices themselves imply a negative density somewhere: butterfly arbitrage.
    assert (density.min() < 0.0) == has_arbitrage


def test_durrleman_g_from_finite_differences_of_w_matches_the_analytic_slice() -> None:
    k = np.linspace(-1.5, 1.5, 61)
    step = 1e-4
    parameters = VOGT.parameters
    up, down = svi_total_variance(k + step, parameters), svi_total_variance(k - step, parameters)
    w = svi_total_variance(k, parameters)
    numeric = durrleman_g(k, w, (up - down) / (2 * step), (up - 2 * w + down) / step**2)
    np.testing.assert_allclose(svi_durrleman_g(k, VOGT), numeric, atol=1e-6)


def test_durrleman_g_rejects_non_positive_total_variance() -> None:
    with pytest.raises(BadData, match="positive total variance"):
        durrleman_g(np.array([0.0, 0.1]), np.array([0.04, 0.0]), 0.0, 0.0)


def test_vogt_slice_has_butterfly_arbitrage_between_k_06_and_13() -> None:
    k = np.linspace(-1.5, 2.5, 4001)
    g = svi_durrleman_g(k, VOGT)
    assert g.min() < -0.03
    negative = k[g < 0]
    assert 0.6 < negative.min() < 0.7 and 1.2 < negative.max() < 1.3

    [finding] = butterfly_violations(VOGT, k)
    assert finding.kind == "butterfly"
    assert finding.t_years == 1.0 and finding.later_t_years is None
    assert finding.log_moneyness_low == negative.min()
    assert finding.log_moneyness_high == negative.max()
    assert finding.size == pytest.approx(-g.min())
    assert 0.8 < finding.log_moneyness < 1.0


def test_well_behaved_slice_reports_no_butterfly_arbitrage() -> None:
    assert butterfly_violations(WELL_BEHAVED) == []
    assert svi_durrleman_g(np.linspace(-2, 2, 401), WELL_BEHAVED).min() > 0


@given(
    theta=st.floats(0.01, 2.0),
    rho=st.floats(-0.95, 0.95),
    phi=st.floats(0.1, 20.0),
)
def test_ssvi_slices_within_theorem_bounds_have_non_negative_g(
    theta: float, rho: float, phi: float
) -> None:
    # Gatheral & Jacquier (2014), Theorem 4.2: theta phi (1 + |rho|) < 4 and
    # theta phi^2 (1 + |rho|) <= 4 leave an SSVI slice free of butterfly arbitrage.
    assume(theta * phi * (1 + abs(rho)) < 3.99 and theta * phi**2 * (1 + abs(rho)) <= 3.99)
    svi_slice = ssvi_slice(1.0, theta, rho, phi)
    assert svi_durrleman_g(np.linspace(-3, 3, 1201), svi_slice).min() >= -1e-9
    assert butterfly_violations(svi_slice) == []


def test_calendar_violation_is_reported_exactly_where_later_variance_is_lower() -> None:
    earlier = SviSlice(0.1, SviParameters(a=0.01, b=0.1, rho=0.0, m=0.0, sigma=0.1))
    later = SviSlice(0.2, SviParameters(a=0.005, b=0.15, rho=-0.5, m=0.0, sigma=0.1))
    grid = np.linspace(-1.0, 1.0, 2001)
    shortfall = svi_total_variance(grid, earlier.parameters) - svi_total_variance(
        grid, later.parameters
    )
    crossing = grid[shortfall > 1e-10]

    [finding] = calendar_violations(earlier, later, grid)
    assert finding.kind == "calendar"
    assert (finding.t_years, finding.later_t_years) == (0.1, 0.2)
    assert finding.log_moneyness_low == crossing.min()
    assert finding.log_moneyness_high == crossing.max()
    assert finding.log_moneyness == grid[np.argmax(shortfall)]
    assert finding.size == pytest.approx(shortfall.max())
    assert VolSurface((earlier, later)).find_arbitrage(grid) == [finding]


def test_properly_ordered_slices_report_no_calendar_arbitrage() -> None:
    earlier = WELL_BEHAVED
    later = ssvi_slice(1.0, theta=0.6, rho=-0.3, phi=2.0)
    assert calendar_violations(earlier, later) == []
    assert VolSurface((earlier, later)).find_arbitrage() == []


def test_calendar_check_needs_increasing_expiries() -> None:
    with pytest.raises(BadData, match="earlier.t_years < later.t_years"):
        calendar_violations(WELL_BEHAVED, WELL_BEHAVED)


def test_two_separate_regions_give_two_findings() -> None:
    # The later slice is lower in both wings only: two runs on the grid.
    earlier = SviSlice(0.1, SviParameters(a=0.0, b=0.3, rho=0.0, m=0.0, sigma=0.1))
    later = SviSlice(0.2, SviParameters(a=0.05, b=0.2, rho=0.0, m=0.0, sigma=0.1))
    findings = calendar_violations(earlier, later)
    assert [f.log_moneyness < 0 for f in findings] == [True, False]
    assert all(f.kind == "calendar" for f in findings)


SURFACE = VolSurface(
    (
        ssvi_slice(0.05, theta=0.04, rho=-0.2, phi=3.0),
        ssvi_slice(0.25, theta=0.15, rho=-0.3, phi=2.0),
        ssvi_slice(1.0, theta=0.5, rho=-0.4, phi=1.0),
    )
)


def test_surface_returns_slice_vols_exactly_at_the_expiries() -> None:
    k = np.linspace(-1.0, 1.0, 21)
    for svi_slice in SURFACE.slices:
        np.testing.assert_array_equal(
            SURFACE.implied_vol(k, svi_slice.t_years),
            svi_implied_vol(k, svi_slice.t_years, svi_slice.parameters),
        )


def test_surface_total_variance_is_linear_in_time_between_expiries() -> None:
    k = np.linspace(-1.0, 1.0, 21)
    first, second = SURFACE.slices[1], SURFACE.slices[2]
    times = np.linspace(first.t_years, second.t_years, 7)
    w = SURFACE.total_variance(k[:, None], times[None, :])
    fraction = (times - first.t_years) / (second.t_years - first.t_years)
    w_first = svi_total_variance(k, first.parameters)[:, None]
    w_second = svi_total_variance(k, second.parameters)[:, None]
    np.testing.assert_allclose(w, w_first + fraction * (w_second - w_first), rtol=1e-14)


def test_surface_holds_vol_flat_before_the_first_and_after_the_last_expiry() -> None:
    k = np.linspace(-1.0, 1.0, 21)
    first, last = SURFACE.slices[0], SURFACE.slices[-1]
    first_vols = svi_implied_vol(k, first.t_years, first.parameters)
    last_vols = svi_implied_vol(k, last.t_years, last.parameters)
    np.testing.assert_allclose(SURFACE.implied_vol(k, 0.01), first_vols, rtol=1e-14)
    np.testing.assert_allclose(SURFACE.implied_vol(k, 3.0), last_vols, rtol=1e-14)


@given(
    thetas=st.lists(st.floats(0.01, 1.0), min_size=1, max_size=4, unique=True),
    rho=st.floats(-0.9, 0.9),
    phi=st.floats(0.5, 3.0),
)
def test_interpolation_keeps_total_variance_non_decreasing_in_time(
    thetas: list[float], rho: float, phi: float
) -> None:
    # SSVI slices with growing theta are ordered at every k (w is theta times a positive shape).
    thetas = sorted(thetas)
    surface = VolSurface(
        tuple(ssvi_slice(0.1 * (i + 1), theta, rho, phi) for i, theta in enumerate(thetas))
    )
    k = np.linspace(-2.0, 2.0, 81)[:, None]
    times = np.linspace(0.001, 0.6, 300)[None, :]
    w = surface.total_variance(k, times)
    assert np.all(np.diff(w, axis=1) >= -1e-15)
    assert [f for f in surface.find_arbitrage() if f.kind == "calendar"] == []


def test_surface_vectorizes_and_takes_strikes() -> None:
    strikes = np.array([[60_000.0, 72_000.0, 90_000.0]])
    times = np.array([[0.1], [0.5], [2.0]])
    vols = SURFACE.implied_vol_at_strike(strikes, 72_000.0, times)
    assert vols.shape == (3, 3)
    np.testing.assert_array_equal(vols, SURFACE.implied_vol(np.log(strikes / 72_000.0), times))


@pytest.mark.parametrize(
    ("slices", "message"),
    [
        ((), "at least one slice"),
        ((SURFACE.slices[1], SURFACE.slices[0]), "strictly increasing"),
        ((SURFACE.slices[0], SURFACE.slices[0]), "strictly increasing"),
    ],
)
def test_surface_rejects_missing_or_unordered_slices(
    slices: tuple[SviSlice, ...], message: str
) -> None:
    with pytest.raises(BadData, match=message):
        VolSurface(slices)


@pytest.mark.parametrize("t_years", [0.0, -0.1, float("nan")])
def test_surface_rejects_non_positive_time(t_years: float) -> None:
    with pytest.raises(BadData, match="t_years"):
        SURFACE.implied_vol(0.0, t_years)


def test_arbitrage_grid_must_be_increasing() -> None:
    with pytest.raises(BadData, match="strictly increasing"):
        butterfly_violations(VOGT, np.array([0.0, 0.5, 0.2]))


def test_real_btc_chain_fits_within_the_market_and_reports_arbitrage(
    dataset: Callable[[str], Path],
) -> None:
    # Deribit BTC options, 2024-03-12 05:57 UTC (SOURCE.md beside the CSV). The file has
    # no bid/ask IVs, so they are implied from the bid/ask coin prices; the marks of
    # quotes without a market (and the far wings, marked at a 100% cap) are off-market,
    # so each slice is fitted to the mid vols of two-sided quotes, weighted by their spreads.
    folder = dataset("deribit-btc-book-summary-2024-03-12")
    with open(folder / "deribit_options.csv", newline="") as file:
        summaries = [parse_book_summary_row(row) for row in csv.DictReader(file)]
    smiles = out_of_the_money_smiles(summaries)
    assert len(smiles) == 12

    slices, checked = [], 0
    print("\nexpiry_days quotes two_sided rmse_mid_vp rmse_tight_vp inside_bid_ask")
    for smile in smiles:
        k = np.log(smile.strikes / smile.forward)
        quote = (smile.forward, smile.strikes, smile.t_years, smile.is_call)
        bids = implied_vol_inverse(smile.bid_prices_coin, *quote)
        asks = implied_vol_inverse(smile.ask_prices_coin, *quote)
        two_sided = np.isfinite(bids) & np.isfinite(asks)
        if two_sided.sum() < 8:
            continue
        bids, asks = bids[two_sided], asks[two_sided]
        mids = (bids + asks) / 2
        strikes = smile.strikes[two_sided]
        fit = fit_svi_slice(strikes, smile.forward, smile.t_years, mids, bids, asks)
        slices.append(fit.svi_slice)
        error = svi_implied_vol(k[two_sided], smile.t_years, fit.svi_slice.parameters) - mids
        tight = asks - bids <= 0.05
        tight_rmse = 100 * np.sqrt(np.mean(error[tight] ** 2)) if tight.any() else np.nan
        inside = np.mean(np.abs(error) <= (asks - bids) / 2 + 1e-12)
        print(
            f"{smile.t_years * 365:11.2f} {k.size:6d} {two_sided.sum():9d} "
            f"{fit.rmse_vol_points:11.2f} {tight_rmse:13.2f} {inside:14.2f}"
        )
        # From a week out with a full chain, the fit sits within the market: where the
        # spread is under 5 vol points it misses the mid by under 2.5 vol points, and
        # most fitted vols fall between bid and ask.
        if smile.t_years >= 7 / 365 and two_sided.sum() >= 20:
            checked += 1
            assert tight_rmse < 2.5
            assert inside >= 0.65
    assert checked == 7

    findings = VolSurface(tuple(slices)).find_arbitrage()
    for finding in findings:
        print(finding)
    # This chain's fits admit both kinds (mostly beyond the quoted strikes); each
    # finding names fitted expiries and a positive size.
    assert {finding.kind for finding in findings} == {"butterfly", "calendar"}
    expiries = {svi_slice.t_years for svi_slice in slices}
    assert all(finding.t_years in expiries and finding.size > 0 for finding in findings)

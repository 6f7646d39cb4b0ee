"""Market snapshots: forwards, vols of every kind, bad data refused by name."""

from __future__ import annotations

import math
from datetime import UTC, datetime

import numpy as np
import pytest

from hedgekeeper import timestamps
from hedgekeeper.errors import BadData
from hedgekeeper.portfolio import market
from hedgekeeper.portfolio.market import MarketSnapshot, UnderlyingMarket
from hedgekeeper.timestamps import NS_PER_DAY, datetime_to_ns

AS_OF_NS = datetime_to_ns(datetime(2025, 6, 13, 8, tzinfo=UTC))
EXPIRY_NS = datetime_to_ns(datetime(2025, 9, 26, 8, tzinfo=UTC))


def test_forwards_are_given_or_derived_from_the_basis() -> None:
    btc = UnderlyingMarket(
        underlying="BTC", spot_usd=100_000.0, vol=0.5, forwards_usd={EXPIRY_NS: 101_800.0}, basis_rate=0.04
    )
    other = EXPIRY_NS + 30 * NS_PER_DAY
    forwards = btc.forward_usd(np.array([EXPIRY_NS, other, EXPIRY_NS]), AS_OF_NS)
    expected_other = 100_000.0 * math.exp(0.04 * 135 / 365)
    np.testing.assert_allclose(forwards, [101_800.0, expected_other, 101_800.0], rtol=1e-14)


def test_missing_forward_without_a_basis_names_the_expiry() -> None:
    btc = UnderlyingMarket(underlying="BTC", spot_usd=100_000.0, vol=0.5)
    with pytest.raises(BadData, match="BTC: no forward for expiry 2025-09-26T08:00:00Z"):
        btc.forward_usd(np.array([EXPIRY_NS]), AS_OF_NS)


def test_spot_tick_moves_given_forwards_in_proportion() -> None:
    btc = UnderlyingMarket(underlying="BTC", spot_usd=100_000.0, vol=0.5, forwards_usd={EXPIRY_NS: 102_000.0})
    moved = btc.with_spot(95_000.0)
    assert moved.forwards_usd[EXPIRY_NS] == pytest.approx(96_900.0, rel=1e-15)
    assert btc.spot_usd == 100_000.0  # immutable


def test_vols_flat_per_option_or_from_a_smile_of_log_moneyness() -> None:
    ids = ("A", "B", "C")
    strike = np.array([90_000.0, 100_000.0, 120_000.0])
    t_years = np.array([0.1, 0.1, 0.5])
    forward = np.full(3, 100_000.0)
    flat = UnderlyingMarket(underlying="BTC", spot_usd=1e5, vol=0.5, option_vols={"B": 0.55})
    np.testing.assert_allclose(flat.implied_vol(ids, strike, t_years, forward), [0.5, 0.55, 0.5])

    def smile(k: np.ndarray, t: np.ndarray) -> np.ndarray:
        return 0.5 + 0.2 * k**2 - 0.05 * k + 0.01 * t

    curved = UnderlyingMarket(underlying="BTC", spot_usd=1e5, vol=smile, option_vols={"C": 0.7})
    k = np.log(strike / forward)
    np.testing.assert_allclose(curved.implied_vol(ids, strike, t_years, forward), [*smile(k, t_years)[:2], 0.7])


@pytest.mark.parametrize("spot_usd", [float("nan"), 0.0, -100.0, float("inf")])
def test_bad_spot_is_refused_naming_the_underlying(spot_usd: float) -> None:
    with pytest.raises(BadData, match="ETH: spot_usd must be finite and > 0"):
        UnderlyingMarket(underlying="ETH", spot_usd=spot_usd, vol=0.6)
    good = UnderlyingMarket(underlying="ETH", spot_usd=2_500.0, vol=0.6)
    with pytest.raises(BadData, match="ETH: spot_usd"):
        good.with_spot(spot_usd)


def test_bad_forward_vol_or_rate_is_refused_naming_it() -> None:
    with pytest.raises(BadData, match="BTC: forward for 2025-09-26T08:00:00Z must be finite and > 0"):
        UnderlyingMarket(underlying="BTC", spot_usd=1e5, vol=0.5, forwards_usd={EXPIRY_NS: -1.0})
    with pytest.raises(BadData, match="BTC-26SEP25-90000-P: implied vol must be finite and >= 0, got nan"):
        UnderlyingMarket(underlying="BTC", spot_usd=1e5, option_vols={"BTC-26SEP25-90000-P": float("nan")})
    with pytest.raises(BadData, match="BTC: vol must be finite and >= 0"):
        UnderlyingMarket(underlying="BTC", spot_usd=1e5, vol=-0.1)
    with pytest.raises(BadData, match="BTC: basis_rate must be finite"):
        UnderlyingMarket(underlying="BTC", spot_usd=1e5, vol=0.5, basis_rate=float("nan"))


def test_option_without_a_vol_or_with_a_bad_smile_value_is_named() -> None:
    bare = UnderlyingMarket(underlying="BTC", spot_usd=1e5)
    with pytest.raises(BadData, match=r"OPT-2: no implied vol \(set a vol for BTC or for it\)"):
        bare.implied_vol(("OPT-2",), np.array([1e5]), np.array([0.1]), np.array([1e5]))
    broken = UnderlyingMarket(underlying="BTC", spot_usd=1e5, vol=lambda k, t: np.where(k > 0, -0.1, 0.5))
    with pytest.raises(BadData, match="OPT-B: implied vol must be finite and >= 0, got -0.1"):
        broken.implied_vol(("OPT-A", "OPT-B"), np.array([9e4, 11e4]), np.array([0.1, 0.1]), np.full(2, 1e5))


def test_snapshot_names_a_missing_underlying() -> None:
    snapshot = MarketSnapshot(AS_OF_NS, {"BTC": UnderlyingMarket(underlying="BTC", spot_usd=1e5, vol=0.5)})
    with pytest.raises(BadData, match=r"no market data for SOL \(the snapshot has: BTC\)"):
        snapshot.underlying("SOL")
    with pytest.raises(BadData, match="holds data of 'BTC'"):
        MarketSnapshot(AS_OF_NS, {"ETH": snapshot.underlying("BTC")})


def test_time_helpers_stay_importable_from_here() -> None:
    for name in ("NS_PER_DAY", "NS_PER_YEAR", "datetime_to_ns", "format_ns", "year_fraction"):
        assert getattr(market, name) is getattr(timestamps, name)

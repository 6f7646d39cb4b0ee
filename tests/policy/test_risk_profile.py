"""The risk profile: bands validate on load and name the field that is wrong."""

from __future__ import annotations

from pathlib import Path

import pytest

from hedgekeeper.errors import ConfigError
from hedgekeeper.policy.risk_profile import Band, load_risk_profile


def test_band_from_width_is_symmetric_around_target() -> None:
    band = Band(target=1.5, width=0.5)
    assert (band.lower, band.target, band.upper) == (1.0, 1.5, 2.0)


@pytest.mark.parametrize(
    ("value", "excess"), [(2.0, 0.0), (1.0, 0.0), (3.0, 0.0), (3.25, 0.25), (0.5, -0.5)]
)
def test_band_excess_is_signed_distance_outside(value: float, excess: float) -> None:
    band = Band(target=2.0, lower=1.0, upper=3.0)
    assert band.excess(value) == excess
    assert band.contains(value) == (excess == 0.0)


def test_profile_loads_from_toml_table(tmp_path: Path) -> None:
    path = tmp_path / "book.toml"
    path.write_text(
        "[profile.BTC]\n"
        "delta_coin = { target = 0.0, width = 2.5 }\n"
        "gamma_usd_per_pct = { target = 0.0, lower = -40000.0, upper = 10000.0 }\n"
        "[profile.ETH]\n"
        "weight = { target = 0.2, width = 0.05 }\n"
    )
    profile = load_risk_profile(path)
    assert profile.underlyings == ("BTC", "ETH")
    assert profile.bands("BTC").gamma_usd_per_pct.lower == -40000.0
    assert profile.bands("ETH").weight.upper == pytest.approx(0.25)
    assert profile.bands("SOL").delta_coin is None


@pytest.mark.parametrize(
    ("table", "field"),
    [
        ({"BTC": {"delta_coin": {"target": 5.0, "lower": -1.0, "upper": 1.0}}}, "profile.BTC.delta_coin"),
        ({"BTC": {"delta_coin": {"target": 0.0, "width": -1.0}}}, "profile.BTC.delta_coin"),
        ({"BTC": {"delta_coin": {"target": 0.0, "width": 1.0, "upper": 2.0}}}, "profile.BTC.delta_coin"),
        ({"BTC": {"detla_coin": {"target": 0.0, "width": 1.0}}}, "profile.BTC.detla_coin"),
        ({"BTC": {"vega_usd_per_vol_pt": {"target": float("nan"), "lower": 0.0, "upper": 1.0}}},
         "profile.BTC.vega_usd_per_vol_pt.target"),
        ({"BTC": {"delta_coin": {"target": 0.0, "width": 1.0},
                  "delta_usd": {"target": 0.0, "width": 1.0}}}, "profile.BTC"),
    ],
)
def test_bad_band_is_an_error_naming_the_field(table: dict, field: str) -> None:
    with pytest.raises(ConfigError, match=field.replace(".", r"\.")):
        load_risk_profile(table)


def test_malformed_toml_is_an_error_naming_the_file(tmp_path: Path) -> None:
    path = tmp_path / "broken.toml"
    path.write_text("[profile.BTC\ndelta_coin = 1\n")
    with pytest.raises(ConfigError, match="broken.toml: malformed TOML"):
        load_risk_profile(path)


def test_missing_profile_table_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "empty.toml"
    path.write_text("[other]\nx = 1\n")
    with pytest.raises(ConfigError, match=r"no \[profile\] table"):
        load_risk_profile(path)

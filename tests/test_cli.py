"""The command line: help, the risk report of the example book, one-line errors."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from hedgekeeper.cli import app

EXAMPLE = Path(__file__).parents[1] / "examples" / "portfolio.toml"
RUNNER = CliRunner(env={"COLUMNS": "220"})


def test_help_lists_the_risk_command() -> None:
    result = RUNNER.invoke(app, ["--help"])
    assert result.exit_code == 0
    assert "risk" in result.stdout and "bands" in result.stdout


def test_risk_help_explains_units_and_options() -> None:
    result = RUNNER.invoke(app, ["risk", "--help"])
    assert result.exit_code == 0
    for words in ("gamma", "USD change of delta per 1%", "maintenance margin", "--max-move", "--grid-points"):
        assert words in result.stdout


def test_risk_prints_greeks_bands_margin_and_liquidation_of_the_example() -> None:
    result = RUNNER.invoke(app, ["risk", str(EXAMPLE)])
    assert result.exit_code == 0, result.output
    for words in (
        "Greeks by underlying", "Risk against the target profile", "gamma USD/1%", "Margin accounts",
        "deribit BTC", "binance USDT", "Distance to liquidation", "BTC + ETH", "none within 50%", "leverage",
    ):
        assert words in result.stdout, words
    assert result.stderr == ""


def test_malformed_file_exits_non_zero_with_one_line(tmp_path: Path) -> None:
    broken = tmp_path / "broken.toml"
    broken.write_text("as_of = [\n")
    result = RUNNER.invoke(app, ["risk", str(broken)])
    assert result.exit_code == 1
    assert result.stderr.startswith(f"error: {broken}: malformed TOML")
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.output


def test_unreadable_path_exits_non_zero_with_one_line(tmp_path: Path) -> None:
    result = RUNNER.invoke(app, ["risk", str(tmp_path)])
    assert result.exit_code == 1
    assert result.stderr.startswith("error: ") and result.stderr.count("\n") == 1


def test_bad_field_and_bad_profile_exit_non_zero_naming_them(tmp_path: Path) -> None:
    text = EXAMPLE.read_text()
    bad_size = tmp_path / "bad_size.toml"
    bad_size.write_text(text.replace("size_contracts = -152000", 'size_contracts = "short"'))
    result = RUNNER.invoke(app, ["risk", str(bad_size)])
    assert result.exit_code == 1 and r"positions[7].size_contracts" in result.stderr

    bad_band = tmp_path / "bad_band.toml"
    bad_band.write_text(text.replace("delta_coin = { target = 0.0, width = 3.0 }", "delta_coin = { target = 0.0 }"))
    result = RUNNER.invoke(app, ["risk", str(bad_band)])
    assert result.exit_code == 1 and "profile.BTC.delta_coin" in result.stderr
    assert result.stderr.count("\n") == 1


def test_unknown_instrument_and_bad_market_data_exit_non_zero(tmp_path: Path) -> None:
    text = EXAMPLE.read_text()
    unknown = tmp_path / "unknown.toml"
    unknown.write_text(text.replace('instrument = "ETHUSDT-PERP.BINANCE"', 'instrument = "ETHUSDT.BINANCE"'))
    result = RUNNER.invoke(app, ["risk", str(unknown)])
    assert result.exit_code == 1 and "unknown instrument 'ETHUSDT.BINANCE'" in result.stderr

    nan_spot = tmp_path / "nan_spot.toml"
    nan_spot.write_text(text.replace("spot_usd = 2546.80", "spot_usd = nan"))
    result = RUNNER.invoke(app, ["risk", str(nan_spot)])
    assert result.exit_code == 1 and "market.ETH: ETH: spot_usd must be finite and > 0, got nan" in result.stderr



def test_backtest_command_runs_a_short_simulation_and_writes_its_report(tmp_path: Path) -> None:
    example = (Path(__file__).parents[1] / "examples" / "backtest_short_call.toml").read_text()
    short = example.replace("duration_s = 259_200.0      # three days", "duration_s = 7_200.0")
    short = short.replace('name = "short-call-heston"', f'name = "short-call-heston"\noutput_dir = "{tmp_path}"')
    config = tmp_path / "backtest.toml"
    config.write_text(short)
    result = CliRunner().invoke(app, ["backtest", str(config), "--quiet"], env={"COLUMNS": "160"})
    assert result.exit_code == 0, result.output
    for label in ("short-call-heston", "threshold-0.5", "time-15min", "whalley-wilmott"):
        assert label in result.output
    report = tmp_path / "short-call-heston" / "report.html"
    assert report.exists() and "frontier" in report.read_text().lower()
    assert (tmp_path / "short-call-heston" / "results.sqlite").exists()


def test_backtest_command_names_a_bad_field(tmp_path: Path) -> None:
    example = (Path(__file__).parents[1] / "examples" / "backtest_short_call.toml").read_text()
    config = tmp_path / "bad.toml"
    config.write_text(example.replace("taker = 0.0005", "taker = -0.0005"))
    result = CliRunner().invoke(app, ["backtest", str(config)])
    assert result.exit_code == 1
    assert "fees.venues.binance.taker" in result.output

"""``hedgekeeper run`` refuses what it cannot run with one line naming the problem, never a traceback."""

from __future__ import annotations

from pathlib import Path

from service.service_builders import service_document, to_toml
from typer.testing import CliRunner

from hedgekeeper.cli import app


def test_a_key_file_others_may_read_stops_run_before_anything_starts(tmp_path: Path) -> None:
    key_file = tmp_path / "binance.toml"
    key_file.write_text('api_key = "visible-key"\napi_secret = "visible-secret"\n')
    key_file.chmod(0o644)
    document = service_document(tmp_path, speed=1.0)
    document["exchange"] = {"kind": "ccxt", "ccxt": [{"key_file": str(key_file), "venue": {
        "exchange": "binanceusdm", "sandbox": True, "market_ids": ["BTCUSDT"], "api_key_env": "BINANCE_KEY",
        "api_secret_env": "BINANCE_SECRET"}}]}
    config = tmp_path / "service.toml"
    config.write_text(to_toml(document))
    result = CliRunner().invoke(app, ["run", str(config), "--duration", "1"])
    assert result.exit_code == 1
    assert f"error: {key_file}: secret file has mode 0644, readable by group or others; run: chmod 600" in result.output
    assert "visible-secret" not in result.output and "Traceback" not in result.output


def test_a_bad_field_stops_run_naming_it(tmp_path: Path) -> None:
    document = service_document(tmp_path)
    document["service"]["speed"] = -1
    config = tmp_path / "service.toml"
    config.write_text(to_toml(document))
    result = CliRunner().invoke(app, ["run", str(config)])
    assert result.exit_code == 1 and "service.speed: Input should be greater than 0" in result.output

"""The service file: the example loads; a bad field is an error naming it."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
from service.service_builders import EXAMPLE, service_document

from hedgekeeper.config import load_toml
from hedgekeeper.errors import ConfigError
from hedgekeeper.service.config import load_service, parse_service


def test_the_example_service_file_loads_with_embedded_defaults() -> None:
    spec = load_service(EXAMPLE)
    assert spec.file.exchange.kind == "simulated" and spec.file.service.database_url.startswith("sqlite:///")
    assert spec.file.api.port == 8000
    chain = spec.file.chain
    assert chain.enabled and chain.system_file == "examples/chain.toml" and chain.underlying == "BTC"
    assert spec.profile.bands("BTC").delta_coin.upper == 1.0
    assert [feed.underlying for feed in spec.feeds()] == ["BTC"]


@pytest.mark.parametrize(("change", "message"), [
    (lambda d: d["service"].update(speed=0), "service.speed: Input should be greater than 0"),
    (lambda d: d["service"].update(on_shutdown="drop"), "service.on_shutdown"),
    (lambda d: d["api"].update(port=70000), "api.port"),
    (lambda d: d["service"].update(colour="red"), "service.colour: Extra inputs are not permitted"),
    (lambda d: d["exchange"].update(kind="ccxt"), "needs at least one [[exchange.ccxt]] account"),
    (lambda d: d["execution"].update(slices=0), "execution.slices"),
    (lambda d: d["hedging"]["underlyings"]["BTC"]["instruments"][0].update(instrument_id="ETH-PERP"),
     "unknown instrument 'ETH-PERP'"),
    (lambda d: d.pop("simulation"), "give exactly one market source"),
])
def test_a_bad_field_is_a_config_error_naming_it(tmp_path: Path, change, message: str) -> None:  # noqa: ANN001
    document = service_document(tmp_path)
    change(document)
    with pytest.raises(ConfigError) as error:
        parse_service(document, source="service.toml")
    assert message in str(error.value)


def test_real_exchanges_run_in_real_time_only(tmp_path: Path) -> None:
    document = copy.deepcopy(load_toml(EXAMPLE))
    document["exchange"] = {"kind": "ccxt", "ccxt": [{"venue": {
        "exchange": "binanceusdm", "sandbox": True, "market_ids": ["BTCUSDT"], "api_key_env": "K",
        "api_secret_env": "S"}}]}
    with pytest.raises(ConfigError, match="service.speed must be 1 with real exchanges, got 60"):
        parse_service(document)
    document["service"]["speed"] = 1.0
    assert parse_service(document).file.exchange.ccxt[0].venue.exchange == "binanceusdm"


def test_real_money_on_a_simulated_market_is_refused() -> None:
    document = copy.deepcopy(load_toml(EXAMPLE))
    document["service"]["speed"] = 1.0
    document["exchange"] = {"kind": "ccxt", "ccxt": [{"venue": {
        "exchange": "deribit", "sandbox": False, "market_ids": ["BTC-PERPETUAL"], "api_key_env": "K",
        "api_secret_env": "S"}}]}
    with pytest.raises(ConfigError, match="deribit with sandbox = false would trade real money on a simulated"):
        parse_service(document)


def _on_deribit(document: dict, *, sandbox: bool) -> dict:
    """Return ``document`` trading on one Deribit account, in real time."""
    document["service"]["speed"] = 1.0
    document["exchange"] = {"kind": "ccxt", "ccxt": [{"venue": {
        "exchange": "deribit", "sandbox": sandbox, "market_ids": ["BTC-PERPETUAL"], "api_key_env": "K",
        "api_secret_env": "S"}}]}
    return document


def test_real_money_is_traded_on_the_venues_own_market_streamed_with_live() -> None:
    document = _on_deribit(copy.deepcopy(load_toml(EXAMPLE)), sandbox=False)
    document.pop("simulation")
    document["live"] = {"streams": [{"exchange": "deribit", "market_id": "BTC-PERPETUAL", "trades": True}]}
    spec = parse_service(document)
    [stream] = spec.file.live.streams
    assert (stream.book, stream.trades, stream.stream) == (True, True, None)
    assert spec.document()["market"] == "live" and spec.file.market_source() == "live"


@pytest.mark.parametrize(("change", "message"), [
    (lambda d: d.update(simulation=load_toml(EXAMPLE)["simulation"]), "give exactly one market source"),
    (lambda d: d.update(exchange={"kind": "simulated"}), "[live] market data needs [exchange] kind = 'ccxt'"),
    (lambda d: d["live"]["streams"][0].update(exchange="okx"), "live.streams: okx has no [[exchange.ccxt]] account"),
    (lambda d: d["live"]["streams"][0].update(book=False), "stream the book, the trades or the marks"),
    (lambda d: d["live"].update(streams=[]), "live.streams"),
])
def test_a_bad_live_table_is_refused_naming_the_problem(change, message: str) -> None:  # noqa: ANN001
    document = _on_deribit(copy.deepcopy(load_toml(EXAMPLE)), sandbox=True)
    document.pop("simulation")
    document["live"] = {"streams": [{"exchange": "deribit", "market_id": "BTC-PERPETUAL"}]}
    change(document)
    with pytest.raises(ConfigError) as error:
        parse_service(document, source="service.toml")
    assert message in str(error.value)


def test_the_live_example_loads() -> None:
    spec = load_service(EXAMPLE.with_name("service_live.toml"))
    assert spec.file.market_source() == "live" and spec.file.exchange.ccxt[0].venue.sandbox
    assert [feed.spot_stream for feed in spec.feeds()] == ["BTC-PERPETUAL.DERIBIT"]


def test_real_venues_are_asked_for_orders_and_fills_every_half_second_by_default() -> None:
    simulated = load_service(EXAMPLE).file
    live = load_service(EXAMPLE.with_name("service_live.toml")).file
    assert simulated.execution.poll_interval_ns(simulated.exchange.kind == "ccxt") == 0
    assert live.execution.poll_interval_ns(live.exchange.kind == "ccxt") == 500_000_000

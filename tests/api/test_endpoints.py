"""Every endpoint of the API against a running service: answers, refusals without the token, bad input."""

from __future__ import annotations

import json
import time

import pytest
from fastapi.testclient import TestClient

from hedgekeeper.service.runtime import Service

GET_ENDPOINTS = ["/api/status", "/api/portfolio", "/api/greeks", "/api/positions", "/api/orders",
                 "/api/orders/hk-unknown/transitions", "/api/fills", "/api/decisions", "/api/costs", "/api/config",
                 "/api/config/versions", "/api/chain/records", "/api/market", "/api/stream", "/metrics"]
WRITE_ENDPOINTS = [("post", "/api/pause"), ("post", "/api/resume"), ("post", "/api/kill-switch"),
                   ("delete", "/api/kill-switch"), ("put", "/api/bands/BTC")]


@pytest.mark.parametrize("path", GET_ENDPOINTS)
def test_reads_without_a_token_are_refused(anonymous: TestClient, path: str) -> None:
    response = anonymous.get(path)
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"


@pytest.mark.parametrize(("method", "path"), WRITE_ENDPOINTS)
def test_controls_with_a_wrong_token_are_refused_and_change_nothing(anonymous: TestClient, service: Service,
                                                                     method: str, path: str) -> None:
    before = (service.snapshot.paused, service.snapshot.kill_switch, service.snapshot.config_version)
    response = anonymous.request(method, path, headers={"Authorization": "Bearer wrong"},
                                 json={"reason": "x"} if "kill" in path and method == "post" else None)
    assert response.status_code == 401 and response.json() == {"detail": "invalid bearer token"}
    assert (service.snapshot.paused, service.snapshot.kill_switch, service.snapshot.config_version) == before


def test_dashboard_health_and_openapi_need_no_token(anonymous: TestClient) -> None:
    page = anonymous.get("/")
    assert page.status_code == 200 and 'src="/static/dashboard.js"' in page.text
    script, style = anonymous.get("/static/dashboard.js"), anonymous.get("/static/dashboard.css")
    assert script.status_code == 200 and style.status_code == 200
    for text in (page.text, script.text, style.text):  # nothing from the internet
        assert "http://" not in text and "https://" not in text and "@import" not in text
    assert anonymous.get("/healthz").json() == {"status": "running"}
    paths = anonymous.get("/openapi.json").json()["paths"]
    assert {"/api/status", "/api/greeks", "/api/bands/{underlying}", "/api/kill-switch", "/api/stream",
            "/metrics"} <= set(paths)


def test_status_tells_the_service_is_running_and_recovered(client: TestClient) -> None:
    status = client.get("/api/status").json()
    assert status["status"] == "running" and status["recovery"]["first_start"] is True
    assert status["counters"]["events_processed"] > 0 and status["config_version"] >= 1


def test_greeks_are_reported_against_their_bands(client: TestClient) -> None:
    greeks = client.get("/api/greeks", params={"history": "true"}).json()
    btc = greeks["underlyings"]["BTC"]
    band = btc["bands"]["delta_coin"]
    assert band["lower"] < band["target"] < band["upper"]
    assert btc["breaches"] == ([] if band["lower"] <= btc["greeks"]["delta_coin"] <= band["upper"] else ["delta_coin"])
    assert btc["spot_usd"] > 0 and btc["equity_usd"] > 0
    assert len(greeks["history"]["BTC"]) >= 1 and len(greeks["history"]["BTC"][0]) == 7
    assert client.get("/api/greeks").json()["history"] == {}


def test_portfolio_positions_and_costs_agree(client: TestClient) -> None:
    portfolio = client.get("/api/portfolio").json()
    positions = {p["instrument_id"]: p["size_contracts"] for p in client.get("/api/positions").json()}
    assert positions["BTC-15JUL25-100000-C.DERIBIT"] == -25.0
    assert set(positions) == {p["instrument_id"] for p in portfolio["positions"]}
    costs = client.get("/api/costs").json()
    assert costs["fills"] >= 3 and costs["fees_usd"] > 0
    assert costs["total_usd"] == pytest.approx(costs["fees_usd"] + costs["slippage_usd"])


def test_fills_orders_and_transitions_are_listed(client: TestClient) -> None:
    fills = client.get("/api/fills", params={"limit": 5}).json()
    assert 1 <= len(fills) <= 5 and all(f["venue"] == "binance" for f in fills)
    orders = client.get("/api/orders", params={"state": "all", "limit": 50}).json()
    filled = [o for o in orders if o["status"] == "filled"]
    assert filled
    transitions = client.get(f"/api/orders/{filled[0]['client_order_id']}/transitions").json()
    assert transitions[-1]["after"] == "filled"
    assert isinstance(client.get("/api/orders").json(), list)


def test_decisions_carry_their_reasons(client: TestClient) -> None:
    decisions = client.get("/api/decisions", params={"limit": 3}).json()
    assert decisions and all(d["reasons"] for d in decisions)
    assert any("delta_coin" in reason for d in decisions for reason in d["reasons"])


def test_config_in_force_names_no_secret(client: TestClient) -> None:
    config = client.get("/api/config").json()
    assert config["profile"]["BTC"]["delta_coin"]["upper"] > 0
    text = json.dumps(config)
    assert "test-token" not in text and config["document"]["api"]["token_env"] == "HEDGEKEEPER_API_TOKEN"


@pytest.mark.parametrize(("path", "params", "status"), [
    ("/api/orders/hk-unknown/transitions", {}, 404),
    ("/api/orders", {"state": "some"}, 422),
    ("/api/fills", {"limit": 0}, 422),
    ("/api/decisions", {"limit": "many"}, 422),
    ("/api/chain/records", {"kind": "gossip"}, 422),
    ("/api/market", {}, 404),  # a simulated market: no streams to show
])
def test_bad_reads_are_4xx(client: TestClient, path: str, params: dict, status: int) -> None:
    assert client.get(path, params=params).status_code == status


def test_band_change_is_validated_versioned_and_used(client: TestClient, service: Service) -> None:
    version = service.snapshot.config_version
    response = client.put("/api/bands/BTC", json={"delta_coin": {"target": 0.0, "width": 0.8}})
    assert response.status_code == 200, response.text
    assert response.json()["version"] == version + 1
    assert response.json()["profile"]["BTC"]["delta_coin"] == {"target": 0.0, "lower": -0.8, "upper": 0.8}
    assert client.get("/api/greeks").json()["underlyings"]["BTC"]["bands"]["delta_coin"]["upper"] == 0.8
    versions = client.get("/api/config/versions").json()
    assert [v["version"] for v in versions][-2:] == [version, version + 1]
    assert versions[-1]["source"] == "api: bands of BTC"


@pytest.mark.parametrize(("underlying", "body", "status", "detail"), [
    ("BTC", {"delta_coin": {"target": 0.0, "lower": 1.0, "upper": -1.0}}, 422, "lower <= target <= upper"),
    ("BTC", {"delta_coin": {"target": 0.0, "width": -1.0}}, 422, "width must be a non-negative number"),
    ("BTC", {"delta_coin": {"target": 0.0, "width": 1.0}, "delta_usd": {"target": 0.0, "width": 5.0}}, 422,
     "give delta_coin or delta_usd, not both"),
    ("BTC", {"theta": {"target": 0.0, "width": 1.0}}, 422, "theta"),
    ("BTC", {"delta_coin": {"target": "nan", "width": 1.0}}, 422, "target"),
    ("DOGE", {"delta_coin": {"target": 0.0, "width": 1.0}}, 404, "unknown underlying 'DOGE'"),
])
def test_a_bad_band_change_is_refused_and_changes_nothing(client: TestClient, service: Service, underlying: str,
                                                          body: dict, status: int, detail: str) -> None:
    version, profile = service.snapshot.config_version, dict(service.snapshot.profile)
    response = client.put(f"/api/bands/{underlying}", json=body)
    assert response.status_code == status
    assert detail in json.dumps(response.json())
    assert (service.snapshot.config_version, dict(service.snapshot.profile)) == (version, profile)
    assert service.snapshot.status == "running"


def test_pause_stops_deciding_and_resume_decides_again(client: TestClient, service: Service) -> None:
    client.put("/api/bands/BTC", json={"delta_coin": {"target": 0.0, "width": 0.05}})
    assert client.post("/api/pause").json()["paused"] is True
    decisions = service.snapshot.counters["decisions"]
    events = service.snapshot.counters["events_processed"]
    deadline = time.monotonic() + 10
    while service.snapshot.counters["events_processed"] < events + 100 and time.monotonic() < deadline:
        time.sleep(0.02)
    assert service.snapshot.counters["events_processed"] >= events + 100
    assert service.snapshot.counters["decisions"] == decisions
    assert client.post("/api/resume").json()["paused"] is False
    deadline = time.monotonic() + 10
    while service.snapshot.counters["decisions"] == decisions and time.monotonic() < deadline:
        time.sleep(0.02)
    assert service.snapshot.counters["decisions"] > decisions


def test_kill_switch_refuses_every_order_until_released(client: TestClient, service: Service) -> None:
    client.put("/api/bands/BTC", json={"delta_coin": {"target": 0.0, "width": 0.05}})
    engaged = client.post("/api/kill-switch", json={"reason": "operator test"}).json()
    assert engaged["kill_switch"] == "operator test"
    assert client.get("/api/status").json()["kill_switch"] == "operator test"
    deadline = time.monotonic() + 15
    refused: list[dict] = []
    while not refused and time.monotonic() < deadline:
        time.sleep(0.05)
        refused = [o for o in client.get("/api/orders", params={"state": "all", "limit": 20}).json()
                   if o["status"] == "rejected" and "kill switch on (operator test)" in o["reason"]]
    assert refused, "no order was refused by the kill switch"
    assert client.delete("/api/kill-switch").json()["kill_switch"] == ""
    assert service.store.controls()["kill_switch"] == ""


@pytest.mark.parametrize("body", [{}, {"reason": ""}, {"reason": "x", "extra": 1}])
def test_kill_switch_needs_a_reason(client: TestClient, body: dict) -> None:
    assert client.post("/api/kill-switch", json=body).status_code == 422


def test_stream_sends_greeks_that_move_with_the_market(client: TestClient) -> None:
    with client.stream("GET", "/api/stream", params={"max_events": 6}) as response:
        assert response.headers["content-type"].startswith("text/event-stream")
        text = "".join(response.iter_text())
    frames = [block for block in text.split("\n\n") if block.startswith("event: greeks")]
    times = [json.loads(block.split("data: ", 1)[1])["engine_ns"] for block in frames]
    assert len(times) >= 2 and times == sorted(times) and times[-1] > times[0]


def test_metrics_count_events_latency_orders_breaches_and_costs(client: TestClient) -> None:
    text = client.get("/metrics").text
    for name in ("hedgekeeper_events_processed_total", "hedgekeeper_decision_latency_seconds_bucket",
                 'hedgekeeper_orders{state="filled"}', "hedgekeeper_band_breaches_total",
                 'hedgekeeper_costs_usd{kind="fee"}', "hedgekeeper_fills_total"):
        assert name in text
    processed = float(next(line.split()[-1] for line in text.splitlines()
                           if line.startswith("hedgekeeper_events_processed_total")))
    assert processed > 0

"""The chain in the service: deployed at start, fed the market's prices, its keeper guarding the vaults."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pydantic
import pytest
from fastapi.testclient import TestClient
from service.service_builders import TOKEN, service_document, service_spec, to_toml, wait_for

from hedgekeeper.api.app import create_app
from hedgekeeper.chain.anvil import AnvilNode, find_anvil
from hedgekeeper.chain.deploy import deploy_system, load_system_config
from hedgekeeper.config import load_toml
from hedgekeeper.engine.persistence.store import Store
from hedgekeeper.errors import ConfigError, HedgekeeperError
from hedgekeeper.market.events import BookUpdate, TopOfBook
from hedgekeeper.service.chain_component import ChainComponent, build_chain_component
from hedgekeeper.service.config import parse_service
from hedgekeeper.service.runtime import Service

CHAIN_EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "chain.toml"
KEEPER_REASONS = ("hard limit", "worth it", "cost above benefit", "would revert", "a rebalance is in flight")
START_NS = 1_750_000_000 * 10**9


def chain_file(folder: Path, **vault: Any) -> Path:
    """Write the example chain system with two vaults and narrow bands (they leave them on a small move)."""
    document = load_toml(CHAIN_EXAMPLE)
    document["vault_count"] = 2
    document["vault"].update({"inner_band_coin": 0.05, "outer_band_coin": 0.1, "cooldown_s": 0, **vault})
    path = folder / "chain.toml"
    path.write_text(to_toml(document))
    return path


def chain_spec(folder: Path, **chain: Any):  # noqa: ANN201
    table = {"enabled": True, "system_file": str(chain_file(folder)), "block_interval_s": 120.0, **chain}
    return service_spec(folder, chain=table)


def quote(ts_s: float, mid_usd: float) -> TopOfBook:
    return TopOfBook(START_NS + int(ts_s * 10**9), "BTCUSDT-PERP.BINANCE", mid_usd - 0.05, 1.0, mid_usd + 0.05, 1.0)


@pytest.fixture(params=["in_process", "anvil"])
def chain_table(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[dict[str, Any]]:
    """The ``[chain]`` table: deploy on the in-process EVM, or attach to a system deployed on a local anvil."""
    if request.param == "in_process":
        yield {}
        return
    if find_anvil() is None:
        pytest.skip("anvil binary not found (node_modules/.bin/anvil): `make test` installs it through npm")
    with AnvilNode() as node:
        system = deploy_system(load_system_config(chain_file(tmp_path)).model_copy(update={"backend": node.backend()}))
        addresses = tmp_path / "addresses.json"
        addresses.write_text(json.dumps(system.addresses()))
        yield {"rpc_url": node.url, "addresses_file": str(addresses), "move_time": True}


def test_recover_reads_every_vault_and_the_keeper_then_a_big_move_makes_the_keeper_rebalance(
        tmp_path: Path, chain_table: dict[str, Any]) -> None:
    component = build_chain_component(chain_spec(tmp_path, **chain_table))
    assert isinstance(component, ChainComponent) and component.price_stream == "BTCUSDT-PERP.BINANCE"
    component.start(None)
    try:
        summary = component.recover(None)
        json.dumps(summary)  # stored with the run as JSON
        attached = "addresses_file" in chain_table
        assert summary["backend"] == ("rpc" if attached else "in_process") and summary["deployed"] is not attached
        assert len(summary["vaults"]) == 2 and summary["out_of_band"] == 0
        assert all(abs(v["delta_deviation_coin"]) < 0.05 for v in summary["vaults"])
        assert summary["oracle"]["price_usd"] == pytest.approx(3000.0)
        assert summary["keeper"]["in_flight"] == {} and summary["keeper"]["pending_on_node"] == 0
        assert summary["addresses"]["vaults"] == [v["vault"] for v in summary["vaults"]]

        component.on_event(quote(0, 100_000.0))  # sets the scale: 3000 / 100000
        component.on_event(BookUpdate(START_NS, "BTCUSDT-PERP.BINANCE", ((1.0, 1.0),), (), False))  # no price
        component.on_event(quote(60, 100_100.0))  # within the block interval: not a tick
        assert component.wait_idle()
        component.on_event(quote(121, 100_200.0))  # 0.2%: below the 50 bps threshold, held back
        assert component.wait_idle()
        component.on_event(quote(242, 104_000.0))  # 4%: posted; the vaults leave their bands
        assert component.wait_idle()
        view = component.view()
        assert component.scale_ == pytest.approx(0.03)
        assert view["counters"]["ticks_done"] == 3 and view["counters"]["posted"] == 1
        assert view["counters"]["held_back"] == 2 and view["counters"]["prices_rejected"] == 0
        held, posted = view["oracle_submissions"][1], view["oracle_submissions"][0]
        assert not held["posted"] and held["reason"].startswith("not due: deviation 20 bps < 50 bps")
        assert posted["posted"] and posted["price_usd"] == pytest.approx(3120.0)
        assert posted["reason"] == "deviation 400 bps >= threshold 50 bps"
        assert view["oracle"]["price_usd"] == pytest.approx(3120.0)
        decisions = view["keeper"]["decisions"]
        assert {d["vault"] for d in decisions} == set(summary["addresses"]["vaults"])
        assert all(d["reason"].startswith(KEEPER_REASONS) for d in decisions)
        assert any(d["act"] and d["hard_limit"] == "beyond the outer band" for d in decisions)
        assert [t["event"] for t in view["keeper"]["transactions"]][-1] == "sent"

        component.on_event(quote(363, 104_010.0))  # the next block: the rebalance is included and confirmed
        assert component.wait_idle()
        after = component.recover(None)
        assert after["keeper"]["in_flight"] == {} and after["keeper"]["pending_on_node"] == 0
        events = [t["event"] for t in component.view()["keeper"]["transactions"]]
        assert "confirmed" in events and component.view()["last_error"] == ""
        rebalanced = [v for v in after["vaults"] if abs(v["delta_deviation_coin"]) < 0.1]
        assert rebalanced  # back inside the outer band at least
    finally:
        component.stop()
    assert component.view()["status"] == "stopped"
    assert component._thread is not None and not component._thread.is_alive()


def test_a_service_with_the_chain_posts_by_the_rule_and_shows_the_keeper_in_its_snapshot_and_api(
        tmp_path: Path) -> None:
    spec = chain_spec(tmp_path)
    service = Service(spec)
    [component] = service.components
    assert isinstance(component, ChainComponent)
    service.start()
    try:
        wait_for(lambda: service.snapshot.status == "running", what="recovery")
        with TestClient(create_app(service, pydantic.SecretStr(TOKEN))) as client:
            client.headers["Authorization"] = f"Bearer {TOKEN}"
            wait_for(lambda: client.get("/api/chain").json()["counters"]["posted"] >= 2
                     and client.get("/api/chain").json()["counters"]["decisions"] >= 1,
                     what="two oracle posts and a keeper decision")
            answer = client.get("/api/chain").json()
            assert answer["status"] == "running" and answer["underlying"] == "BTC"
            assert len(answer["vaults"]) == 2 and answer["keeper"]["decisions"]
            status = client.get("/api/status").json()
            assert status["recovery"]["chain"]["out_of_band"] == 0
            service.writer.flush()
            records = client.get("/api/chain/records", params={"kind": "keeper_decision", "limit": 5}).json()
            assert records and all(r["kind"] == "keeper_decision" and r["reason"] for r in records)
    finally:
        service.stop()
    assert service.error is None and service.snapshot.status == "stopped"
    view = service.snapshot.components["chain"]
    assert view["status"] == "stopped" and view["last_error"] == ""
    assert not component._thread.is_alive()  # type: ignore[union-attr]

    updater = component.updater_
    assert updater is not None
    for submission in updater.submissions:  # the deviation-plus-heartbeat rule, judged at the price's block
        due = submission.deviation_bps >= updater.deviation_threshold_bps or submission.age_s >= updater.heartbeat_s
        assert submission.posted == due, submission
    posted = [s for s in updater.submissions if s.posted]
    assert int(component.system_.oracle.functions.latestAnswer().call()) == posted[-1].answer  # type: ignore[union-attr]
    for row in view["oracle_submissions"]:
        assert row["price_usd"] == pytest.approx(row["market_price_usd"] * component.scale_)
    assert all(d["reason"].startswith(KEEPER_REASONS) for d in view["keeper"]["decisions"])
    assert all(abs(d["deviation_coin"]) > 0.05 for d in view["keeper"]["decisions"])  # only vaults out of band
    assert view["counters"]["ticks_queued"] == view["counters"]["ticks_done"] + view["counters"]["ticks_dropped"]

    store = Store.open(spec.file.service.database_url)
    [run] = store.runs()
    assert run.clean_stop and run.recovery["chain"]["vaults"] == service.snapshot.recovery["chain"]["vaults"]
    # every keeper decision and oracle submission of the run is in the store, with its reason
    decisions = store.chain_records("keeper_decision", limit=10_000)
    assert len(decisions) == view["counters"]["decisions"] >= 1
    assert [d["record"] for d in decisions[:len(view["keeper"]["decisions"])]] == view["keeper"]["decisions"]
    assert all(d["outcome"] == ("act" if d["record"]["act"] else "skip") and d["subject"] == d["record"]["vault"]
               and d["reason"].startswith(KEEPER_REASONS) for d in decisions)
    submissions = store.chain_records("oracle_submission", limit=10_000)
    assert len(submissions) == view["counters"]["ticks_done"]
    assert sum(s["outcome"] == "posted" for s in submissions) == view["counters"]["posted"]
    transactions = store.chain_records("keeper_transaction", limit=10_000)
    assert len(transactions) == view["counters"]["transactions"]
    store.close()

    again = Service(spec)  # a restart shows the latest records again before its first tick
    [component] = again.components
    assert isinstance(component, ChainComponent)
    again.start()
    try:
        wait_for(lambda: again.snapshot.status == "running", what="recovery")
        assert view["keeper"]["decisions"][0] in again.snapshot.components["chain"]["keeper"]["decisions"]
    finally:
        again.stop()


def test_the_chain_is_absent_from_the_api_when_disabled(tmp_path: Path) -> None:
    service = Service(service_spec(tmp_path))
    assert service.components == []
    with TestClient(create_app(service, pydantic.SecretStr(TOKEN))) as client:
        answer = client.get("/api/chain", headers={"Authorization": f"Bearer {TOKEN}"})
    assert answer.status_code == 404 and "chain is not enabled" in answer.json()["detail"]


@pytest.mark.parametrize(("table", "message"), [
    ({"block_interval_s": -1}, "chain.block_interval_s: Input should be greater than 0"),
    ({"colour": "blue"}, "chain.colour: Extra inputs are not permitted"),
    ({"price": "sideways"}, "chain.price: Input should be 'scaled' or 'direct'"),
    ({"rpc_url": "ws://node"}, "chain.rpc_url: String should match pattern"),
    ({"underlying": "ETH"}, "chain.underlying: 'ETH' is not hedged; hedged: BTC"),
])
def test_a_bad_chain_field_is_a_config_error_naming_it(tmp_path: Path, table: dict[str, Any], message: str) -> None:
    document = service_document(tmp_path, chain={"enabled": True, **table})
    with pytest.raises(ConfigError, match=message):
        parse_service(document, source="test service")


def test_a_bad_chain_system_file_or_addresses_file_is_refused_before_the_service_starts(tmp_path: Path) -> None:
    bad = chain_file(tmp_path, implied_vol=-0.8)
    with pytest.raises(ConfigError, match=r"chain.system_file: .*vault.implied_vol: Input should be greater than 0"):
        Service(service_spec(tmp_path, chain={"enabled": True, "system_file": str(bad)}))
    with pytest.raises(ConfigError, match=r"chain.system_file: .*missing.toml: no such file"):
        Service(service_spec(tmp_path, chain={"enabled": True, "system_file": str(tmp_path / "missing.toml")}))
    good = chain_file(tmp_path)
    with pytest.raises(ConfigError, match="chain.addresses_file: attaching needs a node"):
        Service(service_spec(tmp_path, chain={"enabled": True, "system_file": str(good),
                                              "addresses_file": str(tmp_path / "addresses.json")}))
    (tmp_path / "addresses.json").write_text("{not json")
    with pytest.raises(ConfigError, match=r"chain.addresses_file: .*addresses.json: not JSON \(line 1, column 2"):
        Service(service_spec(tmp_path, chain={"enabled": True, "system_file": str(good),
                                              "rpc_url": "http://127.0.0.1:9", "addresses_file":
                                              str(tmp_path / "addresses.json")}))


def test_a_node_that_does_not_answer_stops_the_start_naming_it(tmp_path: Path) -> None:
    spec = chain_spec(tmp_path, rpc_url="http://127.0.0.1:9")
    service = Service(spec)
    with pytest.raises(HedgekeeperError, match=r"http://127.0.0.1:9: the node does not answer"):
        service.start()
    assert service.status == "stopped" and service.wait(1.0)

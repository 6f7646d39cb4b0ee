"""The ML gate: defers what the model calls noise, never past a hard limit, and is configured by TOML."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from hedgekeeper.errors import ConfigError
from hedgekeeper.ml.features import FEATURES
from hedgekeeper.ml.model import SavedModel, library_versions, save_model
from hedgekeeper.ml.simulation import DeferralLimits, HedgingTask, at_the_money_book, market_path, run_policy, spiky_events
from hedgekeeper.ml.training import gate_samples, train_gate
from hedgekeeper.policy.config import build_policy, load_policy_config
from hedgekeeper.policy.decision import HedgeMemory, PolicyInput, RiskSnapshot
from hedgekeeper.policy.hard_limits import HardLimits
from hedgekeeper.policy.ml_gate import DEFERRED, MLGate
from hedgekeeper.policy.risk_profile import load_risk_profile
from hedgekeeper.policy.triggers import ThresholdPolicy
from hedgekeeper.policy.whalley_wilmott import WhalleyWilmottPolicy

SECOND_NS = 1_000_000_000
PROFILE = load_risk_profile({"BTC": {"delta_coin": {"target": 0.0, "width": 1.0}}})
MARKET = dict.fromkeys(FEATURES, 0.0) | {"rv_240": 0.5}


class ConstantModel:
    """A model that always gives the same probability: probability 1 is the most eager deferrer there is."""

    feature_names = FEATURES

    def __init__(self, probability: float) -> None:
        self.probability = probability

    def defer_probability(self, features: dict[str, float]) -> float:
        assert set(features) == set(FEATURES)
        return self.probability


def _gate(policy=None, probability: float = 1.0, **limits: float) -> MLGate:  # noqa: ANN001
    settings = {"max_deferral_ns": 600 * SECOND_NS, "outer_band_multiple": 2.0,
                "min_liquidation_distance": 0.2, "max_leverage": 5.0} | limits
    return MLGate(policy=policy or ThresholdPolicy(profile=PROFILE, hedge_to="edge"), profile=PROFILE,
                  model=ConstantModel(probability), defer_probability=0.6, **settings)


def _state(delta: float, *, ts_s: float = 1000.0, deferred_since_s: float | None = None, distance: float = 0.5,
           leverage: float = 2.0, features: dict | None = MARKET, gamma: float = 0.0) -> PolicyInput:
    risk = RiskSnapshot(int(ts_s * SECOND_NS), "BTC", 50_000.0, delta, gamma, 0.0, 0.1, leverage, distance, 0.5)
    memory = HedgeMemory(0, 50_000.0, None if deferred_since_s is None else int(deferred_since_s * SECOND_NS))
    return PolicyInput(risk, memory, None, 0.0005, features)


def test_gate_defers_a_small_breach_when_the_model_expects_reversion() -> None:
    decision = _gate().decide(_state(1.3))
    assert (decision.act, decision.deferred, decision.trigger) == (False, True, DEFERRED)
    assert "P(waiting beats hedging now) 1.00 at or above 0.60" in decision.reasons[-1]
    assert decision.goal  # the band it would have hedged to, kept for the record


def test_gate_acts_when_the_model_expects_the_move_to_last() -> None:
    decision = _gate(probability=0.3).decide(_state(1.3))
    assert decision.act and not decision.deferred
    assert decision.reasons[-1].startswith("ml_gate: not deferred, P(waiting beats hedging now) 0.30 below")


def test_gate_without_market_features_leaves_the_decision_alone() -> None:
    decision = _gate().decide(_state(1.3, features=None))
    assert decision.act and decision.reasons[-1] == "ml_gate: not deferred, no market features"


@pytest.mark.parametrize(("state", "why"), [
    (_state(2.1), "beyond outer band [-2.0000, 2.0000]"),
    (_state(1.3, ts_s=1000.0, deferred_since_s=400.0), "deferred for 600 s, maximum 600 s"),
    (_state(1.3, distance=0.19), "liquidation distance 19.00% below 20.00%"),
    (_state(1.3, leverage=5.5), "leverage 5.50 above 5.00"),
    (_state(1.3, distance=math.nan), "liquidation distance nan% below 20.00%"),
])
def test_gate_refuses_to_defer_at_each_hard_limit(state: PolicyInput, why: str) -> None:
    decision = _gate().decide(state)
    assert decision.act and not decision.deferred
    assert why in decision.reasons[-1]


@given(
    delta=st.floats(-10.0, 10.0), distance=st.floats(0.0, 2.0), leverage=st.floats(0.0, 10.0),
    deferred_s=st.none() | st.floats(0.0, 2000.0), gamma=st.floats(-1e-3, 1e-3),
    whalley_wilmott=st.booleans(),
)
def test_gate_never_defers_past_a_hard_limit(delta: float, distance: float, leverage: float,
                                             deferred_s: float | None, gamma: float, whalley_wilmott: bool) -> None:
    inner = (WhalleyWilmottPolicy(profile=PROFILE, hedge_to="edge", risk_aversion_per_usd=1e-5,
                                  min_half_width_coin=0.1) if whalley_wilmott
             else ThresholdPolicy(profile=PROFILE, hedge_to="edge"))
    gate = HardLimits(_gate(inner), profile=PROFILE, min_liquidation_distance=0.1, max_leverage=8.0)
    state = _state(delta, deferred_since_s=None if deferred_s is None else 3000.0 - deferred_s, ts_s=3000.0,
                   distance=distance, leverage=leverage, gamma=gamma)
    decision = gate.decide(state)
    inner_decision = inner.decide(state)
    if not decision.deferred:
        assert decision.act == (inner_decision.act or distance < 0.1 or leverage > 8.0)
        return
    # A deferral: the inner rule fired, and no limit binds (checked here from the numbers, not the gate).
    lower, upper = inner_decision.goal[next(iter(inner_decision.goal))]
    centre, half = (lower + upper) / 2, (upper - lower) / 2
    assert inner_decision.act
    assert abs(delta - centre) <= 2.0 * half
    assert deferred_s is None or deferred_s < 600.0
    assert distance >= 0.2 and leverage <= 5.0


def _model(tmp_path: Path) -> Path:
    rng = np.random.default_rng(0)
    path = market_path(spiky_events(rng, days=3.0))
    task = HedgingTask("train", path, at_the_money_book(path))
    samples = gate_samples(task, ThresholdPolicy(profile=load_risk_profile(
        {"BTC": {"delta_coin": {"target": 0.0, "width": 1.0}}}), hedge_to="edge"),
        horizon_steps=15, risk_aversion_per_usd=0.0, label_kind="persisted", counterfactual_steps=10)
    result = train_gate(samples, model_params={"n_estimators": 40, "min_child_samples": 10}, n_splits=2)
    return save_model(tmp_path / "gate.joblib", result.saved)


POLICY_TABLE = {"kind": "threshold", "hedge_to": "edge", "threshold": {},
                "hard_limits": {"min_liquidation_distance": 0.05, "max_leverage": 10.0}}


def _gate_table(model_path: Path | str, **fields: float) -> dict:
    return {"model_path": str(model_path), "defer_probability": 0.6, "max_deferral_s": 900.0,
            "outer_band_multiple": 2.0, "min_liquidation_distance": 0.1, "max_leverage": 8.0} | fields


def test_trained_gate_defers_on_a_new_path_without_a_breach(tmp_path: Path) -> None:
    model_path = _model(tmp_path)
    config = load_policy_config(POLICY_TABLE | {"ml_gate": _gate_table(model_path)})
    policy = build_policy(config, PROFILE)
    assert type(policy.policy).__name__ == "MLGate"
    path = market_path(spiky_events(np.random.default_rng(1), days=2.0))
    task = HedgingTask("test", path, at_the_money_book(path))
    limits = DeferralLimits(900.0, 2.0, 0.1, 8.0)
    gated = run_policy(task, policy, "gated", limits=limits)
    static = run_policy(task, build_policy(load_policy_config(POLICY_TABLE), PROFILE), "static")
    assert gated.deferrals > 0 and gated.breaches == 0
    assert gated.rebalances != static.rebalances


def test_gate_table_is_validated(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="gates threshold or whalley_wilmott"):
        load_policy_config({"kind": "time", "hedge_to": "edge", "time": {"interval_s": 60},
                            "hard_limits": POLICY_TABLE["hard_limits"], "ml_gate": _gate_table("m")})
    with pytest.raises(ConfigError, match="ml_gate.min_liquidation_distance 0.01 is below"):
        load_policy_config(POLICY_TABLE | {"ml_gate": _gate_table("m", min_liquidation_distance=0.01)})
    with pytest.raises(ConfigError, match=r"policy.ml_gate.defer_probability"):
        load_policy_config(POLICY_TABLE | {"ml_gate": _gate_table("m", defer_probability=1.5)})
    with pytest.raises(ConfigError, match="policy.ml_gate.model_path: no model at"):
        build_policy(load_policy_config(POLICY_TABLE | {"ml_gate": _gate_table(tmp_path / "none.joblib")}),
                     PROFILE)


def test_a_model_with_other_features_is_refused_by_build_policy(tmp_path: Path) -> None:
    from hedgekeeper.ml.model import GateModel, ModelMismatch

    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(400, 2)), rng.integers(0, 2, 400)  # noqa: N806
    model = GateModel(("a", "b"), n_estimators=5).fit(X, y)
    path = save_model(tmp_path / "other.joblib", SavedModel(model, ("a", "b"), 0, 1, {}, library_versions()))
    with pytest.raises(ModelMismatch, match="expected"):
        build_policy(load_policy_config(POLICY_TABLE | {"ml_gate": _gate_table(path)}), PROFILE)


def test_engine_feeds_features_to_the_gate_and_remembers_the_deferral(tmp_path: Path) -> None:
    # The real loop (backtest runner): a gated threshold policy over six simulated hours with a crash.
    import copy
    import tomllib

    from hedgekeeper.backtest.config import parse_backtest
    from hedgekeeper.backtest.runner import run_variant

    with (Path(__file__).parents[2] / "examples" / "backtest_short_call.toml").open("rb") as handle:
        document = tomllib.load(handle)
    document.pop("sweep")
    document["simulation"].update(duration_s=6 * 3600.0, step_s=10.0)
    document["simulation"]["scenarios"][0]["start_s"] = 3 * 3600.0
    document["profile"]["BTC"]["delta_coin"]["width"] = 0.5
    document["policy"]["hedge_to"] = "edge"
    document["backtest"]["output_dir"] = str(tmp_path)
    static = copy.deepcopy(document)
    document["policy"]["ml_gate"] = _gate_table(_model(tmp_path), defer_probability=0.05, max_deferral_s=300.0)
    backtest = parse_backtest(document)
    recorder = run_variant(backtest, backtest.variants[0])
    deferred = [d for d in recorder.decisions if d.trigger == DEFERRED]
    assert deferred, "the gate deferred nothing"
    assert all(not d.act and d.deferred for d in deferred)
    # Each deferral states since when the rebalance is deferred, from the engine's memory: never 300 s or more,
    # and more than 0 s for some (the memory carried over from tick to tick).
    import re

    deferred_s = [float(re.search(r"deferred for ([0-9.e+]+) s of at most 300 s", d.reasons[-1]).group(1))
                  for d in deferred]
    assert max(deferred_s) < 300.0 and max(deferred_s) > 0.0
    assert len(deferred_s) > sum(1 for s in deferred_s if s == 0.0)
    static_backtest = parse_backtest(static)
    static_recorder = run_variant(static_backtest, static_backtest.variants[0])
    assert len(recorder.fills) < len(static_recorder.fills)

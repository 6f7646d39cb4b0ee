"""Benchmark: the ML gate's cost-versus-hedging-error frontier against the same policies without it.

The task (``ml/simulation.py``): 25 short 30-day at-the-money BTC calls delta-hedged
with a perpetual at 1-minute steps, paying a 5 bps fee plus half the quoted spread.
Every figure is out of sample:

- simulated: spiky paths (``spiky_events``; Brownian motion, permanent jumps and
  short-lived spikes); the model trains on ``--paths`` paths and is judged on as
  many others (``examples/ml_gate_simulated.toml``);
- recorded: Gemini BTC/USD 1-minute candles, 2021-03-16 .. 2021-04-15; the model
  trains on the first 15 days and is judged on the last 15
  (``examples/ml_gate_recorded.toml``), when ``../shared/data`` is there; and,
  trained on the whole month, judged on the four Binance 1-minute crash days
  (``examples/ml_gate_crash_days.toml``).

Peers: the threshold policy without the gate (a sweep of band widths), the
Whalley-Wilmott band (a sweep of risk aversions), and, on the simulated task, a
pfhedge no-transaction band network (Imaki et al., 2021) trained by deep hedging
on Brownian paths at the book's vol and cost (pfhedge and torch are the optional
[deep] extra; skipped with the reason when absent).

Nothing is tuned on the test period. The gate's label horizon (``[ml.selection]``,
5, 15 or 30 steps) and defer probability (``[ml.policies] defer_probabilities``) are
chosen, for the threshold and the Whalley-Wilmott family each, on walk-forward
validation blocks inside the training period (``ml/selection.py``: the later 60% of
it in 3 blocks, each block's models trained on what was known an embargo before it),
by the cost relative to the static frontier at equal or lower hedging error. The
chosen horizon's model is then trained on the whole training period, and the
static and gated sweeps run once on the test period.

For each frontier the script prints every setting's figures, the cost of the gated
frontier against the best static one at equal hedging error, the cheapest gated
setting at equal or lower hedging error than each efficient static setting, at how
many efficient static settings the target (15% less) is met, and the deferrals past a
hard limit (must be 0).

    python bench/bench_ml_gate.py [--paths 2] [--days 20] [--skip-recorded] [--skip-deep]   # ~10 min on 2 cores
"""

from __future__ import annotations

import argparse
import logging
import math
import time
from pathlib import Path

import numpy as np

from hedgekeeper.ml.evaluation import PolicyPoint, comparison_lines, cost_at_error, evaluate_policies, target_line
from hedgekeeper.ml.pipeline import Evaluation, MLConfig, build_tasks, evaluate, load_ml_config, write_report
from hedgekeeper.ml.choice import Sweep
from hedgekeeper.ml.selection import select_gates, train_chosen
from hedgekeeper.ml.simulation import NS_PER_SECOND, SECONDS_PER_YEAR, HedgingTask
from hedgekeeper.policy.base import decision_for, describe_position
from hedgekeeper.policy.decision import Decision, Greek, PolicyInput
from hedgekeeper.policy.hard_limits import HardLimits
from hedgekeeper.policy.risk_profile import load_risk_profile

EXAMPLES = Path(__file__).parents[1] / "examples"
OUTPUT = Path("results/bench-ml")
WHALLEY_WILMOTT_RISK_AVERSIONS = (1e-6, 1e-5, 1e-4, 1e-3)
DEEP_RISK_AVERSIONS = (1.0, 10.0, 100.0)
TARGET = 0.15  # the issue's: at least 15% less cost at equal or lower hedging error than the best static policy
DEEP_STEP_YEARS = 4.0 / (365 * 24)  # the network trains on 4-hour rebalancing (CPU time); its band is applied every minute


def _say(line: str) -> None:
    print(f"  {line}", flush=True)


def _print_comparison(title: str, gated: list[PolicyPoint], static: list[PolicyPoint]) -> None:
    print()
    print("\n".join(comparison_lines(title, gated, static)))


class NoTransactionBandPolicy:
    """Hold the book's delta in the band a pfhedge no-transaction band network gives (a Policy).

    The network maps (log moneyness, time to maturity, vol) to a band around the
    Black-Scholes delta of one short call's hedge, ``[Delta - w_lower, Delta + w_upper]``
    (hedge ratio, coin per option); for ``n_options`` calls the book's delta
    (hedge minus ``n_options * Delta``) is kept in ``[-n w_lower, n w_upper]`` coin,
    traded to the nearest edge.
    """

    def __init__(self, network, strike_usd: float, expiry_ns: int, vol: float, n_options: float) -> None:  # noqa: ANN001
        self.network = network
        self.strike_usd = strike_usd
        self.expiry_ns = expiry_ns
        self.vol = vol
        self.n_options = n_options

    def band(self, state: PolicyInput) -> tuple[float, float]:
        """Return the band of the book's delta, coin."""
        import torch
        import torch.nn.functional as fn

        risk = state.risk
        maturity = max((self.expiry_ns - risk.ts_ns) / NS_PER_SECOND / SECONDS_PER_YEAR, 1e-6)
        inputs = torch.tensor([[math.log(risk.spot_usd / self.strike_usd), maturity, self.vol]])
        with torch.no_grad():
            width = fn.leaky_relu(self.network(inputs))[0]
        return -self.n_options * float(width[0]), self.n_options * float(width[1])

    def decide(self, state: PolicyInput) -> Decision:
        """Act when the book's delta leaves the network's band; trade to its edge."""
        band = self.band(state)
        reason = describe_position("delta_coin", state.risk.delta_coin, band, "no-transaction band")
        if band[0] <= state.risk.delta_coin <= band[1]:
            return decision_for(state, act=False, reasons=(reason,))
        return decision_for(state, act=True, trigger="no_transaction_band", reasons=(reason,),
                            goal={Greek.DELTA_COIN: band})

    def quiet(self, state: PolicyInput, cells) -> None:  # noqa: ANN001
        """Return None: the engine asks at every tick."""
        return None


def _deep_hedging_points(config: MLConfig, tasks: list[HedgingTask]) -> list[PolicyPoint]:
    """Train no-transaction band networks (one per risk aversion) and run them on ``tasks``."""
    try:
        import torch
        import torch.nn.functional as fn
        from pfhedge.instruments import BrownianStock, EuropeanOption
        from pfhedge.nn import BlackScholes, Clamp, EntropicRiskMeasure, Hedger, MultiLayerPerceptron
    except ImportError as error:
        print(f"\ndeep hedging peer: skipped ({error}; install the [deep] extra: pfhedge and torch)")
        return []

    class NoTransactionBandNet(torch.nn.Module):
        # The band around the Black-Scholes delta, widths from a multi-layer perceptron (Imaki et al., 2021).
        def __init__(self, derivative) -> None:  # noqa: ANN001
            super().__init__()
            self.delta = BlackScholes(derivative)
            self.mlp = MultiLayerPerceptron(out_features=2)
            self.clamp = Clamp()

        def inputs(self) -> list[str]:
            return self.delta.inputs() + ["prev_hedge"]

        def forward(self, x):  # noqa: ANN001, ANN202
            prev_hedge = x[..., [-1]]
            delta = self.delta(x[..., :-1])
            width = self.mlp(x[..., :-1])
            lower = delta - fn.leaky_relu(width[..., [0]])
            upper = delta + fn.leaky_relu(width[..., [1]])
            return self.clamp(prev_hedge, min=lower, max=upper)

    torch.manual_seed(config.seed)
    torch.set_num_threads(1)
    cost = float(np.mean([task.path.cost_fraction.mean() for task in tasks]))
    maturity_years = (tasks[0].book.expiry_ns - tasks[0].path.ts_ns[0]) / NS_PER_SECOND / SECONDS_PER_YEAR
    variants = []
    for risk_aversion in DEEP_RISK_AVERSIONS:
        start = time.perf_counter()
        derivative = EuropeanOption(BrownianStock(sigma=config.book.vol, cost=cost, dt=DEEP_STEP_YEARS),
                                    maturity=maturity_years)
        network = NoTransactionBandNet(derivative)
        hedger = Hedger(network, network.inputs(), criterion=EntropicRiskMeasure(a=risk_aversion))
        hedger.fit(derivative, n_paths=1000, n_epochs=30, verbose=False)
        print(f"  no-transaction band network, entropic risk aversion {risk_aversion:g}: trained in "
              f"{time.perf_counter() - start:.0f} s")
        variants.append((risk_aversion, network.mlp))
    profile = load_risk_profile({"BTC": {"delta_coin": {"target": 0.0, "width": 1e6}}})
    hard = config.hard_limits
    points = []
    for risk_aversion, mlp in variants:
        def make(mlp=mlp, task=tasks[0]):  # noqa: ANN001, ANN202
            book = task.book
            return HardLimits(NoTransactionBandPolicy(mlp, book.strike_usd, book.expiry_ns, book.vol, book.n_options),
                              profile=profile, min_liquidation_distance=hard.min_liquidation_distance,
                              max_leverage=hard.max_leverage)
        # every test task shares the book's terms relative to its start; build the policy per task
        runs = [evaluate_policies([task], [(f"deep-ntb-{risk_aversion:g}", "deep no-transaction band", risk_aversion,
                                            lambda task=task, mlp=mlp: make(mlp, task))])[0] for task in tasks]
        point = PolicyPoint(runs[0].label, runs[0].family, risk_aversion, float(np.mean([r.cost_usd for r in runs])),
                            float(np.mean([r.hedging_error_usd for r in runs])), sum(r.rebalances for r in runs), 0, 0)
        _say(f"{point.label:<28} hedging error {point.hedging_error_usd:>9,.0f} USD   cost {point.cost_usd:>9,.0f} USD"
             f"   rebalances {point.rebalances:>6,d}")
        points.append(point)
    return points


def _run(config: MLConfig, *, deep: bool) -> None:
    start = time.perf_counter()
    train_tasks, test_tasks = build_tasks(config, _say)
    print("  choosing the label horizon and defer probability on validation blocks of the training period:")
    sweeps = [Sweep("threshold", config.policies.parameters, config.policies.gated_parameters),
              Sweep("whalley_wilmott", WHALLEY_WILMOTT_RISK_AVERSIONS, WHALLEY_WILMOTT_RISK_AVERSIONS)]
    run = select_gates(config, train_tasks, sweeps, model_dir=OUTPUT / "selection", progress=_say)
    for choice in run.choices.values():
        print("\n".join(choice.lines()))
    print(f"  ({time.perf_counter() - start:.0f} s); the chosen settings, trained on the whole training period:")
    chosen = train_chosen(config, train_tasks, run.choices, OUTPUT, _say)
    for family, (_, training) in chosen.items():
        metrics = training.saved.metrics
        print(f"  {family}: walk-forward AUC {metrics.get('walk_forward_auc', math.nan):.3f}, Brier "
              f"{metrics.get('walk_forward_brier', math.nan):.4f} against "
              f"{metrics.get('walk_forward_brier_base_rate', math.nan):.4f} for the base rate")
    print("  out of sample (the test period, judged once):")
    threshold = evaluate(chosen["threshold"][0], _say, tasks=test_tasks)
    whalley_wilmott = evaluate(chosen["whalley_wilmott"][0], _say, tasks=test_tasks)
    deep_points = _deep_hedging_points(config, test_tasks) if deep else []
    static = threshold.static + whalley_wilmott.static
    gated = threshold.gated + whalley_wilmott.gated
    for title, gated_points, static_points in (
        ("gated threshold against the static threshold policies", threshold.gated, threshold.static),
        ("gated threshold against every static policy (threshold and Whalley-Wilmott)", threshold.gated, static),
        ("gated Whalley-Wilmott against the static Whalley-Wilmott policies", whalley_wilmott.gated,
         whalley_wilmott.static),
        ("every gated policy against every static policy", gated, static),
    ):
        _print_comparison(f"{config.name}: {title}", gated_points, static_points)
        print(f"  {target_line(gated_points, static_points, TARGET)}")
    if deep_points:
        _print_comparison(f"{config.name}: gated threshold against the deep no-transaction band network",
                          threshold.gated, deep_points)
        for point in deep_points:
            static_cost = cost_at_error(static, point.hedging_error_usd)
            print(f"  {point.label}: cost {point.cost_usd:,.0f} USD at hedging error {point.hedging_error_usd:,.0f} USD;"
                  f" the static frontier there: {static_cost:,.0f} USD")
    print(f"  deferrals past a hard limit: {threshold.breaches + whalley_wilmott.breaches} (every gated run)")
    report = write_report(config, Evaluation(static, gated, threshold.saved, threshold.choices + whalley_wilmott.choices), extra_points=deep_points)
    print(f"  report: {report}   ({time.perf_counter() - start:.0f} s)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--paths", type=int, default=2, help="simulated paths to train on, and as many to test on")
    parser.add_argument("--days", type=float, default=20.0, help="days per simulated path")
    parser.add_argument("--skip-recorded", action="store_true", help="skip the recorded Gemini month")
    parser.add_argument("--skip-deep", action="store_true", help="skip the pfhedge peer")
    options = parser.parse_args()
    logging.basicConfig(level=logging.ERROR)  # row-by-row notes of the replay stay out of the figures
    start = time.perf_counter()
    simulated = load_ml_config(EXAMPLES / "ml_gate_simulated.toml")
    simulated = simulated.model_copy(update={
        "output_dir": OUTPUT, "model_path": OUTPUT / "gate-simulated.joblib",
        "data": simulated.data.model_copy(update={"train_paths": options.paths, "test_paths": options.paths,
                                                   "days": options.days})})
    print(f"Simulated spiky paths: {options.paths} to train, {options.paths} to test, {options.days:g} days each")
    _run(simulated, deep=not options.skip_deep)
    if not options.skip_recorded:
        recorded_runs = (
            ("ml_gate_recorded.toml", "gate-recorded.joblib",
             "Recorded: Gemini BTC/USD 1-minute, 2021-03-16 .. 2021-04-15 (train the first half, test the second)"),
            ("ml_gate_crash_days.toml", "gate-crash-days.joblib",
             "Recorded: trained on the whole Gemini month, judged on the four Binance BTC/USDT 1-minute crash days"),
        )
        for file_name, model_name, title in recorded_runs:
            config = load_ml_config(EXAMPLES / file_name)
            config = config.model_copy(update={"output_dir": OUTPUT, "model_path": OUTPUT / model_name})
            print(f"\n{title}")
            try:
                _run(config, deep=False)
            except (FileNotFoundError, OSError) as error:
                print(f"recorded data: skipped ({error})")
    print(f"\n{time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()

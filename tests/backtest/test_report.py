"""The HTML report is one self-contained file, and each of its figures is a non-blank PNG."""

from __future__ import annotations

import base64
import math
import re
from dataclasses import replace
from pathlib import Path

import matplotlib.image
import numpy as np
import pytest

from hedgekeeper.backtest.metrics import BacktestMetrics, compute_metrics
from hedgekeeper.backtest.report import (
    FrontierPoint,
    frontier_figure,
    write_frontier_report,
    write_report,
    write_report_pngs,
)
from hedgekeeper.engine.records import FillRecord, Recorder, RiskSample
from hedgekeeper.policy.decision import Decision, Greek
from hedgekeeper.policy.risk_profile import RiskProfile, load_risk_profile

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
HOUR_NS = 3_600 * 10**9
START_NS = 1_751_011_200 * 10**9  # 2025-06-27T08:00:00Z
URL = re.compile(r"https?://", re.IGNORECASE)


def _profile() -> RiskProfile:
    return load_risk_profile(
        {
            "BTC": {
                "delta_coin": {"target": 0.0, "width": 1.0},
                "gamma_usd_per_pct": {"target": 0.0, "width": 500.0},
            },
            "ETH": {"delta_usd": {"target": 0.0, "width": 20_000.0}},
        }
    )


def _recorder() -> Recorder:
    rng = np.random.default_rng(3)
    recorder = Recorder()
    equity, btc_delta = 1e6, 0.0
    for step in range(48):
        ts = START_NS + step * HOUR_NS
        btc_delta += rng.normal(0.0, 0.4)
        equity += rng.normal(0.0, 200.0)
        recorder.samples.append(
            RiskSample(ts, "BTC", 1e5, btc_delta, -300.0, 50.0, btc_delta / 10, equity, 0.4)
        )
        recorder.samples.append(
            RiskSample(ts, "ETH", 2.5e3, 2.0 * step, 0.0, 10.0, 0.0, equity, math.inf)
        )
        if abs(btc_delta) > 1.0:
            recorder.decisions.append(
                Decision(
                    ts,
                    "BTC",
                    True,
                    "threshold",
                    (f"delta_coin {btc_delta:.2f} outside band, see https://example.org",),
                    {Greek.DELTA_COIN: (-1.0, 1.0)},
                    forced=abs(btc_delta) > 1.5,
                    expected_cost_usd=12.0,
                )
            )
            recorder.fills.append(
                FillRecord(
                    ts + 1,
                    "BTC-PERPETUAL",
                    "deribit",
                    -btc_delta * 1e4,
                    1e5,
                    1e5,
                    abs(btc_delta) * 1e5,
                    abs(btc_delta) * 50.0,
                    abs(btc_delta) * 10.0,
                )
            )
            equity -= abs(btc_delta) * 60.0
            btc_delta = 0.0
        elif step % 6 == 0:
            recorder.decisions.append(Decision(ts, "ETH", False, "time", ("inside its band",)))
    return recorder


def _frontier(recorder: Recorder) -> list[tuple[str, str, float, BacktestMetrics]]:
    base = compute_metrics(recorder, _profile())
    points = []
    for family, scale in (("threshold", 1.0), ("time", 1.5)):
        for width in (0.5, 1.0, 2.0):
            cost = 10.0 / width * scale
            costs = replace(base.costs, fees_usd=cost, slippage_usd=0.0, total_cost_usd=cost)
            points.append(
                (
                    f"{family} {width:g}",
                    family,
                    width,
                    replace(base, hedging_error_usd=100.0 * width, costs=costs),
                )
            )
    return points


@pytest.fixture(scope="module")
def report_html(tmp_path_factory: pytest.TempPathFactory) -> str:
    recorder = _recorder()
    path = tmp_path_factory.mktemp("report") / "report.html"
    config = {
        "node_url": "https://rpc.example.org",
        "policy": {"family": "threshold", "width": 1.0},
    }
    written = write_report(
        path, recorder, _profile(), title="Test run", config=config, frontier=_frontier(recorder)
    )
    assert written == path
    return path.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def report_pngs(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    recorder = _recorder()
    return write_report_pngs(
        tmp_path_factory.mktemp("pngs") / "figures",
        recorder,
        _profile(),
        frontier=_frontier(recorder),
        dpi=60,
    )


def test_report_has_every_section(report_html: str) -> None:
    for heading in (
        "Metrics",
        "Greeks against their bands",
        "Hedged P&amp;L",
        "Cumulative costs",
        "Decisions",
        "Cost versus risk frontier",
        "Configuration",
    ):
        assert f"<h2>{heading}</h2>" in report_html
    assert "time outside band: delta (coin)" in report_html
    assert "time outside band: delta (USD)" in report_html
    # One Greeks figure per underlying, plus P&L, costs, decisions and frontier.
    assert report_html.count('<img src="data:image/png;base64,') == 2 + 4


def test_report_loads_nothing_and_quotes_no_url(report_html: str) -> None:
    assert URL.search(report_html) is None
    for reference in ("<script", "<link", "@import", "url(", "@font-face", "<iframe"):
        assert reference not in report_html.lower()
    assert set(re.findall(r'src="([a-z]+):', report_html)) == {"data"}


def test_embedded_figures_are_png_images(report_html: str) -> None:
    for encoded in re.findall(r'src="data:image/png;base64,([A-Za-z0-9+/=]+)"', report_html):
        image = base64.b64decode(encoded, validate=True)
        assert image.startswith(PNG_SIGNATURE) and b"matplotlib.org" not in image


def test_png_export_writes_one_non_blank_image_per_figure(report_pngs: list[Path]) -> None:
    assert [path.name for path in report_pngs] == [
        "metrics.png",
        "greeks_BTC.png",
        "greeks_ETH.png",
        "pnl.png",
        "costs.png",
        "decisions.png",
        "frontier.png",
    ]
    for path in report_pngs:
        assert path.read_bytes().startswith(PNG_SIGNATURE)
        pixels = matplotlib.image.imread(path)
        assert pixels.ndim == 3 and pixels.shape[0] > 100 and pixels.shape[1] > 100
        assert float(np.var(pixels)) > 0.0


def test_report_of_a_run_without_fills_or_decisions_renders(tmp_path: Path) -> None:
    samples = [
        RiskSample(START_NS + i, "SOL", 150.0, 1.0, 0.0, 0.0, 0.0, 1e4, math.inf) for i in range(3)
    ]
    html = write_report(
        tmp_path / "quiet.html", Recorder(samples=samples), load_risk_profile({})
    ).read_text()
    assert "<h2>Cost versus risk frontier</h2>" not in html and "<h2>Configuration</h2>" not in html
    assert html.count("data:image/png;base64,") == 4


def test_frontier_joins_each_familys_efficient_points() -> None:
    figure = frontier_figure(_frontier(_recorder()))
    axes = figure.axes[0]
    lines = {line.get_label(): line for line in axes.get_lines()}
    assert set(lines) >= {"threshold", "time", "efficient across families"}
    joined = [line for line in axes.get_lines() if line.get_linestyle() == "-"]
    # Every point is efficient within its family here: both lines pass through all three, by risk.
    assert [list(line.get_xdata()) for line in joined] == [[50.0, 100.0, 200.0]] * 2
    # Across families, "time" costs 1.5 times as much for the same risk: only "threshold" is ringed.
    assert list(lines["efficient across families"].get_xdata()) == [50.0, 100.0, 200.0]


def test_frontier_accepts_named_points_and_refuses_unknown_risk_measure(tmp_path: Path) -> None:
    points = [FrontierPoint(*point) for point in _frontier(_recorder())]
    html = write_frontier_report(tmp_path / "sweep.html", points).read_text()
    assert (
        html.count("data:image/png;base64,") == 1
        and "threshold 0.5" in html
        and URL.search(html) is None
    )
    with pytest.raises(ValueError, match="unknown risk measure"):
        frontier_figure(points, risk_measure="sharpe")

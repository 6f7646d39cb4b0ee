"""The backtest report: one self-contained HTML file, and each of its figures as a PNG.

The report reads a run's ``Recorder`` (and the ``RiskProfile`` it was held to):

- a metrics table, for the book and per underlying (``BacktestMetrics``);
- per underlying, each Greek over time against its band (band shaded, target
  dashed), with the rebalances marked;
- the hedged P&L (equity change, costs included) and its drawdown;
- the cumulative costs: fees, slippage and their total;
- the decisions on a timeline, acted on or skipped, per underlying and trigger;
- optionally, the cost-versus-risk frontier across policy parameters.

The page loads nothing: figures are PNGs embedded as base64 ``data:`` URIs, the
style sheet is inline, there is no script and no web font, and text that came from
the run (reasons, configuration) is escaped so that not even a quoted URL remains.
Figures are drawn on matplotlib's Agg canvas directly (no pyplot, no global state),
so the report renders the same on a server without a display.
"""

from __future__ import annotations

import base64
import html
import io
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, NamedTuple

import matplotlib.dates as mdates
import numpy as np
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from hedgekeeper.backtest.metrics import (
    BacktestMetrics,
    book_equity,
    compute_metrics,
    drawdown_usd,
    measure_values,
    pareto_efficient,
    time_outside_band_fraction,
)
from hedgekeeper.engine.records import Recorder
from hedgekeeper.policy.decision import Decision
from hedgekeeper.policy.risk_profile import RiskProfile
from hedgekeeper.portfolio.market import format_ns

#: How each measure is labelled on axes and in tables.
MEASURE_LABELS: dict[str, str] = {
    "delta_coin": "delta (coin)",
    "delta_usd": "delta (USD)",
    "gamma_usd_per_pct": "gamma (USD per 1% move)",
    "vega_usd_per_vol_pt": "vega (USD per vol point)",
    "weight": "weight (net USD delta / equity)",
}

#: The measures a frontier may put on its risk axis, with their axis labels.
FRONTIER_RISK_MEASURES: dict[str, str] = {
    "hedging_error_usd": "hedging error: std of equity change per sampling interval (USD)",
    "hedging_error_annualised_usd": "hedging error, annualised (USD)",
    "max_drawdown_usd": "maximum drawdown (USD)",
}

_FIGURE_DPI = 110
_PNG_DPI = 150
_DECISIONS_LISTED = 200
_ACTED_COLOR, _FORCED_COLOR, _SKIPPED_COLOR, _BAND_COLOR = "tab:blue", "tab:red", "0.6", "tab:green"


class FrontierPoint(NamedTuple):
    """One policy setting's result on the cost-versus-risk frontier.

    Attributes
    ----------
    label : str, shown next to the point, e.g. ``"width 2.5"``
    family : str, the policy family, one series per family, e.g. ``"threshold"``
    parameter : float, the swept parameter's value
    metrics : BacktestMetrics of the run with that setting
    """

    label: str
    family: str
    parameter: float
    metrics: BacktestMetrics


#: A frontier point, or the plain tuple (label, family, parameter, metrics).
FrontierInput = FrontierPoint | tuple[str, str, float, BacktestMetrics]


def _new_figure(width_in: float, height_in: float) -> Figure:
    figure = Figure(figsize=(width_in, height_in), dpi=_FIGURE_DPI, layout="constrained")
    FigureCanvasAgg(figure)
    return figure


def _as_datetime(ts_ns: np.ndarray | Sequence[int]) -> np.ndarray:
    return np.asarray(ts_ns, dtype=np.int64).astype("datetime64[ns]")


def _time_axis(axes: Axes) -> None:
    locator = mdates.AutoDateLocator()
    axes.xaxis.set_major_locator(locator)
    axes.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))
    axes.grid(True, alpha=0.3)


def _plotted_measures(profile: RiskProfile, underlying: str) -> tuple[str, ...]:
    delta = "delta_usd" if profile.bands(underlying).delta_usd is not None else "delta_coin"
    return (delta, "gamma_usd_per_pct", "vega_usd_per_vol_pt", "weight")


def _underlyings(recorder: Recorder) -> list[str]:
    return list(dict.fromkeys(sample.underlying for sample in recorder.samples))


def greeks_figure(recorder: Recorder, profile: RiskProfile, underlying: str) -> Figure:
    """Return one underlying's Greeks over time against their bands, rebalances marked.

    One panel per measure (delta in coin, or in USD when the profile bands delta in
    USD; gamma; vega; weight), drawn as a step function as the engine saw it. A band
    is shaded with its target dashed, and the panel's title gives the fraction of
    time spent outside it. Acted decisions are marked (forced ones in red).
    """
    columns = recorder.sample_columns(underlying)
    if columns["ts_ns"].size == 0:
        raise ValueError(f"no risk samples recorded for {underlying!r}")
    times = _as_datetime(columns["ts_ns"])
    acted = [d for d in recorder.decisions if d.underlying == underlying and d.act]
    acted_ts = np.array([d.ts_ns for d in acted], dtype=np.int64)
    # The sample in force at each decision: the last one at or before it.
    at_decision = np.clip(np.searchsorted(columns["ts_ns"], acted_ts, side="right") - 1, 0, None)
    forced = np.array([d.forced for d in acted], dtype=bool)
    bands = profile.bands(underlying)
    measures = _plotted_measures(profile, underlying)
    figure = _new_figure(10.0, 2.3 * len(measures))
    figure.suptitle(f"{underlying}: Greeks against their bands")
    axes_list = figure.subplots(len(measures), 1, sharex=True)
    for axes, measure in zip(axes_list, measures, strict=True):
        values = measure_values(columns, measure)
        axes.plot(times, values, drawstyle="steps-post", color="black", linewidth=1.0)
        band = getattr(bands, measure)
        title = MEASURE_LABELS[measure]
        if band is not None:
            axes.axhspan(band.lower, band.upper, color=_BAND_COLOR, alpha=0.15, label="band")
            axes.axhline(
                band.target, color=_BAND_COLOR, linestyle="--", linewidth=1.0, label="target"
            )
            outside = time_outside_band_fraction(columns["ts_ns"], values, band.lower, band.upper)
            title += f": outside its band {outside:.1%} of the time"
        else:
            title += ": no band"
        for mask, color, label in (
            (~forced, _ACTED_COLOR, "rebalance"),
            (forced, _FORCED_COLOR, "forced rebalance"),
        ):
            if mask.any():
                axes.plot(
                    times[at_decision[mask]],
                    values[at_decision[mask]],
                    "v",
                    color=color,
                    markersize=5,
                    linestyle="none",
                    label=label,
                )
        axes.set_title(title, fontsize=10, loc="left")
        if axes.get_legend_handles_labels()[0]:
            axes.legend(
                loc="lower right",
                bbox_to_anchor=(1.0, 1.0),
                fontsize=7,
                ncols=3,
                frameon=False,
                borderaxespad=0.1,
            )
        _time_axis(axes)
    return figure


def equity_figure(recorder: Recorder) -> Figure:
    """Return the hedged P&L over time (equity change, USD, costs included) and its drawdown."""
    ts_ns, equity_usd = book_equity(recorder)
    if ts_ns.size == 0:
        raise ValueError("no risk samples recorded: no equity to plot")
    times = _as_datetime(ts_ns)
    figure = _new_figure(10.0, 5.0)
    figure.suptitle(f"Hedged P&L (equity change from {equity_usd[0]:,.2f} USD, costs included)")
    pnl_axes, drawdown_axes = figure.subplots(2, 1, sharex=True, height_ratios=(2, 1))
    pnl_axes.plot(
        times, equity_usd - equity_usd[0], drawstyle="steps-post", color="tab:blue", linewidth=1.0
    )
    pnl_axes.axhline(0.0, color="black", linewidth=0.6)
    pnl_axes.set_ylabel("P&L (USD)")
    drawdown = drawdown_usd(equity_usd)
    drawdown_axes.fill_between(times, -drawdown, 0.0, step="post", color="tab:red", alpha=0.4)
    drawdown_axes.set_ylabel("drawdown (USD)")
    for axes in (pnl_axes, drawdown_axes):
        _time_axis(axes)
    return figure


def costs_figure(recorder: Recorder) -> Figure:
    """Return the cumulative fees, slippage and total cost over the run, USD."""
    ts_ns, _ = book_equity(recorder)
    fills = recorder.fill_columns()
    start_ns = min([*ts_ns[:1], *fills["ts_ns"][:1]], default=0)
    end_ns = max([*ts_ns[-1:], *fills["ts_ns"][-1:]], default=0)
    # Flat from the run's start to its first fill, and from its last fill to the end.
    times = _as_datetime(np.concatenate([[start_ns], fills["ts_ns"], [end_ns]]).astype(np.int64))
    figure = _new_figure(10.0, 3.5)
    figure.suptitle(f"Cumulative costs ({len(recorder.fills)} fills)")
    axes = figure.subplots()
    fees = np.cumsum(np.asarray(fills["fee_usd"], dtype=np.float64))
    slippage = np.cumsum(np.asarray(fills["slippage_usd"], dtype=np.float64))
    for series, label, color in (
        (fees, "fees", "tab:orange"),
        (slippage, "slippage", "tab:purple"),
        (fees + slippage, "total", "black"),
    ):
        path = np.concatenate([[0.0], series, series[-1:] if series.size else [0.0]])
        axes.plot(times, path, drawstyle="steps-post", label=label, color=color, linewidth=1.2)
    axes.set_ylabel("USD")
    axes.legend(loc="upper left", fontsize=8)
    _time_axis(axes)
    return figure


def _decision_row(decision: Decision) -> str:
    return f"{decision.underlying}: {decision.trigger or '(no trigger)'}"


def decisions_figure(recorder: Recorder) -> Figure:
    """Return every decision on a timeline, one row per underlying and trigger."""
    rows = sorted({_decision_row(d) for d in recorder.decisions})
    figure = _new_figure(10.0, 1.4 + 0.3 * max(len(rows), 1))
    figure.suptitle(
        f"Decisions ({sum(d.act for d in recorder.decisions)} acted on, "
        f"{sum(not d.act for d in recorder.decisions)} skipped)"
    )
    axes = figure.subplots()
    row_index = {row: index for index, row in enumerate(rows)}
    kinds = (
        ("skipped", lambda d: not d.act, {"marker": "|", "color": _SKIPPED_COLOR}),
        ("acted on", lambda d: d.act and not d.forced, {"marker": "o", "color": _ACTED_COLOR}),
        ("forced", lambda d: d.act and d.forced, {"marker": "X", "color": _FORCED_COLOR}),
    )
    for label, chosen, style in kinds:
        picked = [d for d in recorder.decisions if chosen(d)]
        if picked:
            axes.plot(
                _as_datetime([d.ts_ns for d in picked]),
                [row_index[_decision_row(d)] for d in picked],
                linestyle="none",
                markersize=6,
                label=label,
                **style,
            )
    if rows:
        axes.legend(loc="upper right", fontsize=8, ncols=3)
        _time_axis(axes)
    else:
        axes.text(
            0.5, 0.5, "no decisions recorded", ha="center", va="center", transform=axes.transAxes
        )
    axes.set_yticks(range(len(rows)), rows, fontsize=8)
    axes.set_ylim(-0.6, max(len(rows), 1) - 0.4)
    return figure


def _format(value: float, kind: str) -> str:
    if np.isnan(value):
        return "n/a"
    if np.isinf(value):
        return "∞" if value > 0 else "-∞"
    return {
        "usd": f"{value:,.2f}",
        "fraction": f"{value:.2%}",
        "count": f"{int(value):,d}",
        "multiple": f"{value:,.2f}×",
    }[kind]


def metric_rows(metrics: BacktestMetrics) -> tuple[list[str], list[list[str]]]:
    """Return the metrics table: its header and its rows of text (label, book, each underlying).

    A cell is empty where the metric does not apply (book-wide equity metrics per
    underlying, bands for the book, per-underlying costs when fills were not
    attributed).
    """
    names = list(metrics.underlyings)
    by_name = [metrics.underlyings[name] for name in names]
    rows: list[list[str]] = []

    def add(label: str, book: str, per_underlying: Iterable[str] | None = None) -> None:
        rows.append(
            [label, book, *(per_underlying if per_underlying is not None else [""] * len(names))]
        )

    add("hedging error per sampling interval (USD)", _format(metrics.hedging_error_usd, "usd"))
    add("hedging error annualised (USD)", _format(metrics.hedging_error_annualised_usd, "usd"))
    add("terminal hedged P&L (USD)", _format(metrics.terminal_pnl_usd, "usd"))
    add("average equity (USD)", _format(metrics.average_equity_usd, "usd"))
    add("maximum drawdown (USD)", _format(metrics.max_drawdown_usd, "usd"))
    add("maximum drawdown (% of peak)", _format(metrics.max_drawdown_fraction, "fraction"))
    add(
        "minimum distance to liquidation (spot move)",
        _format(metrics.min_liquidation_distance_fraction, "fraction"),
        [_format(item.min_liquidation_distance_fraction, "fraction") for item in by_name],
    )
    banded = dict.fromkeys(
        measure for item in by_name for measure in item.time_outside_band_fraction
    )
    for measure in banded:
        add(
            f"time outside band: {MEASURE_LABELS[measure]}",
            "",
            [
                _format(item.time_outside_band_fraction[measure], "fraction")
                if measure in item.time_outside_band_fraction
                else ""
                for item in by_name
            ],
        )
    cost_rows = (
        ("fees (USD)", "fees_usd", "usd"),
        ("slippage (USD)", "slippage_usd", "usd"),
        ("total cost (USD)", "total_cost_usd", "usd"),
        ("trades", "trade_count", "count"),
        ("turnover (USD)", "turnover_usd", "usd"),
        ("turnover (× average equity)", "turnover_multiple", "multiple"),
    )
    for label, attribute, kind in cost_rows:
        add(
            label,
            _format(getattr(metrics.costs, attribute), kind),
            [
                "" if item.costs is None else _format(getattr(item.costs, attribute), kind)
                for item in by_name
            ],
        )
    add(
        "decisions acted on",
        _format(metrics.decisions.acted, "count"),
        [_format(item.decisions.acted, "count") for item in by_name],
    )
    add(
        "decisions skipped",
        _format(metrics.decisions.skipped, "count"),
        [_format(item.decisions.skipped, "count") for item in by_name],
    )
    for trigger, counts in metrics.decisions.by_trigger.items():
        per_underlying = [item.decisions.by_trigger.get(trigger) for item in by_name]
        add(
            f"  {trigger or '(no trigger)'}: acted / skipped",
            f"{counts.acted:,d} / {counts.skipped:,d}",
            [
                "" if item is None else f"{item.acted:,d} / {item.skipped:,d}"
                for item in per_underlying
            ],
        )
    return ["metric", "book", *names], rows


def metrics_table_figure(metrics: BacktestMetrics) -> Figure:
    """Return the metrics table drawn as a figure, so that it too can be a picture."""
    header, rows = metric_rows(metrics)
    figure = _new_figure(3.6 + 1.2 * len(header), 0.6 + 0.22 * (len(rows) + 1))
    figure.suptitle(f"Metrics, {format_ns(metrics.start_ns)} to {format_ns(metrics.end_ns)}")
    axes = figure.subplots()
    axes.axis("off")
    table = axes.table(
        cellText=rows, colLabels=header, bbox=(0.0, 0.0, 1.0, 1.0), cellLoc="right", colLoc="right"
    )
    table.auto_set_font_size(False)
    table.set_fontsize(8)
    table.auto_set_column_width(list(range(len(header))))
    for (row, column), cell in table.get_celld().items():
        cell.set_edgecolor("0.85")
        if column == 0:
            cell.set_text_props(ha="left")
            cell.PAD = 0.02
        if row == 0:
            cell.set_text_props(weight="bold")
    return figure


def frontier_figure(
    points: Iterable[FrontierInput],
    *,
    risk_measure: str = "hedging_error_usd",
) -> Figure:
    """Return total cost against risk across policy settings: the cost-versus-risk frontier.

    One series per policy family, its points labelled; each family's
    Pareto-efficient points (no cheaper and less risky setting in the family) are
    joined by a line, and the points efficient across all families are ringed.

    Parameters
    ----------
    points : (label, family, parameter, BacktestMetrics) per policy setting
    risk_measure : the risk axis, one of ``FRONTIER_RISK_MEASURES``
    """
    if risk_measure not in FRONTIER_RISK_MEASURES:
        expected = ", ".join(FRONTIER_RISK_MEASURES)
        raise ValueError(f"unknown risk measure {risk_measure!r}; expected one of {expected}")
    frontier = [FrontierPoint(*point) for point in points]
    cost = np.array([point.metrics.costs.total_cost_usd for point in frontier], dtype=np.float64)
    risk = np.array([getattr(point.metrics, risk_measure) for point in frontier], dtype=np.float64)
    families = np.array([point.family for point in frontier], dtype=np.str_)
    figure = _new_figure(8.0, 5.5)
    figure.suptitle("Cost versus risk across policy settings")
    axes = figure.subplots()
    for index, family in enumerate(dict.fromkeys(point.family for point in frontier)):
        color = f"C{index % 10}"
        mine = np.flatnonzero(families == family)
        axes.plot(risk[mine], cost[mine], "o", color=color, label=family)
        efficient = mine[pareto_efficient(cost[mine], risk[mine])]
        efficient = efficient[np.argsort(risk[efficient])]
        axes.plot(risk[efficient], cost[efficient], "-", color=color, linewidth=1.2)
        for point_index in mine:
            axes.annotate(
                frontier[point_index].label,
                (risk[point_index], cost[point_index]),
                fontsize=7,
                xytext=(4, 4),
                textcoords="offset points",
            )
    overall = pareto_efficient(cost, risk)
    if overall.any():
        axes.plot(
            risk[overall],
            cost[overall],
            "o",
            markersize=13,
            markerfacecolor="none",
            markeredgecolor="black",
            label="efficient across families",
        )
    if not frontier:
        axes.text(0.5, 0.5, "no results", ha="center", va="center", transform=axes.transAxes)
    axes.set_xlabel(FRONTIER_RISK_MEASURES[risk_measure])
    axes.set_ylabel("total cost: fees + slippage (USD)")
    axes.grid(True, alpha=0.3)
    if frontier:
        axes.legend(fontsize=8)
    return figure


def _file_stem(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_-]+", "_", name)


def report_figures(
    recorder: Recorder,
    profile: RiskProfile,
    metrics: BacktestMetrics | None = None,
    *,
    frontier: Sequence[FrontierInput] = (),
) -> dict[str, Figure]:
    """Return every figure of the report by file-friendly name, in report order.

    Names: ``metrics``, ``greeks_<underlying>`` for each underlying, ``pnl``,
    ``costs``, ``decisions``, and ``frontier`` when ``frontier`` is not empty.
    ``metrics`` defaults to ``compute_metrics(recorder, profile)``.
    """
    metrics = compute_metrics(recorder, profile) if metrics is None else metrics
    figures = {"metrics": metrics_table_figure(metrics)}
    for underlying in _underlyings(recorder):
        figures[f"greeks_{_file_stem(underlying)}"] = greeks_figure(recorder, profile, underlying)
    figures["pnl"] = equity_figure(recorder)
    figures["costs"] = costs_figure(recorder)
    figures["decisions"] = decisions_figure(recorder)
    if frontier:
        figures["frontier"] = frontier_figure(frontier)
    return figures


def figure_png(figure: Figure, *, dpi: int = _PNG_DPI) -> bytes:
    """Return a figure rendered by Agg as PNG bytes, with no metadata beyond the image."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=dpi, metadata={"Software": None})
    return buffer.getvalue()


def write_report_pngs(
    directory: str | Path,
    recorder: Recorder,
    profile: RiskProfile,
    metrics: BacktestMetrics | None = None,
    *,
    frontier: Sequence[FrontierInput] = (),
    dpi: int = _PNG_DPI,
) -> list[Path]:
    """Write each figure of the report as ``<name>.png`` in ``directory`` (created if needed).

    Returns the paths written, in report order; names as in ``report_figures``.
    """
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, figure in report_figures(recorder, profile, metrics, frontier=frontier).items():
        path = directory / f"{name}.png"
        path.write_bytes(figure_png(figure, dpi=dpi))
        paths.append(path)
    return paths


_STYLE = """
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, Helvetica, Arial, sans-serif;
       margin: 2rem auto; max-width: 1180px; padding: 0 1rem; color: #1d1d1f; }
h1 { font-size: 1.6rem; margin-bottom: 0.2rem; }
h2 { font-size: 1.2rem; border-bottom: 1px solid #ddd; padding-bottom: 0.2rem; margin-top: 2rem; }
nav a { margin-right: 1rem; }
p.summary { color: #555; }
table { border-collapse: collapse; font-size: 0.85rem; margin: 0.5rem 0; }
th, td { border: 1px solid #ddd; padding: 0.25rem 0.6rem; text-align: right; vertical-align: top; }
th:first-child, td:first-child { text-align: left; }
td.text { text-align: left; }
thead th { background: #f3f3f3; }
img { max-width: 100%; height: auto; display: block; margin: 0.5rem 0; }
pre { background: #f6f6f6; padding: 0.8rem; overflow-x: auto; font-size: 0.8rem; }
"""


def _text(value: object) -> str:
    # Escape for HTML and break any "scheme://" so that no URL appears in the page, even quoted.
    return html.escape(str(value)).replace("://", ":&#47;&#47;")


def _image(figure: Figure, alternative: str) -> str:
    encoded = base64.b64encode(figure_png(figure, dpi=_FIGURE_DPI)).decode("ascii")
    return f'<img src="data:image/png;base64,{encoded}" alt="{_text(alternative)}">'


def _html_table(
    header: Sequence[str], rows: Iterable[Sequence[str]], text_columns: Sequence[int] = ()
) -> str:
    head = "".join(f"<th>{_text(cell)}</th>" for cell in header)
    body = "".join(
        "<tr>"
        + "".join(
            f'<td class="text">{_text(cell)}</td>'
            if index in text_columns
            else f"<td>{_text(cell)}</td>"
            for index, cell in enumerate(row)
        )
        + "</tr>"
        for row in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _page(title: str, summary: str, sections: Sequence[tuple[str, str, str]]) -> str:
    navigation = "".join(
        f'<a href="#{anchor}">{_text(heading)}</a>' for anchor, heading, _ in sections
    )
    body = "".join(
        f'<section id="{anchor}"><h2>{_text(heading)}</h2>{content}</section>'
        for anchor, heading, content in sections
    )
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{_text(title)}</title><style>{_STYLE}</style></head>"
        f'<body><h1>{_text(title)}</h1><p class="summary">{_text(summary)}</p>'
        f"<nav>{navigation}</nav>"
        f"{body}</body></html>\n"
    )


def _decisions_listing(decisions: Sequence[Decision]) -> str:
    acted = [d for d in decisions if d.act]
    rows = [
        [
            format_ns(d.ts_ns),
            d.underlying,
            d.trigger or "(no trigger)",
            "yes" if d.forced else "",
            "; ".join(d.reasons),
            ", ".join(
                f"{greek} in [{lower:g}, {upper:g}]" for greek, (lower, upper) in d.goal.items()
            ),
            f"{d.expected_cost_usd:,.2f}",
            f"{d.expected_benefit_usd:,.2f}",
        ]
        for d in acted[:_DECISIONS_LISTED]
    ]
    header = [
        "time (UTC)",
        "underlying",
        "trigger",
        "forced",
        "reasons",
        "goal",
        "expected cost (USD)",
        "expected benefit (USD)",
    ]
    more = len(acted) - len(rows)
    note = f"<p>{more:,d} more rebalances are in the run's records.</p>" if more > 0 else ""
    caption = f"<p>Rebalances (decisions acted on), the first {len(rows):,d}:</p>" if rows else ""
    return (
        caption + (_html_table(header, rows, text_columns=(1, 2, 3, 4, 5)) if rows else "") + note
    )


def _frontier_table(points: Sequence[FrontierPoint]) -> str:
    rows = [
        [
            point.label,
            point.family,
            f"{point.parameter:g}",
            _format(point.metrics.costs.total_cost_usd, "usd"),
            _format(point.metrics.hedging_error_usd, "usd"),
            _format(point.metrics.max_drawdown_usd, "usd"),
            _format(point.metrics.costs.trade_count, "count"),
        ]
        for point in points
    ]
    header = [
        "setting",
        "family",
        "parameter",
        "total cost (USD)",
        "hedging error (USD)",
        "maximum drawdown (USD)",
        "trades",
    ]
    return _html_table(header, rows, text_columns=(1,))


def _frontier_section(points: Sequence[FrontierPoint]) -> tuple[str, str, str]:
    content = _image(frontier_figure(points), "total cost against hedging error per policy setting")
    return "frontier", "Cost versus risk frontier", content + _frontier_table(points)


def write_report(
    path: str | Path,
    recorder: Recorder,
    profile: RiskProfile,
    metrics: BacktestMetrics | None = None,
    *,
    title: str = "Backtest report",
    config: Mapping[str, Any] | None = None,
    frontier: Sequence[FrontierInput] = (),
) -> Path:
    """Write a run's report as one self-contained HTML file and return its path.

    Sections, in order: metrics, Greeks against their bands (one figure per
    underlying), hedged P&L, cumulative costs, decisions (timeline and the
    rebalances with their reasons and goals), the cost-versus-risk frontier when
    ``frontier`` is given, and the configuration when ``config`` is given.

    Parameters
    ----------
    path : the HTML file to write (its folder must exist)
    recorder : the run's records, with at least one risk sample
    profile : the bands the run was held to
    metrics : the run's metrics; ``compute_metrics(recorder, profile)`` when None
    title : the page's title
    config : the run's configuration, shown as JSON
    frontier : (label, family, parameter, BacktestMetrics) per policy setting
    """
    metrics = compute_metrics(recorder, profile) if metrics is None else metrics
    header, rows = metric_rows(metrics)
    sections = [
        ("metrics", "Metrics", _html_table(header, rows)),
        (
            "greeks",
            "Greeks against their bands",
            "".join(
                _image(greeks_figure(recorder, profile, name), f"{name} Greeks against their bands")
                for name in _underlyings(recorder)
            ),
        ),
        ("pnl", "Hedged P&L", _image(equity_figure(recorder), "hedged P&L and drawdown over time")),
        (
            "costs",
            "Cumulative costs",
            _image(costs_figure(recorder), "cumulative fees, slippage and total cost"),
        ),
        (
            "decisions",
            "Decisions",
            _image(decisions_figure(recorder), "decisions on a timeline")
            + _decisions_listing(recorder.decisions),
        ),
    ]
    if frontier:
        sections.append(_frontier_section([FrontierPoint(*point) for point in frontier]))
    if config is not None:
        sections.append(
            ("configuration", "Configuration", f"<pre>{_text(json.dumps(config, indent=2))}</pre>")
        )
    summary = (
        f"{format_ns(metrics.start_ns)} to {format_ns(metrics.end_ns)}; "
        f"{len(recorder.samples):,d} risk samples, {len(recorder.decisions):,d} decisions, "
        f"{len(recorder.fills):,d} fills."
    )
    path = Path(path)
    path.write_text(_page(title, summary, sections), encoding="utf-8")
    return path


def write_frontier_report(
    path: str | Path,
    points: Sequence[FrontierInput],
    *,
    title: str = "Policy sweep: cost versus risk",
) -> Path:
    """Write a sweep's frontier, figure and table of settings, as one self-contained HTML file.

    Returns the path written.
    """
    frontier = [FrontierPoint(*point) for point in points]
    families = {point.family for point in frontier}
    summary = f"{len(frontier):,d} policy settings in {len(families):,d} families."
    path = Path(path)
    path.write_text(_page(title, summary, [_frontier_section(frontier)]), encoding="utf-8")
    return path

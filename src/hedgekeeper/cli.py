"""The command line: ``risk`` prints a book's risk, ``backtest`` runs the engine over a market.

Errors in the input (a missing or malformed file, a bad field, an unknown
instrument, bad market data) end the command with status 1 and one line on
stderr naming what is wrong, never a traceback.
"""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from hedgekeeper.chain.cli import chain_app
from hedgekeeper.errors import ConfigError, HedgekeeperError
from hedgekeeper.ml.cli import register as register_ml
from hedgekeeper.policy.risk_profile import RiskProfile, load_risk_profile
from hedgekeeper.portfolio.config import load_book
from hedgekeeper.portfolio.liquidation import LiquidationDistance, LiquidationStatus
from hedgekeeper.portfolio.market import format_ns
from hedgekeeper.portfolio.risk import PortfolioRisk, UnderlyingRisk

app = typer.Typer(
    help="hedgekeeper keeps a crypto-derivatives book's risk (delta, gamma, vega, weights) inside its bands.",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode="markdown",
)
app.add_typer(chain_app, name="chain")
register_ml(app)

_MEASURES = {
    "delta_coin": "delta coin",
    "delta_usd": "delta USD",
    "gamma_usd_per_pct": "gamma USD/1%",
    "vega_usd_per_vol_pt": "vega USD/vol pt",
    "weight": "weight",
}


@app.callback()
def main() -> None:
    """Keep a crypto-derivatives book's risk inside its bands; see each command's --help."""


def _amount(value: float, decimals: int = 0) -> str:
    return f"{value:,.{decimals}f}"


def _measure(field: str, value: float) -> str:
    return f"{value:.2%}" if field == "weight" else _amount(value, 3 if field == "delta_coin" else 0)


def _greeks_table(report: PortfolioRisk, profile: RiskProfile | None) -> Table:
    table = Table(title="Greeks by underlying (green inside its band, red outside)")
    table.add_column("measure")
    for risk in report.underlyings:
        table.add_column(risk.underlying, justify="right")

    def cell(risk: UnderlyingRisk, field: str) -> str:
        value = getattr(risk, field)
        band = None if profile is None else getattr(profile.bands(risk.underlying), field)
        text = _measure(field, value)
        return text if band is None else f"[{'green' if band.contains(value) else 'red'}]{text}[/]"

    rows = (
        ("spot USD", lambda r: _amount(r.spot_usd, 2)),
        (_MEASURES["delta_coin"], lambda r: cell(r, "delta_coin")),
        ("  of which collateral coin", lambda r: _amount(r.collateral_delta_coin, 3)),
        (_MEASURES["delta_usd"], lambda r: cell(r, "delta_usd")),
        (_MEASURES["gamma_usd_per_pct"], lambda r: cell(r, "gamma_usd_per_pct")),
        (_MEASURES["vega_usd_per_vol_pt"], lambda r: cell(r, "vega_usd_per_vol_pt")),
        ("theta USD/day", lambda r: _amount(r.theta_usd_per_day)),
        (_MEASURES["weight"], lambda r: cell(r, "weight")),
        ("gross notional USD", lambda r: _amount(r.gross_notional_usd)),
        ("leverage", lambda r: f"{r.leverage:.2f}x"),
    )
    for label, show in rows:
        table.add_row(label, *(show(risk) for risk in report.underlyings))
    return table


def _bands_table(report: PortfolioRisk, profile: RiskProfile) -> Table:
    table = Table(title="Risk against the target profile")
    for header in ("coin", "measure", "value", "target", "lower", "upper", "inside"):
        left = header in ("coin", "measure")
        table.add_column(header, justify="left" if left else "right", no_wrap=header == "measure")
    held = {risk.underlying: risk for risk in report.underlyings}
    for underlying in profile.underlyings:
        bands = profile.bands(underlying)
        for field, label in _MEASURES.items():
            band = getattr(bands, field)
            if band is None:
                continue
            limits = [_measure(field, x) for x in (band.target, band.lower, band.upper)]
            if underlying not in held:
                table.add_row(underlying, label, "not held", *limits, "")
                continue
            value = getattr(held[underlying], field)
            excess = _measure(field, band.excess(value))
            inside = "[green]yes[/]" if band.contains(value) else f"[red]no, by {excess}[/]"
            table.add_row(underlying, label, _measure(field, value), *limits, inside)
    return table


def _accounts_table(report: PortfolioRisk) -> Table:
    table = Table(
        title="Margin accounts (standard margin)",
        caption="IM initial margin, MM maintenance margin: an account is liquidated when equity meets MM",
    )
    for header in ("account", "equity in its currency", "equity USD", "IM USD", "MM USD", "MM/equity"):
        table.add_column(header, justify="left" if header == "account" else "right", no_wrap=header == "account")
    for account in report.accounts:
        decimals = 2 if account.account.is_usd else 4
        table.add_row(
            str(account.account), _amount(account.equity, decimals),
            _amount(account.equity_usd), _amount(account.initial_margin_usd),
            _amount(account.maintenance_margin_usd), f"{account.maintenance_ratio:.1%}",
        )
    table.add_row(
        "[bold]total[/]", "", _amount(report.equity_usd), _amount(report.initial_margin_usd),
        _amount(report.maintenance_margin_usd), f"{report.maintenance_ratio:.1%}",
    )
    return table


def _liquidation_table(distances: list[LiquidationDistance]) -> Table:
    table = Table(title="Distance to liquidation (full revaluation: forwards move with spot, vols by strike)")
    for header in ("move of", "side", "distance", "spot USD there (move)", "first account"):
        table.add_column(header, justify="right" if header in ("distance", "spot USD there (move)") else "left")
    for distance in distances:
        for name, side in (("down", distance.down), ("up", distance.up)):
            if side.status is LiquidationStatus.NOT_WITHIN_RANGE:
                cells = (f"none within {distance.max_move:.0%}", "", "")
            elif side.status is LiquidationStatus.ALREADY_BELOW:
                cells = ("[red]0%, below maintenance now[/]", "", str(side.account))
            else:
                spots = ", ".join(
                    f"{underlying} {_amount(distance.liquidation_spot_usd(side, underlying) or 0.0)}"
                    f" ({_amount(distance.move_usd(side, underlying) or 0.0)})"
                    for underlying in distance.scope
                )
                cells = (f"{side.move_fraction:+.2%}", spots, str(side.account))
            table.add_row(" + ".join(distance.scope), name, *cells)
    return table


@app.command()
def risk(
    config: Path = typer.Argument(
        ..., help="The book file (TOML): instruments, positions, balances, market, profile."
    ),
    max_move: float = typer.Option(
        0.5, min=0.01, max=0.95, help="Largest spot move searched for liquidation, fraction of spot."
    ),
    grid_points: int = typer.Option(
        100, min=1, help="Grid moves per side before refining the liquidation point."
    ),
) -> None:
    """Print the book's Greeks per underlying against its bands, its margin, and its distance to liquidation.

    Greeks: delta in coin and USD (coin equity included, Deribit style), gamma as the
    USD change of delta per 1% move, vega in USD per vol point, theta in USD per day;
    weight is net USD delta over total equity, leverage gross notional over equity.
    Margin is each venue's standard margin per account; the distance to liquidation
    is the smallest spot move, down and up, at which an account's equity falls to
    its maintenance margin, for each underlying alone and all together.
    """
    try:
        book = load_book(config)
        try:
            profile = None if book.profile is None else load_risk_profile(book.profile, prefix="profile")
        except ConfigError as error:
            raise ConfigError(f"{config}: {error}") from None
        portfolio = book.portfolio()
        report = portfolio.risk()
        scopes = [[name] for name in portfolio.underlyings] + ([None] if len(portfolio.underlyings) > 1 else [])
        distances = [
            portfolio.distance_to_liquidation(scope, max_move=max_move, grid_points=grid_points)
            for scope in scopes
        ]
    except (HedgekeeperError, OSError) as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(1) from None

    console = Console()
    console.print(
        f"[bold]{config}[/] as of {format_ns(report.as_of_ns)}: equity {_amount(report.equity_usd)} USD, "
        f"initial margin {_amount(report.initial_margin_usd)}, "
        f"maintenance {_amount(report.maintenance_margin_usd)}, "
        f"gross notional {_amount(report.gross_notional_usd)}, leverage {report.leverage:.2f}x"
    )
    console.print(_greeks_table(report, profile))
    if profile is not None:
        console.print(_bands_table(report, profile))
    console.print(_accounts_table(report))
    console.print(_liquidation_table(distances))


@app.command()
def backtest(
    config: Path = typer.Argument(
        ..., help="The backtest file (TOML): the book, [simulation] or [replay], [policy], [hedging], [fees]."
    ),
    quiet: bool = typer.Option(False, "--quiet", help="Hide the progress bars."),
) -> None:
    """Run the engine over simulated or recorded events, once per policy variant, and report.

    The same engine as a live run, on a simulated clock and a simulated exchange
    (book walks, taker fees). Results go to OUTPUT_DIR/NAME/results.sqlite (every
    run's risk samples, decisions with reasons, fills and metrics) and
    OUTPUT_DIR/NAME/report.html (Greeks against bands, costs, hedged P&L,
    decisions, and the cost-versus-risk frontier of the [[sweep]] variants).
    """
    from hedgekeeper.backtest.config import load_backtest
    from hedgekeeper.backtest.runner import run_backtest

    try:
        result = run_backtest(load_backtest(config), show_progress=not quiet)
    except (HedgekeeperError, OSError) as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(1) from None

    table = Table(title="Runs: hedging error is the std of hedged P&L per sample; USD")
    for column in ("run", "hedging error", "fees", "slippage", "trades", "max drawdown", "min to liquidation"):
        table.add_column(column, justify="left" if column == "run" else "right", no_wrap=column == "run")
    for run in result.runs:
        m = run.metrics
        table.add_row(
            run.label, _amount(m.hedging_error_usd), _amount(m.costs.fees_usd), _amount(m.costs.slippage_usd),
            str(m.costs.trade_count), _amount(m.max_drawdown_usd), f"{m.min_liquidation_distance_fraction:.1%}",
        )
    console = Console()
    console.print(table)
    console.print(f"results: {result.results_path}\nreport:  {result.report_path}")


@app.command()
def run(
    config: Path = typer.Argument(
        Path("examples/service.toml"), help="The service file (TOML): the book, the market, [policy], [hedging], "
        "[service], [api], [exchange]."
    ),
    duration: float | None = typer.Option(None, "--duration", min=0.0, help="Stop after this many wall seconds."),
    database_url: str | None = typer.Option(None, "--database-url", help="The store, instead of service.database_url."),
    port: int | None = typer.Option(None, "--port", min=0, max=65535, help="The API's port, instead of api.port."),
) -> None:
    """Run the live service: the engine on the wall clock, the exchanges, the store, the API and dashboard.

    Recovers first (orders, fills and positions reconciled with every venue), then
    decides until SIGINT/SIGTERM, the end of the market or --duration; then stops
    deciding, cancels or keeps the open orders as configured, and saves its state.
    """
    from hedgekeeper.service.main import configure_logging
    from hedgekeeper.service.main import run as run_service

    configure_logging()
    try:
        service = run_service(config, duration_s=duration, database_url=database_url, port=port)
    except (HedgekeeperError, OSError) as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(1) from None
    if service.error is not None:
        raise typer.Exit(1)

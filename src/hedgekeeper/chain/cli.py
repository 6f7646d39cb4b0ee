"""``hedgekeeper chain ...``: deploy a whole local system from a TOML file; keep it with prices flowing.

The chain modules (web3, vyper) load only when a chain command runs, so the rest
of the command line starts as fast as before.
"""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from hedgekeeper.errors import HedgekeeperError

chain_app = typer.Typer(
    help="On-chain risk keeping: deploy the oracle, pool, vaults and batcher.",
    no_args_is_help=True,
    add_completion=False,
)


@chain_app.command()
def deploy(
    config: Path = typer.Argument(
        Path("examples/chain.toml"),
        help="The system file (TOML): [backend], [oracle], [pool], [vault] with its [[vault.options]], "
        "vault_count, keepers.",
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the addresses as JSON instead of a table."),
) -> None:
    """Deploy and wire a whole system: tokens, oracle, seeded pool, N vaults with books and bands, batcher, keepers.

    With the in-process backend (the default) the chain lives only as long as this
    command: a dry run that checks the file and the contracts. Point [backend] at a
    node (kind = "rpc", url = "http://127.0.0.1:8545") to keep the system.
    """
    from hedgekeeper.chain.deploy import deploy_system, load_system_config
    from hedgekeeper.chain.reader import read_check

    try:
        system_config = load_system_config(config)
        system = deploy_system(system_config)
        checks = [read_check(vault) for vault in system.vaults]
    except HedgekeeperError as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(1) from None
    addresses = system.addresses()
    if as_json:
        addresses["chain_id"] = system.chain.w3.eth.chain_id
        typer.echo(json.dumps(addresses, indent=2))
        return
    console = Console()
    table = Table(title=f"Deployed on {system_config.backend.kind} (chain id {system.chain.w3.eth.chain_id})")
    table.add_column("contract")
    table.add_column("address", no_wrap=True, min_width=42)
    table.add_column("delta deviation (coin)", justify="right")
    table.add_column("in band", justify="center")
    for role in ("stable", "risk_asset", "oracle", "pool", "batcher"):
        table.add_row(role, addresses[role], "", "")
    for index, (vault, check) in enumerate(zip(system.vaults, checks, strict=True)):
        in_band = "no" if check.needs_rebalance else "yes"
        table.add_row(f"vault {index}", vault.address, f"{check.delta_deviation_coin:+.6f}", in_band)
    console.print(table)
    console.print(f"deployer (owner, oracle updater): {system.deployer}")
    console.print(f"keepers: {', '.join(system.keepers) or 'none'}")


@chain_app.command()
def keep(
    config: Path = typer.Argument(
        Path("examples/chain.toml"),
        help="The system file (TOML), as for `deploy`, with an optional [keeper] table (KeeperConfig's fields).",
    ),
    blocks: int = typer.Option(48, "--blocks", min=1, help="Prices to post (the keeper steps after each)."),
    source: str = typer.Option("gbm", "--source", help="gbm (simulated) or chainlink (the recorded rounds)."),
    interval_s: int = typer.Option(900, "--interval-s", min=1, help="Seconds between simulated prices."),
    vol: float | None = typer.Option(None, "--vol", help="Simulated annual vol, decimal (default: the vault's)."),
    seed: int = typer.Option(7, "--seed", help="Seed of the simulated path."),
    pair: str = typer.Option("ETH/USD", "--pair", help="Recorded feed for --source chainlink."),
    arbitrage: bool = typer.Option(
        True, "--arbitrage/--no-arbitrage",
        help="After each posted price, trade the pool to it (as arbitrageurs would) from the deployer.",
    ),
    move_time: bool | None = typer.Option(
        None, "--move-time/--no-move-time",
        help="Set the chain's clock to each price's time (default: on the in-process EVM only; anvil allows it).",
    ),
) -> None:
    """Deploy a local system, then post prices to its oracle and let the keeper guard its vaults.

    Each price is posted at its own time (the chain's clock follows it) when the
    oracle's deviation-plus-heartbeat rule says it is due; the keeper steps after
    each and acts where the risk removed is worth the gas and fees, or a hard limit
    is crossed. Recorded rounds are replayed as returns from the configured price.
    Prints the keeper's decisions and transactions, summed.
    """
    import numpy as np

    from hedgekeeper.chain.arbitrage import align_pool
    from hedgekeeper.chain.deploy import SystemConfig, deploy_system
    from hedgekeeper.chain.keeper import Keeper
    from hedgekeeper.chain.keeper_config import KeeperConfig
    from hedgekeeper.chain.oracle_updater import (
        OracleSubmission,
        OracleUpdater,
        PricePoint,
        recorded_chainlink_prices,
        shifted,
        simulated_gbm_prices,
    )
    from hedgekeeper.chain.reader import read_check
    from hedgekeeper.config import load_toml, validate
    from hedgekeeper.market.simulators.gbm import GbmParameters

    try:
        data = load_toml(config)
        keeper_config = validate(KeeperConfig, data.pop("keeper", {}), prefix="keeper", source=str(config))
        system_config = validate(SystemConfig, data, source=str(config))
        system = deploy_system(system_config)
        chain = system.chain
        start_s = chain.timestamp() + 1
        spot = system_config.oracle.price_usd
        if source == "gbm":
            parameters = GbmParameters(drift=0.0, vol=system_config.vault.implied_vol if vol is None else vol)
            points = simulated_gbm_prices(spot, parameters, interval_s, blocks, np.random.default_rng(seed), start_s)
            points = points[1:]  # the first is the deployment's own price
        elif source == "chainlink":
            recorded = recorded_chainlink_prices(pair, count=blocks + 1)
            scale = spot / recorded[0].price_usd
            points = shifted([PricePoint(p.ts_s, p.price_usd * scale) for p in recorded], start_s)[1:]
        else:
            raise typer.BadParameter(f"--source must be gbm or chainlink, not {source!r}")
        keeper = Keeper.for_system(system, keeper_config)
        updater = OracleUpdater(chain, system.oracle, system.deployer, move_time=move_time)
        keeper.step()

        def after_each(submission: OracleSubmission) -> None:
            if arbitrage and submission.posted:
                align_pool(system, submission.price_usd)
            keeper.step()

        updater.replay(points, after_each=after_each)
        for tx_hash in keeper.awaiting_receipt.values():  # a node may mine after answering: see the last through
            chain.w3.eth.wait_for_transaction_receipt(tx_hash, timeout=60)  # type: ignore[arg-type]
        keeper.step()
    except (HedgekeeperError, FileNotFoundError) as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(1) from None

    records = keeper.records
    console = Console()
    posted = sum(s.posted for s in updater.submissions)
    console.print(
        f"{len(points)} prices from {source}: {posted} posted to the oracle, "
        f"{len(points) - posted} held back by the rule"
    )
    table = Table(title="Keeper decisions (vaults out of band)")
    table.add_column("verdict")
    table.add_column("count", justify="right")
    table.add_column("cost (USD)", justify="right")
    table.add_column("benefit (USD)", justify="right")
    verdicts: dict[str, list] = {}
    for decision in records.decisions:
        verdict = decision.reason.split(":")[0]
        verdicts.setdefault(("act: " if decision.act else "skip: ") + verdict, []).append(decision)
    for verdict, rows in sorted(verdicts.items()):
        cost, benefit = sum(r.cost_usd for r in rows), sum(r.benefit_usd for r in rows)
        table.add_row(verdict, str(len(rows)), f"{cost:.2f}", f"{benefit:.2f}")
    console.print(table)
    events = Table(title="Keeper transactions")
    events.add_column("event")
    events.add_column("count", justify="right")
    events.add_column("vaults", justify="right")
    events.add_column("gas paid (USD)", justify="right")
    for event in ("sent", "replaced", "send_failed", "included", "reverted", "confirmed"):
        rows = records.events(event)
        if rows:
            paid = sum(r.cost_usd for r in rows) if event in ("confirmed", "reverted") else 0.0
            events.add_row(event, str(len(rows)), str(sum(len(r.rebalanced or r.vaults) for r in rows)), f"{paid:.4f}")
    console.print(events if records.transactions else "no keeper transaction")
    for index, vault in enumerate(system.vaults):
        check = read_check(vault)
        state = "out of band" if check.needs_rebalance else "in band"
        console.print(f"vault {index}: delta deviation {check.delta_deviation_coin:+.4f} coin, {state}")


"""``hedgekeeper chain ...``: deploy a whole local system from a TOML file.

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

"""Benchmark: keeper reaction (blocks from an oracle update to the rebalance) and throughput (vaults checked per second).

The system is ``bench_vault_gas.py``'s (ETH at 3,000 USD, a 100,000 WETH pool,
vaults short 10 calls at 3,200 and 5 puts at 2,800, inner band 0.5 coin), with
``--vaults`` vaults. The keeper prices risk dearly (``risk_aversion_per_usd``
0.01), so every vault out of band is worth rebalancing.

Reaction. The oracle alternates between 3,150 and 3,000 USD (each move pushes
every vault about 1.1 coin out of band); the keeper must rebalance all of them.
The figure is ``included block - oracle block`` of the keeper's transaction.

- anvil: the node mines a block every ``--block-time`` seconds (interval mining,
  as a real chain, once deployed); the keeper runs its ``run()`` loop in a thread, polling
  ``eth_blockNumber`` every 20 ms, while the main thread posts the oracle updates.
  Target: the next block (1).
- in_process: eth-tester mines on each transaction; the keeper is stepped right
  after the update (``step()``), so 1 block is the floor; the wall time of the
  step is the figure that varies.

Throughput. Every vault's ``check()`` at one block, all in band: through
``batcher.check_many`` (64 a call, as the keeper does) beside the peer, one
``check()`` call per vault; and a whole keeper ``step()`` (oracle round, fees,
checks, decisions).

Measured (2026-12-05, 2 shared cores, anvil 1.7.1):

    python bench/bench_keeper.py --backend anvil --vaults 64 --trials 6
      reaction: [1, 1, 1, 1, 1, 1] blocks (target 1: met); update receipt -> rebalance
                receipt median 1,203 ms, max 1,539 ms with 1 s blocks, 64 vaults a batch
      throughput, vaults checked per second:
          check_many, 64 a call (the keeper)      1,656
          one check() call per vault (peer)         115   -> 14.4x
          whole keeper step()                       846
    python bench/bench_keeper.py --backend in_process --vaults 8 --trials 3 --repeats 3
      reaction: [1, 1, 1] blocks; keeper step median 2.7 s (py-evm's eth_estimateGas
                binary search dominates: one for the batch)
      throughput: check_many 65, one call each 45 (peer), whole step 58 vaults/s
"""

from __future__ import annotations

import argparse
import statistics
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_vault_gas import system_config

from hedgekeeper.chain.anvil import AnvilNode
from hedgekeeper.chain.backends import Chain, connect
from hedgekeeper.chain.deploy import DeployedSystem, attach_system, deploy_system
from hedgekeeper.chain.keeper import Keeper
from hedgekeeper.chain.keeper_config import KeeperConfig
from hedgekeeper.chain.reader import read_check, read_checks
from hedgekeeper.chain.units import to_fixed

PRICES = (3150.0, 3000.0)
KEEPER = KeeperConfig(risk_aversion_per_usd=0.01, poll_interval_s=0.02, fee_history_blocks=0)


def _post(system: DeployedSystem, price_usd: float) -> int:
    receipt = system.chain.transact(system.oracle.functions.submit(to_fixed(price_usd, 8)), system.deployer)
    return int(receipt["blockNumber"])


def reaction_stepped(system: DeployedSystem, trials: int) -> list[tuple[int, float]]:
    """Return (blocks, step seconds) per trial, the keeper stepped right after each update."""
    keeper = Keeper.for_system(system, KEEPER)
    keeper.step()
    rows = []
    for trial in range(trials):
        oracle_block = _post(system, PRICES[trial % 2])
        started = time.perf_counter()
        keeper.step()
        elapsed = time.perf_counter() - started
        confirmed = keeper.records.events("confirmed")[-1]
        assert not any(read_check(vault).needs_rebalance for vault in system.vaults)
        rows.append((int(confirmed.included_block) - oracle_block, elapsed))  # type: ignore[arg-type]
    return rows


def reaction_running(system: DeployedSystem, node: AnvilNode, trials: int) -> list[tuple[int, float]]:
    """Return (blocks, seconds from the update's receipt to the rebalance's) per trial, the keeper in a thread."""
    keeper_chain = connect(node.backend())
    keeper = Keeper.for_system(attach_system(keeper_chain, system.addresses()), KEEPER)
    thread = threading.Thread(target=keeper.run, daemon=True)
    thread.start()
    while keeper.last_block_ is None:  # the first step reads the vaults' parameters
        time.sleep(0.01)
    rows = []
    try:
        for trial in range(trials):
            seen = len(keeper.records.events("confirmed"))
            oracle_block = _post(system, PRICES[trial % 2])
            started = time.perf_counter()
            deadline = started + 30.0
            while len(keeper.records.events("confirmed")) == seen and time.perf_counter() < deadline:
                time.sleep(0.005)
            confirmed = keeper.records.events("confirmed")[seen:]
            assert confirmed, f"trial {trial}: no rebalance within 30 s"
            elapsed = time.perf_counter() - started
            rows.append((int(confirmed[0].included_block) - oracle_block, elapsed))  # type: ignore[arg-type]
            assert not any(read_check(vault).needs_rebalance for vault in system.vaults)
    finally:
        keeper.stop()
        thread.join(timeout=10.0)
    return rows


def throughput(system: DeployedSystem, repeats: int) -> tuple[float, float, float]:
    """Return vaults checked per second: check_many, one check() each, and whole keeper steps."""
    addresses = [vault.address for vault in system.vaults]
    block = system.chain.w3.eth.block_number

    def many() -> None:
        for start in range(0, len(addresses), 64):
            read_checks(system.batcher, addresses[start : start + 64], block)

    def each() -> None:
        for vault in system.vaults:
            read_check(vault, block)

    keeper = Keeper.for_system(system, KEEPER)

    def step() -> None:
        keeper.step(force=True)

    rates = []
    for work in (many, each, step):
        work()  # warm
        started = time.perf_counter()
        for _ in range(repeats):
            work()
        rates.append(repeats * len(addresses) / (time.perf_counter() - started))
    assert keeper.records.decisions == [], "the vaults should all be in band"
    return rates[0], rates[1], rates[2]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=["in_process", "anvil"], default="anvil")
    parser.add_argument("--vaults", type=int, default=32, help="vaults kept, at most 64")
    parser.add_argument("--trials", type=int, default=6, help="oracle updates to react to")
    parser.add_argument("--repeats", type=int, default=5, help="passes over every vault for throughput")
    parser.add_argument("--block-time", type=int, default=1, help="anvil's interval mining, seconds")
    options = parser.parse_args()
    node = AnvilNode().start() if options.backend == "anvil" else None
    try:
        chain: Chain = connect(node.backend() if node is not None else None)
        started = time.perf_counter()
        system = deploy_system(system_config(options.vaults), chain)
        print(f"deployed {options.vaults} vaults on {options.backend} in {time.perf_counter() - started:.1f} s")
        many, each, step = throughput(system, options.repeats)
        if node is not None:  # deployed block by block; now a block every block_time, as a real chain
            chain.w3.provider.make_request("evm_setAutomine", [False])  # type: ignore[arg-type]
            chain.w3.provider.make_request("evm_setIntervalMining", [options.block_time])  # type: ignore[arg-type]
            rows = reaction_running(system, node, options.trials)
            mode = f"keeper run() in a thread, {options.block_time:g} s blocks"
            seconds = "update receipt -> rebalance receipt"
        else:
            rows = reaction_stepped(system, options.trials)
            mode = "keeper step() after each update, a block per transaction"
            seconds = "keeper step"
    finally:
        if node is not None:
            node.stop()
    blocks = [b for b, _ in rows]
    times = [t for _, t in rows]
    print(f"\nKeeper reaction ({options.backend}, {mode}, {options.vaults} vaults rebalanced per update)")
    print(f"  blocks from oracle update to rebalance: {blocks}  (median {statistics.median(blocks):g}; target 1)")
    print(f"  {seconds}: median {statistics.median(times) * 1e3:.0f} ms, max {max(times) * 1e3:.0f} ms")
    verdict = "met" if max(blocks) <= 1 else "NOT met"
    print(f"  target (the next block): {verdict}")
    print(f"\nKeeper throughput ({options.backend}, {options.vaults} vaults in band, {options.repeats} passes)")
    print(f"{'how':<44}{'vaults/s':>12}")
    print(f"{'check_many, 64 vaults a call (the keeper)':<44}{many:>12,.0f}")
    print(f"{'one check() call per vault (peer)':<44}{each:>12,.0f}")
    print(f"{'whole keeper step()':<44}{step:>12,.0f}")
    print(f"check_many / one call each: {many / each:.1f}x")


if __name__ == "__main__":
    main()

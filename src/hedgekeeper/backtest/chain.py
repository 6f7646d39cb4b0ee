"""On-chain rebalancing in a backtest: hedges of a spot instrument are swaps on a pool deployed on an EVM.

With a ``[chain]`` table, the backtest deploys, at its start, a small market on a
chain (by default the in-process EVM, nothing to start): a stablecoin and the
underlying's wrapped token (``erc20.vy``), a Chainlink-style oracle (``oracle.vy``)
and a constant-product pool (``pool.vy``) seeded with ``pool_reserve_coin`` at the
book's spot. The book's balances at the chain instrument's venue are minted to the
trading account.

Hedges of ``instrument_id`` (a spot instrument in the book whose venue names the
chain venue) then go, through the ``OrderManager``, to a ``ChainPoolVenue`` routed
by the smart order router (``PoolRoute``: the pool's exact quote on its
reserves read on chain, plus the gas); every other hedge goes where it went without
the table. So a backtest's recorded fills of the chain instrument are real swap
transactions: their amounts are the pool's integers, their fee the gas they used
times its price, in USD at the oracle's answer.

The chain follows the backtest: a block is mined whenever the backtest clock has
moved ``block_time_s`` past the last one, at the matching time (the chain's clock
starts where it stood at deployment; block times advance by the backtest's
elapsed seconds; each transaction's block comes at least a second after the last,
so the chain may run a few seconds ahead, never behind by more than ``block_time_s``). Before each swap, the oracle is posted the market's mid when the
oracle's deviation-plus-heartbeat rule says it is due, and, with ``arbitrage``, an
arbitrageur's swap brings the pool's price back to the market's mid (the pool
would otherwise drift away from the simulated market it stands for).

Example: ``examples/backtest_onchain.toml``.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated

import pydantic

from hedgekeeper.config import StrictModel
from hedgekeeper.errors import ConfigError
from hedgekeeper.execution.simulated_taker import TakerFill
from hedgekeeper.market.events import MarketEvent
from hedgekeeper.market.order_book import OrderBook
from hedgekeeper.portfolio.instruments import Instrument, InstrumentKind

if TYPE_CHECKING:
    from web3.contract import Contract

    from hedgekeeper.backtest.config import Backtest
    from hedgekeeper.chain.backends import Chain
    from hedgekeeper.chain.venue import ChainPoolVenue
    from hedgekeeper.engine.clock import SimulatedClock
    from hedgekeeper.engine.hedging import BookExecutor
    from hedgekeeper.execution.routed_executor import RoutedExecutor

logger = logging.getLogger(__name__)

NS_PER_SECOND = 1_000_000_000
DEPLOYER, TRADER, ARBITRAGEUR = 0, 1, 2  # indexes into the chain's accounts
MAX_UINT256 = 2**256 - 1


class ChainConfig(StrictModel):
    """The ``[chain]`` table: the on-chain market a spot instrument's hedges trade on.

    Attributes
    ----------
    instrument_id : str, a spot instrument of the book; its venue is the chain venue's name
    rpc_url : str or None, a JSON-RPC node (``http://...``) instead of the in-process EVM
    pool_fee_bps : int, the pool's fee, bps of the input, in [0, 10000)
    pool_reserve_coin : float, the coin seeded in the pool (with as much USD at the book's spot), coin
    coin_decimals, usd_decimals : int, the tokens' ERC-20 decimals
    oracle_decimals : int, the oracle answer's decimals (8, as Chainlink's USD feeds)
    oracle_deviation_bps : int, a move of at least this much makes an oracle update due, bps
    oracle_heartbeat_s : int, an oracle update is due once the answer is this old, seconds
    block_time_s : float, the backtest time between two mined blocks, at least, seconds
    tolerance_bps : float, how far beyond the quoted average a swap may fill before it reverts, bps
    max_swap_coin : float, the largest swap the router sends at once, coin
    arbitrage : bool, bring the pool's price to the market's mid before each swap
    arbitrage_threshold_bps : float, the least gap between pool and market the arbitrageur closes, bps
    """

    instrument_id: str = pydantic.Field(min_length=1)
    rpc_url: Annotated[str, pydantic.Field(pattern=r"^https?://")] | None = None
    pool_fee_bps: int = pydantic.Field(30, ge=0, lt=10_000)
    pool_reserve_coin: float = pydantic.Field(1000.0, gt=0.0)
    coin_decimals: int = pydantic.Field(18, ge=0, le=36)
    usd_decimals: int = pydantic.Field(6, ge=0, le=36)
    oracle_decimals: int = pydantic.Field(8, ge=0, le=18)
    oracle_deviation_bps: int = pydantic.Field(50, ge=0)
    oracle_heartbeat_s: int = pydantic.Field(3600, gt=0)
    block_time_s: float = pydantic.Field(12.0, gt=0.0)
    tolerance_bps: float = pydantic.Field(30.0, ge=0.0)
    max_swap_coin: float = pydantic.Field(100.0, gt=0.0)
    arbitrage: bool = True
    arbitrage_threshold_bps: float = pydantic.Field(1.0, ge=0.0)


def check_chain_config(backtest: Backtest) -> None:
    """Refuse a ``[chain]`` table whose instrument is not a hedged spot instrument of the book.

    Raises
    ------
    ConfigError
        Naming ``chain.instrument_id`` and what is wrong with it.
    """
    config = backtest.file.chain
    if config is None:
        return
    where = f"{backtest.source}: chain.instrument_id"
    if config.instrument_id not in backtest.book.registry:
        raise ConfigError(f"{where}: unknown instrument {config.instrument_id!r}")
    instrument = backtest.book.registry.get(config.instrument_id)
    if instrument.kind is not InstrumentKind.SPOT:
        raise ConfigError(f"{where}: {config.instrument_id} is a {instrument.kind.value}, a pool trades spot")
    hedged = [entry for u in backtest.file.hedging.underlyings.values() for entry in u.instruments
              if entry.instrument_id == config.instrument_id]
    if not hedged:
        raise ConfigError(f"{where}: {config.instrument_id} is not among [hedging]'s instruments")


class ChainMarket:
    """The deployed market and what keeps it in step with the backtest: time, oracle, arbitrage.

    Parameters
    ----------
    chain : Chain, connected
    stable, coin, oracle, pool : Contract, the deployed contracts
    venue : ChainPoolVenue, the trading account's venue on ``pool``
    config : ChainConfig
    clock : SimulatedClock, the backtest's
    mid_usd : callable returning the market's mid now (USD per coin), None when it has none
    """

    def __init__(self, chain: Chain, stable: Contract, coin: Contract, oracle: Contract, pool: Contract,
                 venue: ChainPoolVenue, config: ChainConfig, clock: SimulatedClock,
                 mid_usd: Callable[[], float | None]) -> None:
        self.chain = chain
        self.stable, self.coin, self.oracle, self.pool = stable, coin, oracle, pool
        self.venue = venue
        self.config = config
        self.clock = clock
        self.mid_usd = mid_usd
        self.start_ns = clock.now_ns()
        self.start_s = chain.timestamp()
        self._last_block_s = self.start_s
        accounts = chain.w3.eth.accounts
        self.deployer, self.arbitrageur = accounts[DEPLOYER], accounts[ARBITRAGEUR]
        self.arbitrage_swaps = 0
        self.oracle_updates = 0

    def chain_time_s(self, now_ns: int) -> int:
        """Return the block time that matches the backtest time ``now_ns``, unix seconds."""
        return self.start_s + (now_ns - self.start_ns) // NS_PER_SECOND

    def on_event(self, event: MarketEvent) -> None:
        """Mine a block at the matching time once the backtest has moved ``block_time_s`` past the last one."""
        target = self.chain_time_s(self.clock.now_ns())
        if target - self._last_block_s >= self.config.block_time_s:
            self._move_to(target)

    def _move_to(self, target_s: int) -> None:
        now_s = self.chain.timestamp()
        if target_s > now_s:
            self.chain.advance_time(target_s - now_s)
        self._last_block_s = max(target_s, now_s)

    def sync(self) -> None:
        """Bring the chain to the backtest's time, post the oracle if due, and arbitrage the pool to the market."""
        from hedgekeeper.chain.units import to_fixed

        self._move_to(self.chain_time_s(self.clock.now_ns()))
        mid = self.mid_usd()
        if mid is None or not math.isfinite(mid) or mid <= 0:
            return
        answer = to_fixed(mid, self.config.oracle_decimals)
        if self.oracle.functions.is_update_due(answer).call():
            self.chain.transact(self.oracle.functions.submit(answer), self.deployer)
            self.oracle_updates += 1
        if self.config.arbitrage:
            self._arbitrage(mid)

    def _arbitrage(self, mid_usd: float) -> None:
        """Swap the pool's price to ``mid_usd`` (the fee aside): the arbitrageur's constant-product move."""
        from hedgekeeper.chain.arbitrage import arbitrage_swap

        model = self.venue.pool_model()
        tokens = self.venue.tokens
        coin_reserve, usd_reserve = ((model.reserve0, model.reserve1) if tokens.coin_is_token0
                                     else (model.reserve1, model.reserve0))
        swap = arbitrage_swap(coin_reserve, usd_reserve, mid_usd, tokens.coin_decimals, tokens.usd_decimals)
        if swap.gap_bps < self.config.arbitrage_threshold_bps or swap.coin_units == 0:
            return
        if swap.buys_coin:  # the pool is cheap: buy its coin
            function = self.pool.functions.swap_exact_out(not tokens.coin_is_token0, swap.coin_units,
                                                          MAX_UINT256, self.arbitrageur)
        else:  # dear: sell it coin
            function = self.pool.functions.swap_exact_in(tokens.coin_is_token0, swap.coin_units, 0,
                                                         self.arbitrageur)
        self.chain.transact(function, self.arbitrageur)
        self.arbitrage_swaps += 1


@dataclass
class OnChainExecutor:
    """Send hedges of the chain instrument to the router over the chain venue, the rest where they went.

    Parameters
    ----------
    market : ChainMarket, synced before every round of swaps
    router : RoutedExecutor over the chain venue
    rest : BookExecutor of every other instrument with a book (the exchanges' executor, or the taker)
    instrument_id : str, the chain instrument
    """

    market: ChainMarket
    router: RoutedExecutor
    rest: BookExecutor
    instrument_id: str

    def execute(self, instrument: Instrument, size_contracts: float, book: OrderBook, now_ns: int
                ) -> Sequence[TakerFill]:
        """Start trading ``size_contracts`` (signed) of ``instrument``; return the fills made at once."""
        if instrument.instrument_id != self.instrument_id:
            return self.rest.execute(instrument, size_contracts, book, now_ns)
        self.market.sync()
        return self.router.execute(instrument, size_contracts, book, now_ns)

    def poll(self, now_ns: int) -> Sequence[TakerFill]:
        """Return the fills of both executors since the last call (the chain synced first if it re-routes)."""
        if self.router.working(self.market.venue.instrument.underlying):
            self.market.sync()
        return [*self.rest.poll(now_ns), *self.router.poll(now_ns)]

    def working(self, underlying: str) -> bool:
        """Return whether trades of ``underlying`` are still being worked by either executor."""
        return self.rest.working(underlying) or self.router.working(underlying)

    def close(self) -> None:
        """Close both executors."""
        self.router.close()
        self.rest.close()


def deploy_market(backtest: Backtest, clock: SimulatedClock,
                  order_books: Mapping[str, OrderBook]) -> ChainMarket:
    """Deploy the ``[chain]`` market at the book's spot; return it with the trading account's venue.

    Raises
    ------
    ConfigError
        Without a ``[chain]`` table.
    TransactionReverted, NodeUnavailable
        From the chain.
    """
    from hedgekeeper.chain.backends import RpcBackend, connect
    from hedgekeeper.chain.deploy import deploy_contract
    from hedgekeeper.chain.units import to_fixed
    from hedgekeeper.chain.venue import ChainPoolVenue

    config = backtest.file.chain
    if config is None:
        raise ConfigError(f"{backtest.source}: no [chain] table")
    book = backtest.book
    instrument = book.registry.get(config.instrument_id)
    spot_usd = book.market.underlying(instrument.underlying).spot_usd
    chain = connect(None if config.rpc_url is None else RpcBackend(url=config.rpc_url))
    accounts = chain.w3.eth.accounts
    deployer, trader, arbitrageur = accounts[DEPLOYER], accounts[TRADER], accounts[ARBITRAGEUR]
    stable = deploy_contract(chain, "erc20", "USD Coin", instrument.settlement_currency, config.usd_decimals,
                             sender=deployer)
    coin = deploy_contract(chain, "erc20", f"Wrapped {instrument.underlying}", f"W{instrument.underlying}",
                           config.coin_decimals, sender=deployer)
    oracle = deploy_contract(chain, "oracle", config.oracle_decimals, f"{instrument.underlying} / USD",
                             config.oracle_deviation_bps, config.oracle_heartbeat_s, sender=deployer)
    chain.transact(oracle.functions.submit(to_fixed(spot_usd, config.oracle_decimals)), deployer)
    token0, token1 = sorted([stable, coin], key=lambda token: int(token.address, 16))
    pool = deploy_contract(chain, "pool", token0.address, token1.address, config.pool_fee_bps, sender=deployer)
    coin_units = to_fixed(config.pool_reserve_coin, config.coin_decimals)
    usd_units = to_fixed(config.pool_reserve_coin * spot_usd, config.usd_decimals)
    # The deployer seeds the pool; the arbitrageur holds as much again of each, to move the price either way.
    for token, amount in ((coin, coin_units), (stable, usd_units)):
        chain.transact(token.functions.mint(deployer, amount), deployer)
        chain.transact(token.functions.approve(pool.address, amount), deployer)
        chain.transact(token.functions.mint(arbitrageur, amount), deployer)
        chain.transact(token.functions.approve(pool.address, MAX_UINT256), arbitrageur)
    amounts = (coin_units, usd_units) if token0 is coin else (usd_units, coin_units)
    chain.transact(pool.functions.add_liquidity(*amounts), deployer)
    for balance in book.balances:
        if balance.venue == instrument.venue and balance.money.amount > 0:
            token, decimals = ((stable, config.usd_decimals) if balance.money.currency == instrument.settlement_currency
                               else (coin, config.coin_decimals) if balance.money.currency == instrument.underlying
                               else (None, 0))
            if token is None:
                raise ConfigError(f"{backtest.source}: balances: {balance.money.currency} at {balance.venue} is "
                                  f"neither {instrument.underlying} nor {instrument.settlement_currency}")
            units = balance.money.amount.scaleb(decimals)
            chain.transact(token.functions.mint(trader, int(units)), deployer)
    venue = ChainPoolVenue(instrument.venue, instrument, chain, pool, coin, stable, oracle, trader, clock,
                           usd_currency=instrument.settlement_currency)
    stream = next(entry.book_stream or entry.instrument_id for u in backtest.file.hedging.underlyings.values()
                  for entry in u.instruments if entry.instrument_id == instrument.instrument_id)

    def mid_usd() -> float | None:
        order_book = order_books.get(stream)
        return None if order_book is None else order_book.mid_usd

    return ChainMarket(chain, stable, coin, oracle, pool, venue, config, clock, mid_usd)


def chain_execution(
    backtest: Backtest, clock: SimulatedClock, order_books: Mapping[str, OrderBook], rest: BookExecutor,
    listener: Callable[[MarketEvent], None] | None,
) -> tuple[OnChainExecutor, Callable[[MarketEvent], None]]:
    """Return the executor sending the chain instrument's hedges on chain, and the listener moving the chain.

    Parameters
    ----------
    backtest : Backtest, with a ``[chain]`` table
    clock : the engine's clock
    order_books : the engine's books by stream (the market's mid)
    rest : the executor of every other instrument with a book
    listener : the exchanges' listener, called first, or None
    """
    from hedgekeeper.execution.order_manager import OrderManager
    from hedgekeeper.execution.routed_executor import PoolRoute, RoutedExecutor

    config = backtest.file.chain
    assert config is not None
    market = deploy_market(backtest, clock, order_books)
    venue = market.venue
    instrument = venue.instrument
    orders = OrderManager({venue.name: venue}, clock, id_prefix=f"hk-{venue.name}")
    router = RoutedExecutor(orders, backtest.book.registry,
                            {instrument.underlying: [PoolRoute(venue, config.max_swap_coin, config.tolerance_bps)]},
                            lot_coin=instrument.lot_size * instrument.contract_size)

    def feed(event: MarketEvent) -> None:
        """Feed the exchanges, then move the chain's time along."""
        if listener is not None:
            listener(event)
        market.on_event(event)

    return OnChainExecutor(market, router, rest, instrument.instrument_id), feed


__all__ = ["ChainConfig", "ChainMarket", "OnChainExecutor", "chain_execution", "check_chain_config",
           "deploy_market"]

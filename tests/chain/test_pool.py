"""pool.vy: the contract's integer math is hedgekeeper.venues.amm.constant_product's, exactly.

Each swap is quoted by the Python model of a Uniswap v2 pair (fee in pips =
100 x the pool's bps) on the contract's reserves before the swap, then executed
on chain: outputs, inputs and reserves must be equal to the unit.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest
from web3.contract import Contract

from hedgekeeper.chain.backends import Chain
from hedgekeeper.chain.deploy import contract_at, deploy_contract
from hedgekeeper.chain.errors import TransactionReverted
from hedgekeeper.venues.amm.constant_product import ConstantProductPool

FEE_BPS = 30
TRADER = 2


@pytest.fixture(scope="module")
def pool(chain: Chain) -> Contract:
    """A WETH/USDC pool with uneven reserves, the trader funded and approved."""
    owner, trader = chain.accounts[0], chain.accounts[TRADER]
    weth = deploy_contract(chain, "erc20", "Wrapped Ether", "WETH", 18)
    usdc = deploy_contract(chain, "erc20", "USD Coin", "USDC", 6)
    pool = deploy_contract(chain, "pool", weth.address, usdc.address, FEE_BPS)
    for token, amount in ((weth, 10**24), (usdc, 10**16)):
        chain.transact(token.functions.mint(owner, amount), owner)
        chain.transact(token.functions.mint(trader, amount), owner)
        chain.transact(token.functions.approve(pool.address, 2**256 - 1), owner)
        chain.transact(token.functions.approve(pool.address, 2**256 - 1), trader)
    chain.transact(pool.functions.add_liquidity(1234 * 10**18 + 567, 3_701_234 * 10**6 + 89), owner)
    return pool


@pytest.fixture(autouse=True)
def _isolate(isolate: Chain) -> Iterator[None]:
    yield


def _model(pool: Contract) -> ConstantProductPool:
    return ConstantProductPool(pool.functions.reserve0().call(), pool.functions.reserve1().call(), fee_pips=FEE_BPS * 100)


def test_quotes_equal_the_python_model_in_both_directions(pool: Contract) -> None:
    model = _model(pool)
    for amount in (1, 10**6, 10**15, 3 * 10**18, 10**21):
        for zero_for_one in (True, False):
            assert pool.functions.get_amount_out(amount, zero_for_one).call() == model.amount_out(amount, zero_for_one)
            if amount < (model.reserve1 if zero_for_one else model.reserve0):
                assert pool.functions.get_amount_in(amount, zero_for_one).call() == model.amount_in(amount, zero_for_one)


def test_a_random_sequence_of_swaps_tracks_the_python_model_to_the_unit(pool: Contract, chain: Chain) -> None:
    rng = np.random.default_rng(7)
    trader = chain.accounts[TRADER]
    model = _model(pool)
    for _ in range(12):
        zero_for_one = bool(rng.random() < 0.5)
        exact_input = bool(rng.random() < 0.5)
        if exact_input:
            amount = int(rng.uniform(0.001, 20.0) * (10**18 if zero_for_one else 3000 * 10**6))
            result = model.swap_exact_input(amount, zero_for_one)
            chain.transact(pool.functions.swap_exact_in(zero_for_one, amount, result.amount_out, trader), trader)
        else:
            amount = int(rng.uniform(0.001, 20.0) * (3000 * 10**6 if zero_for_one else 10**18))
            result = model.swap_exact_output(amount, zero_for_one)
            chain.transact(pool.functions.swap_exact_out(zero_for_one, amount, result.amount_in, trader), trader)
        model = result.pool
        assert (pool.functions.reserve0().call(), pool.functions.reserve1().call()) == (model.reserve0, model.reserve1)


def test_swap_pays_the_quoted_amount_to_the_recipient(pool: Contract, chain: Chain) -> None:
    trader, recipient = chain.accounts[TRADER], chain.accounts[3]
    usdc = contract_at(chain, "erc20", pool.functions.token1().call())
    expected = _model(pool).amount_out(10**18, True)
    chain.transact(pool.functions.swap_exact_in(True, 10**18, 0, recipient), trader)
    assert usdc.functions.balanceOf(recipient).call() == expected


def test_min_out_and_max_in_bounds_revert_without_moving_reserves(pool: Contract, chain: Chain) -> None:
    trader = chain.accounts[TRADER]
    model = _model(pool)
    out = model.amount_out(10**18, True)
    with pytest.raises(TransactionReverted, match="slippage: output below minimum"):
        chain.transact(pool.functions.swap_exact_in(True, 10**18, out + 1, trader), trader)
    cost = model.amount_in(10**18, False)
    with pytest.raises(TransactionReverted, match="slippage: input above maximum"):
        chain.transact(pool.functions.swap_exact_out(False, 10**18, cost - 1, trader), trader)
    assert _model(pool) == model


def test_buying_the_whole_reserve_reverts(pool: Contract, chain: Chain) -> None:
    trader = chain.accounts[TRADER]
    reserve1 = pool.functions.reserve1().call()
    with pytest.raises(TransactionReverted, match="insufficient liquidity"):
        chain.transact(pool.functions.swap_exact_out(True, reserve1, 2**255, trader), trader)


def test_later_liquidity_mints_shares_in_proportion(pool: Contract, chain: Chain) -> None:
    owner = chain.accounts[0]
    before_shares = pool.functions.total_shares().call()
    r0, r1 = pool.functions.reserve0().call(), pool.functions.reserve1().call()
    chain.transact(pool.functions.add_liquidity(r0 // 10, r1 // 10), owner)
    minted = pool.functions.total_shares().call() - before_shares
    assert minted == min((r0 // 10) * before_shares // r0, (r1 // 10) * before_shares // r1)
    assert pool.functions.reserve0().call() == r0 + r0 // 10

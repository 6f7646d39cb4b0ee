"""oracle.vy: Chainlink aggregator semantics, the updater role and the deviation-plus-heartbeat rule."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from web3.contract import Contract
from web3.logs import DISCARD

from hedgekeeper.chain.backends import Chain
from hedgekeeper.chain.deploy import deploy_contract
from hedgekeeper.chain.errors import StaleOracle, TransactionReverted
from hedgekeeper.chain.reader import read_oracle_round, require_fresh

THRESHOLD_BPS, HEARTBEAT_S = 50, 3600
PRICE = 3000 * 10**8


@pytest.fixture(scope="module")
def oracle(chain: Chain) -> Contract:
    return deploy_contract(chain, "oracle", 8, "ETH / USD", THRESHOLD_BPS, HEARTBEAT_S)


@pytest.fixture(autouse=True)
def _isolate(isolate: Chain) -> Iterator[None]:
    yield


def test_metadata_is_the_aggregator_interface(oracle: Contract) -> None:
    metadata = [getattr(oracle.functions, name)().call() for name in ("decimals", "description", "version")]
    assert metadata == [8, "ETH / USD", 4]
    assert oracle.functions.latestRound().call() == 0


def test_reading_before_any_round_reverts_like_chainlink(oracle: Contract, chain: Chain) -> None:
    with pytest.raises(TransactionReverted, match="no data present"):
        chain.call(oracle.functions.latestRoundData())


def test_a_submission_makes_a_round_with_its_block_time(oracle: Contract, chain: Chain) -> None:
    owner = chain.accounts[0]
    receipt = chain.transact(oracle.functions.submit(PRICE), owner)
    when = chain.w3.eth.get_block(receipt["blockNumber"])["timestamp"]
    round_ = read_oracle_round(oracle)
    fields = (round_.round_id, round_.answer, round_.started_at_s, round_.updated_at_s, round_.answered_in_round)
    assert fields == (1, PRICE, when, when, 1)
    assert round_.price_usd == 3000.0
    (event,) = oracle.events.AnswerUpdated().process_receipt(receipt, errors=DISCARD)
    assert (event.args.current, event.args.roundId, event.args.updatedAt) == (PRICE, 1, when)
    assert oracle.functions.latestAnswer().call() == PRICE and oracle.functions.latestTimestamp().call() == when


def test_rounds_stay_readable_by_id(oracle: Contract, chain: Chain) -> None:
    owner = chain.accounts[0]
    prices = [PRICE, PRICE * 101 // 100, PRICE * 99 // 100]
    for price in prices:
        chain.transact(oracle.functions.submit(price), owner)
    assert [read_oracle_round(oracle, i).answer for i in (1, 2, 3)] == prices
    with pytest.raises(TransactionReverted, match="no data present"):
        chain.call(oracle.functions.getRoundData(4))


def test_an_update_is_due_on_deviation_or_heartbeat_only(oracle: Contract, chain: Chain) -> None:
    owner = chain.accounts[0]
    chain.transact(oracle.functions.submit(PRICE), owner)
    small = PRICE + PRICE * (THRESHOLD_BPS - 1) // 10_000
    large = PRICE - PRICE * THRESHOLD_BPS // 10_000
    assert oracle.functions.deviation_bps(small).call() == THRESHOLD_BPS - 1
    assert not oracle.functions.is_update_due(small).call()
    assert oracle.functions.is_update_due(large).call()
    with pytest.raises(TransactionReverted, match="update not due"):
        chain.transact(oracle.functions.submit(small), owner)
    chain.advance_time(HEARTBEAT_S)
    assert oracle.functions.is_update_due(PRICE).call()  # the heartbeat: even an unchanged answer
    chain.transact(oracle.functions.submit(PRICE), owner)
    assert oracle.functions.latestRound().call() == 2


def test_only_the_updater_submits_and_only_the_owner_names_it(oracle: Contract, chain: Chain) -> None:
    owner, updater, stranger = chain.accounts[0], chain.accounts[2], chain.accounts[5]
    with pytest.raises(TransactionReverted, match="only the updater"):
        chain.transact(oracle.functions.submit(PRICE), stranger)
    with pytest.raises(TransactionReverted, match="only the owner"):
        chain.transact(oracle.functions.set_updater(stranger), stranger)
    chain.transact(oracle.functions.set_updater(updater), owner)
    chain.transact(oracle.functions.submit(PRICE), updater)
    with pytest.raises(TransactionReverted, match="only the updater"):
        chain.transact(oracle.functions.submit(PRICE * 2), owner)


def test_a_non_positive_answer_is_refused(oracle: Contract, chain: Chain) -> None:
    for bad in (0, -PRICE):
        with pytest.raises(TransactionReverted, match="answer must be positive"):
            chain.transact(oracle.functions.submit(bad), chain.accounts[0])


def test_the_owner_sets_the_rule(oracle: Contract, chain: Chain) -> None:
    owner = chain.accounts[0]
    chain.transact(oracle.functions.set_update_rule(0, 60), owner)
    chain.transact(oracle.functions.submit(PRICE), owner)
    chain.transact(oracle.functions.submit(PRICE), owner)  # a zero threshold: every answer is due
    assert (oracle.functions.deviation_threshold_bps().call(), oracle.functions.heartbeat_s().call()) == (0, 60)
    with pytest.raises(TransactionReverted, match="only the owner"):
        chain.transact(oracle.functions.set_update_rule(1, 1), chain.accounts[5])


def test_require_fresh_names_the_age_and_the_limit(oracle: Contract, chain: Chain) -> None:
    chain.transact(oracle.functions.submit(PRICE), chain.accounts[0])
    round_ = read_oracle_round(oracle)
    assert require_fresh(round_, round_.updated_at_s + 120, 120) is round_
    with pytest.raises(StaleOracle, match="ETH / USD oracle is 412 s old, limit 120 s"):
        require_fresh(round_, round_.updated_at_s + 412, 120, "ETH / USD oracle")

"""A backtest with on-chain hedges: its recorded fills are swaps whose fees are the gas they burnt, in USD."""

from __future__ import annotations

import asyncio
import tomllib
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from hedgekeeper.backtest.chain import OnChainExecutor
from hedgekeeper.backtest.config import parse_backtest
from hedgekeeper.backtest.runner import build_engine, market_events
from hedgekeeper.engine.loop import Engine
from hedgekeeper.errors import ConfigError

EXAMPLE = Path(__file__).parents[2] / "examples" / "backtest_onchain.toml"
INSTRUMENT = "ETH-USDC.CHAIN"


def _document(**chain: object) -> dict[str, Any]:
    document = tomllib.loads(EXAMPLE.read_text())
    document["simulation"]["duration_s"] = 10_800.0  # three hours
    document["chain"].update(chain)
    return document


@pytest.fixture(scope="module")
def engine() -> Engine:
    """The example's backtest, two hours of it, run once for the module."""
    backtest = parse_backtest(_document(), source="test")
    engine = build_engine(backtest, backtest.variants[0])
    events, _, _ = market_events(backtest)
    engine.run(events)
    return engine


def test_every_recorded_fill_is_a_swap_whose_fee_is_its_gas_times_the_oracle_price(engine: Engine) -> None:
    executor = engine.hedger.executor
    assert isinstance(executor, OnChainExecutor)
    market = executor.market
    w3 = market.chain.w3
    records = [record for record in engine.recorder.fills if record.instrument_id == INSTRUMENT]
    fills = asyncio.run(market.venue.fills())
    assert len(records) == len(fills) >= 3
    decimals = market.oracle.functions.decimals().call()
    for record, fill in zip(records, fills, strict=True):
        receipts = [w3.eth.get_transaction_receipt(tx["tx"]) for tx in fill.raw["transactions"]]
        assert all(r["status"] == 1 and r["from"] == market.venue.account for r in receipts)
        gas_wei = sum(r["gasUsed"] * r["effectiveGasPrice"] for r in receipts)
        block = max(r["blockNumber"] for r in receipts)
        answer = market.oracle.functions.latestRoundData().call(block_identifier=block)[1]
        fee_usd = Decimal(gas_wei) * Decimal(answer) / Decimal(10) ** (18 + decimals)
        assert gas_wei > 0 and record.fee_usd == pytest.approx(float(fee_usd), rel=1e-12)
        assert Decimal(str(fill.fee.amount)) == fee_usd
        assert record.size_contracts == pytest.approx(float(fill.quantity.value) * fill.side.sign)


def test_the_books_cash_is_the_accounts_on_chain_and_its_coin_less_the_gas(engine: Engine) -> None:
    market = engine.hedger.executor.market  # type: ignore[union-attr]
    account = market.venue.account
    coin = market.coin.functions.balanceOf(account).call() / 10**18
    usd = market.stable.functions.balanceOf(account).call() / 10**6
    records = [record for record in engine.recorder.fills if record.instrument_id == INSTRUMENT]
    fees_usd = sum(record.fee_usd for record in records)
    gas_coin = sum(record.fee_usd / record.price_usd for record in records)  # a spot account pays fees in its coin
    held = {(b.venue, b.money.currency): float(b.money.amount) for b in engine.book.balances}
    assert held[("chain", "ETH")] == pytest.approx(coin - gas_coin, abs=1e-9)
    assert held[("chain", "USDC")] == pytest.approx(usd, abs=1e-6)
    assert float(market.venue.gas_spent_usd) == pytest.approx(fees_usd, rel=1e-12)


def test_the_chains_time_follows_the_backtest_clock(engine: Engine) -> None:
    market = engine.hedger.executor.market  # type: ignore[union-attr]
    elapsed_s = (engine.clock.now_ns() - market.start_ns) / 1e9
    moved_s = market.chain.timestamp() - market.start_s
    assert elapsed_s - market.config.block_time_s <= moved_s <= elapsed_s + 60.0  # + the transactions' own blocks
    fills = asyncio.run(market.venue.fills())
    for fill in fills:  # each swap's block stands at its fill's backtest time
        assert fill.raw["block_timestamp_s"] - market.start_s == pytest.approx((fill.ts_ns - market.start_ns) / 1e9,
                                                                              abs=30.0)


@pytest.mark.parametrize(("instrument_id", "problem"), [("NOPE", "unknown instrument"),
                                                         ("ETH-15JUL25-3000-C.DERIBIT", "a pool trades spot")])
def test_a_chain_table_naming_no_hedged_spot_instrument_is_refused(instrument_id: str, problem: str) -> None:
    with pytest.raises(ConfigError, match=f"chain.instrument_id: .*{problem}"):
        parse_backtest(_document(instrument_id=instrument_id), source="test")

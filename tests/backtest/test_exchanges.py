"""A backtest trades on simulated exchanges: its fills, fees and positions are the exchange's."""

from __future__ import annotations

import asyncio
import gc
import tomllib
import warnings
from pathlib import Path

import pytest

from hedgekeeper.backtest.config import parse_backtest
from hedgekeeper.errors import ConfigError
from hedgekeeper.execution.pacing import AlmgrenChrissPacing, TwapPacing
from hedgekeeper.backtest.runner import build_engine, market_events, run_variant

EXAMPLE = Path(__file__).parents[2] / "examples" / "backtest_short_call.toml"


def _backtest(**execution: object):
    document = tomllib.loads(EXAMPLE.read_text().replace("duration_s = 259_200.0      # three days",
                                                         "duration_s = 3_600.0"))
    document["execution"] = execution
    return parse_backtest(document, source="test")


AC_PACING = {"almgren_chriss": {"interval_s": 10.0, "vol": 0.6, "risk_aversion_per_usd": 1e-4}}


PASSIVE = {"slices": 3, "interval_s": 20.0, "passive_s": 10.0}


@pytest.mark.parametrize("execution", [{}, {"slices": 3, "interval_s": 20.0, "order_latency_ms": 50.0}, AC_PACING,
                                       PASSIVE])
def test_the_books_fills_are_the_exchanges_fills(execution: dict[str, object]) -> None:
    backtest = _backtest(**execution)
    engine = build_engine(backtest, backtest.variants[0])
    events, _, _ = market_events(backtest)
    recorder = engine.run(events)
    executor = engine.hedger.executor
    exchange = executor.orders.venues["binance"]
    venue_fills = asyncio.run(exchange.fills(0))
    assert len(recorder.fills) == len(venue_fills) >= 3
    for record, fill in zip(recorder.fills, venue_fills, strict=True):
        assert record.size_contracts == pytest.approx(float(fill.quantity.value) * fill.side.sign)
        assert record.fee_usd == pytest.approx(float(fill.fee.amount))
    position = asyncio.run(exchange.positions())[0]
    assert engine.book.position(position.instrument_id) == pytest.approx(float(position.size_contracts))


def test_safety_limits_refuse_a_hedge_larger_than_allowed() -> None:
    limits = {"max_order_coin": 0.5, "max_order_notional_usd": 1e6, "max_notional_per_window_usd": 1e7,
              "notional_window_s": 60.0, "price_collar_bps": 100.0}
    backtest = _backtest(safety=limits)
    engine = build_engine(backtest, backtest.variants[0])
    events, _, _ = market_events(backtest)
    engine.run(events)
    refused = [o for o in engine.hedger.executor.orders.orders.values() if "above the maximum" in o.reason]
    assert refused and all(o.filled_quantity == 0 for o in refused)


def test_the_execution_table_picks_the_pacing_and_refuses_two() -> None:
    assert _backtest(slices=3, interval_s=20.0).file.execution.pacing() == TwapPacing(3, 20_000_000_000)
    assert _backtest(**AC_PACING).file.execution.pacing() == AlmgrenChrissPacing(10_000_000_000, 0.6, 1e-4)
    with pytest.raises(ConfigError, match="execution: .*not both"):
        _backtest(slices=2, **AC_PACING)
    with pytest.raises(ConfigError, match="execution.almgren_chriss.vol"):
        _backtest(almgren_chriss={"interval_s": 10.0, "vol": -1.0, "risk_aversion_per_usd": 1e-4})


def test_a_run_closes_its_executors_event_loop_and_leaks_nothing() -> None:
    backtest = _backtest(slices=2, interval_s=20.0)
    gc.collect()  # what earlier tests left behind is not this run's
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ResourceWarning)
        recorder = run_variant(backtest, backtest.variants[0])
        gc.collect()
    assert recorder.fills  # it traded through the exchange executor
    assert not [w for w in caught if issubclass(w.category, ResourceWarning)], [str(w.message) for w in caught]

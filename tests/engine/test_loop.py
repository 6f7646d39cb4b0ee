"""The event loop end to end: determinism, bands held, bad data survived, hard limits in a crash."""

from __future__ import annotations

import asyncio
import math
from dataclasses import astuple
from decimal import Decimal

import numpy as np
import pytest
from engine.engine_builders import CALL, FEES, PERP, PERP_ID, T0_NS, book_state, engine, gbm_spots, ticks

from hedgekeeper.engine.hedging import HedgeInstrument, PlannerHedger
from hedgekeeper.engine.loop import Engine
from hedgekeeper.execution.exchange_executor import ExchangeExecutor
from hedgekeeper.execution.order_manager import OrderManager
from hedgekeeper.execution.simulated_taker import SimulatedTaker
from hedgekeeper.market.events import Funding, TopOfBook
from hedgekeeper.policy.hard_limits import HardLimits
from hedgekeeper.policy.risk_profile import load_risk_profile
from hedgekeeper.policy.triggers import ThresholdPolicy
from hedgekeeper.portfolio.positions import Position
from hedgekeeper.venues.orders import OrderRequest, OrderType, Side
from hedgekeeper.venues.simulated.config import SimulatedExchangeConfig
from hedgekeeper.venues.simulated.exchange import ExchangeCore
from hedgekeeper.venues.simulated.venue import SimulatedExchange

PROFILE = load_risk_profile({"BTC": {"delta_coin": {"target": 0.0, "width": 0.5}}})


def _threshold(hedge_to: str = "target") -> HardLimits:
    return HardLimits(ThresholdPolicy(profile=PROFILE, hedge_to=hedge_to), profile=PROFILE,
                      min_liquidation_distance=0.05, max_leverage=50.0)


def _short_calls_run(seed: int):
    events = ticks(gbm_spots(1_500, 60.0, 0.6, np.random.default_rng(seed)), 60.0)
    run = engine(book_state([Position(CALL.instrument_id, -10.0)]), _threshold())
    return run, run.run(events)


def test_same_events_give_the_same_decisions_and_fills() -> None:
    _, first = _short_calls_run(7)
    _, second = _short_calls_run(7)
    assert len(first.fills) > 3
    assert [astuple(f) for f in first.fills] == [astuple(f) for f in second.fills]
    assert first.decisions == second.decisions


def test_delta_is_back_inside_its_band_after_every_sample() -> None:
    run, recorder = _short_calls_run(11)
    delta = np.array([s.delta_coin for s in recorder.samples])
    # Samples are taken after any rebalance at the same instant: a short gamma book
    # drifts, but it never stays outside the band for a whole sampling interval.
    outside = np.abs(delta) > 0.5
    assert outside.mean() < 0.02
    # Hedging to the target lands within one lot of the perpetual (0.001 BTC) of zero.
    fill_times = {f.ts_ns for f in recorder.fills}
    after_fills = [s.delta_coin for s in recorder.samples if s.ts_ns in fill_times]
    assert max(abs(d) for d in after_fills) <= 0.001 + 1e-9
    assert all(d.trigger == "threshold" for d in recorder.decisions)


def test_bad_ticks_are_refused_and_the_loop_goes_on() -> None:
    events = ticks(gbm_spots(50, 60.0, 0.6, np.random.default_rng(1)), 60.0)
    events[10] = TopOfBook(events[10].ts_ns, PERP_ID, math.nan, 1.0, 100_000.0, 1.0)
    events[20] = TopOfBook(events[20].ts_ns, PERP_ID, 100_100.0, 1.0, 100_000.0, 1.0)  # crossed
    events[30] = events[29]  # a duplicate is fine; an older one is not:
    events[40] = TopOfBook(events[38].ts_ns, PERP_ID, 99_999.0, 1.0, 100_001.0, 1.0)
    run = engine(book_state([Position(CALL.instrument_id, -10.0)]), _threshold())
    recorder = run.run(events)
    assert run.validator.rejected == 3
    assert run.events_processed == 47
    assert recorder.samples[-1].ts_ns == events[-1].ts_ns


def test_funding_is_paid_by_a_long_perpetual() -> None:
    state = book_state([Position(PERP_ID, 2.0, 100_000.0)])
    wide = load_risk_profile({"BTC": {"delta_coin": {"target": 0.0, "width": 10.0}}})
    run = engine(state, ThresholdPolicy(profile=wide, hedge_to="edge"))
    run.run([TopOfBook(T0_NS, PERP_ID, 99_999.5, 5.0, 100_000.5, 5.0),
             Funding(T0_NS + 1, PERP_ID, 0.0001, 100_000.0)])
    usdt = next(b for b in state.balances if b.money.currency == "USDT")
    fill_fees = sum(f.fee_usd for f in run.recorder.fills)
    assert float(usdt.money.amount) == pytest.approx(1_000_000.0 - 20.0 - fill_fees, abs=1e-6)


def test_crash_with_hard_limits_never_reaches_the_liquidation_buffer() -> None:
    """A leveraged long perpetual through a -30% day: the hard limit sells before liquidation."""
    # The delta band tolerates the whole position: only the hard limit can make it trade.
    profile = load_risk_profile({"BTC": {"delta_coin": {"target": 0.0, "width": 100.0}}})
    policy = HardLimits(ThresholdPolicy(profile=profile, hedge_to="edge"), profile=profile,
                        min_liquidation_distance=0.10, max_leverage=50.0)
    # 20 BTC long on 400,000 USDT: liquidated about 20% below 100,000.
    state = book_state([Position(PERP_ID, 20.0, 100_000.0)], usdt="400000")
    minutes = np.arange(1, 1_441)
    spots = 100_000.0 * np.exp(np.log(0.7) * minutes / minutes[-1])  # -30% over the day
    recorder = engine(state, policy, liquidation_max_age_ns=60 * 10**9).run(ticks(spots, 60.0, depth_coin=100.0))
    distance = np.array([s.liquidation_distance for s in recorder.samples])
    forced = [d for d in recorder.decisions if d.forced]
    assert forced and forced[0].trigger == "hard_limit:liquidation"
    # The buffer is 10%: never reached by more than one minute's move (0.025%).
    assert distance.min() >= 0.10 - 0.001
    assert state.position(PERP_ID) < 20.0


def _exchange_engine(idle_fill_poll_ns: int) -> tuple[Engine, ExchangeCore]:
    """An engine on a simulated exchange whose account, 1,000 USDT, bought 1 BTC of the perpetual before it started."""
    wide = load_risk_profile({"BTC": {"delta_coin": {"target": 0.0, "width": 10.0}}})
    run = engine(book_state([], usdt="1000"), ThresholdPolicy(profile=wide, hedge_to="edge"),
                 idle_fill_poll_ns=idle_fill_poll_ns)
    core = ExchangeCore(SimulatedExchangeConfig(name="binance", balances={"USDT": Decimal(1_000)}), [PERP], FEES,
                        run.clock)
    core.on_market_event(TopOfBook(T0_NS, PERP_ID, 99_999.5, 5.0, 100_000.5, 5.0))
    request = OrderRequest(client_order_id="before", instrument_id=PERP_ID, side=Side.BUY,
                           quantity=PERP.make_qty(1, round_down=True), order_type=OrderType.MARKET)
    core.submit(request)  # 1 BTC at 100,000.5: equity about 950 USDT against a maintenance margin of about 500
    orders = OrderManager({"binance": SimulatedExchange(core)}, run.clock)
    run.hedger = PlannerHedger(instruments={"BTC": [HedgeInstrument(instrument_id=PERP_ID)]}, taker=SimulatedTaker(FEES),
                               executor=ExchangeExecutor(orders, run.book.registry, run.order_books))
    run.listeners = [core.on_market_event]
    return run, core


@pytest.mark.parametrize("idle_fill_poll_s", [0, 10])
def test_a_liquidation_between_rebalances_is_booked_within_the_idle_poll_interval(idle_fill_poll_s: int) -> None:
    run, core = _exchange_engine(idle_fill_poll_s * 10**9)
    spots = [100_000.0, 99_800.0, 99_600.0, 99_400.0, 99_300.0, 99_300.0, 99_300.0]
    events = [TopOfBook(T0_NS + (i + 1) * 4 * 10**9, PERP_ID, s - 0.5, 5.0, s + 0.5, 5.0) for i, s in enumerate(spots)]
    run.process(events[0])
    assert run.book.position(PERP_ID) == 1.0  # the account's fill, booked at the first asking
    booked_at = None
    for event in events[1:]:
        run.process(event)
        if booked_at is None and run.book.position(PERP_ID) == 0.0:
            booked_at = event.ts_ns
    bought, liquidation = asyncio.run(SimulatedExchange(core).fills(0))
    assert liquidation.raw.get("liquidation") and core.positions() == []
    assert not run.recorder.decisions  # the venue closed the position; no rebalance was asked
    assert booked_at is not None and 0 <= booked_at - liquidation.ts_ns <= idle_fill_poll_s * 10**9
    assert [(f.size_contracts, f.price_usd) for f in run.recorder.fills] == [
        (1.0, float(bought.price.value)), (-1.0, float(liquidation.price.value))]
    run.hedger.close()

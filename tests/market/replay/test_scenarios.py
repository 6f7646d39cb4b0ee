"""Scenarios: named, lazily merged replays that pass the edge validator as simulated data does."""

from __future__ import annotations

import itertools
from collections import Counter

import pytest

from hedgekeeper.errors import ConfigError
from hedgekeeper.market.events import Funding, OptionQuote, OracleUpdate, TopOfBook, Trade
from hedgekeeper.market.replay.merge import time_window
from hedgekeeper.market.replay.reading import RowLog
from hedgekeeper.market.replay.scenarios import SCENARIOS, scenario
from hedgekeeper.market.replay.timestamps import NS_PER_DAY, iso_to_ns
from hedgekeeper.market.validation import EdgeValidator


def test_registry_names_every_crash_day_and_the_other_replays() -> None:
    assert set(SCENARIOS) == {
        "binance-crash-2020-03-12", "binance-crash-2020-03-13", "binance-crash-2021-05-19",
        "binance-crash-2022-11-09", "gemini-selloff-2021-04-18", "gemini-btcusd-2021-03-16-30d",
        "binance-l2-2024-08-08", "btc-oracle-2023-2024",
        "deribit-btc-28jun24-70000c", "binance-2h-2017-2025", "bitstamp-2h-2011-2025"}
    for found in SCENARIOS.values():
        assert found.start_ns < found.end_ns and found.underlying == "BTC" and found.streams and found.datasets


def test_an_unknown_name_is_a_config_error_listing_the_names() -> None:
    with pytest.raises(ConfigError, match="binance-crash-2020-03-12"):
        scenario("binance-crash-2020-3-12")


def _validated(events, validator: EdgeValidator) -> Counter[str]:
    kinds: Counter[str] = Counter()
    for event in events:
        assert validator.check(event, now_ns=event.ts_ns) is None
        kinds[type(event).__name__] += 1
    return kinds


@pytest.mark.parametrize("name", ["binance-crash-2020-03-12", "binance-crash-2022-11-09"])
def test_crash_day_replays_minute_trades_and_three_fundings_through_the_validator(name: str, dataset) -> None:
    dataset("binance-btcusdt-1min-crash-days")
    dataset("binance-funding-pierre-cheneau")
    replay = scenario(name)
    logs: list[RowLog] = []
    kinds = _validated(replay.events(logs=logs), EdgeValidator(0, 0))
    assert kinds == {"Trade": 4 * 1_440, "Funding": 3}
    assert [log.skipped for log in logs] == [0, 0]


def test_crash_day_synthetic_quotes_come_with_the_spread_asked(dataset) -> None:
    dataset("binance-btcusdt-1min-crash-days")
    dataset("binance-funding-pierre-cheneau")
    events = list(itertools.islice(scenario("binance-crash-2021-05-19").events(spread_bps=2.0), 40))
    quotes = [event for event in events if isinstance(event, TopOfBook)]
    assert len(quotes) == 20 and all(abs((quote.ask_usd - quote.bid_usd) / quote.mid_usd - 2e-4) < 1e-12 for quote in quotes)
    funding = next(event for event in events if isinstance(event, Funding))
    first_trade = next(event for event in events if isinstance(event, Trade))
    assert funding.ts_ns == iso_to_ns("2021-05-19") and funding.mark_usd == first_trade.price_usd == 42_882.54


def test_dvol_gives_the_implied_vol_level_of_scenarios_it_covers(dataset) -> None:
    dataset("deribit-dvol-daily")
    assert scenario("binance-crash-2020-03-12").implied_vol() is None
    level = scenario("binance-crash-2021-05-19").implied_vol().value_at(iso_to_ns("2021-05-19 12:00"))
    assert level == pytest.approx(1.1701)  # DVOL closed 2021-05-18 at 117.01


def test_oracle_scenario_interleaves_rounds_candles_and_funding_in_time_order(dataset) -> None:
    for name in scenario("btc-oracle-2023-2024").datasets:
        dataset(name)
    validator = EdgeValidator(max_delay_ns=0, max_oracle_age_ns=0)
    first_week = time_window(scenario("btc-oracle-2023-2024").events(), 0, iso_to_ns("2023-04-13"))
    kinds = _validated(first_week, validator)
    assert kinds["OracleUpdate"] > 7 * 24 * 2 and kinds["Trade"] == 7 * 12 * 4 and kinds["Funding"] == 7 * 3


def test_option_scenario_carries_the_options_quotes_and_trades(dataset) -> None:
    for name in scenario("deribit-btc-28jun24-70000c").datasets:
        dataset(name)
    kinds = _validated(scenario("deribit-btc-28jun24-70000c").events(), EdgeValidator(0, 0))
    assert kinds["OptionQuote"] == 3_062 and kinds["Trade"] == 3_062 + 4 * 12 * 47  # 47 days of 2-hour bars


def test_l2_scenario_streams_are_named_for_our_instruments(dataset) -> None:
    dataset("binance-l2-ws-2024-08-08-hftbacktest")
    replay = scenario("binance-l2-2024-08-08")
    first = list(itertools.islice(replay.events(), 2_000))
    assert {event.stream for event in first} <= set(replay.streams.values())
    assert first[0].ts_ns >= replay.start_ns and first[-1].ts_ns < replay.start_ns + NS_PER_DAY
    assert all(a.ts_ns <= b.ts_ns for a, b in itertools.pairwise(first))
    assert not any(isinstance(event, OracleUpdate | OptionQuote) for event in first)

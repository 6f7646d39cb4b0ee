"""Named recorded scenarios that a backtest configuration can name, e.g. ``binance-crash-2020-03-12``.

A ``Scenario`` says which recorded files to replay, over which window, under
which stream names; ``events()`` opens them afresh and returns one lazily merged,
time-ordered iterator of ``MarketEvent``, exactly as a simulator would give.
Nothing is read until it is asked for, and a missing data set raises
``FileNotFoundError`` naming the folder searched (see ``market/data_dir.py``).

Candle-based streams are synthetic paths through each bar (``bars.py``);
funding is marked with the replayed candle price (``funding.py``). Prices are USD
per coin with USDT taken as USD.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from hedgekeeper.errors import ConfigError
from hedgekeeper.market.data_dir import dataset_path
from hedgekeeper.market.events import MarketEvent
from hedgekeeper.market.replay.bars import Bar, bar_price_series, expand_bars
from hedgekeeper.market.replay.binance_capture import CaptureLog, read_binance_capture
from hedgekeeper.market.replay.candles import read_binance_klines, read_ccxt_ohlcv, read_cryptodatadownload
from hedgekeeper.market.replay.chainlink import FEEDS, read_chainlink_feed
from hedgekeeper.market.replay.deribit import load_dvol, read_deribit_option_trades
from hedgekeeper.market.replay.funding import (
    FundingRate,
    funding_events,
    read_binance_funding_rates,
    read_ccxt_funding_rates,
)
from hedgekeeper.market.replay.merge import merge_streams, time_window
from hedgekeeper.market.replay.reading import RowLog
from hedgekeeper.market.replay.series import StepSeries
from hedgekeeper.market.replay.timestamps import NS_PER_DAY, NS_PER_HOUR, NS_PER_MINUTE, iso_to_ns

BINANCE_SPOT_BTC = "BTCUSDT.BINANCE"
BINANCE_PERP_BTC = "BTCUSDT-PERP.BINANCE"
BINANCE_PERP_ETH = "ETHUSDT-PERP.BINANCE"
BINANCE_COIN_PERP_BTC = "BTCUSD_PERP.BINANCE"
GEMINI_BTC = "BTCUSD.GEMINI"
BITSTAMP_BTC = "BTCUSD.BITSTAMP"
DERIBIT_OPTION = "BTC-28JUN24-70000-C.DERIBIT"

COIN_PERP_CONTRACT_USD = 100.0
"""Binance COIN-M BTCUSD_PERP: one contract is 100 USD of face."""

CRASH_DAYS = ("2020-03-12", "2020-03-13", "2021-05-19", "2022-11-09")
"""UTC days of ``binance-btcusdt-1min-crash-days``."""

StreamOpener = Callable[[float | None, list[RowLog]], list[Iterator[MarketEvent]]]
"""Open a scenario's streams, given the synthetic spread (bps, or None) and a list collecting the logs."""


@dataclass(frozen=True, slots=True)
class Scenario:
    """A named replay of recorded data.

    Attributes
    ----------
    name : str, what a backtest configuration names
    description : str, one sentence on what happened and what is replayed
    underlying : str, the coin the scenario is about, e.g. ``"BTC"``
    start_ns, end_ns : int, the replayed window [start, end), ns since the epoch, UTC
    streams : mapping from a source and its symbol (``"binance spot: BTCUSDT"``) to our stream name
    datasets : tuple of str, the recorded data sets its events are read from
    dvol_file : str or None, the ``deribit-dvol-daily`` file giving the implied-vol level
        (None before DVOL began, 2021-03-24)
    """

    name: str
    description: str
    underlying: str
    start_ns: int
    end_ns: int
    streams: Mapping[str, str]
    datasets: tuple[str, ...]
    dvol_file: str | None
    _open: StreamOpener = field(repr=False)

    def events(
        self, spread_bps: float | None = None, logs: list[RowLog] | None = None
    ) -> Iterator[MarketEvent]:
        """Return the scenario's events, time-ordered, merged lazily from its streams.

        Parameters
        ----------
        spread_bps : float or None, the assumed spread of synthetic quotes around
            candle-based trades, basis points; None for trades only
        logs : list or None, receives each reader's ``RowLog`` (skipped rows, capture counts)
        """
        streams = self._open(spread_bps, [] if logs is None else logs)
        return time_window(merge_streams(*streams), self.start_ns, self.end_ns)

    def implied_vol(self) -> StepSeries | None:
        """Return the DVOL level (annualised decimal, known at each day's end), or None if none applies."""
        if self.dvol_file is None:
            return None
        return load_dvol(dataset_path("deribit-dvol-daily") / self.dvol_file)


def _logged(logs: list[RowLog], log: RowLog) -> RowLog:
    logs.append(log)
    return log


def _candles(
    read_bars: Callable[[RowLog], Iterator[Bar]],
    bar_stream: str,
    bar_duration_ns: int,
    read_rates: Callable[[RowLog], Iterator[FundingRate]] | None,
    start_ns: int,
    end_ns: int,
) -> StreamOpener:
    """Open candles as synthetic trades and, if ``read_rates``, BTCUSDT funding marked at their last price."""

    def open_streams(spread_bps: float | None, logs: list[RowLog]) -> list[Iterator[MarketEvent]]:
        bar_log = _logged(logs, RowLog(f"{bar_stream} candles"))
        streams: list[Iterator[MarketEvent]] = [expand_bars(read_bars(bar_log), bar_stream, spread_bps)]
        if read_rates is not None:
            mark_bars = time_window(read_bars(RowLog("funding marks")), start_ns - bar_duration_ns, end_ns)
            marks = bar_price_series(mark_bars)
            funding_log = _logged(logs, RowLog(f"{BINANCE_PERP_BTC} funding"))
            rates = time_window(read_rates(funding_log), start_ns, end_ns)
            streams.append(funding_events(rates, BINANCE_PERP_BTC, marks, bar_duration_ns, funding_log))
        return streams

    return open_streams


def _pierre_btc_rates(log: RowLog) -> Iterator[FundingRate]:
    path = dataset_path("binance-funding-pierre-cheneau") / "BTCUSDT_funding.csv"
    return read_binance_funding_rates(path, log)


def _hsbc(file_name: str) -> Path:
    return dataset_path("btc-binance-bitstamp-2h-1d-hsbc") / file_name


def _binance_2h_bars(log: RowLog) -> Iterator[Bar]:
    return read_ccxt_ohlcv(_hsbc("BTC_USDT_2h.csv.gz"), 2 * NS_PER_HOUR, log)


def _crash_day(day: str) -> Scenario:
    start_ns = iso_to_ns(day)
    path = f"btcusdt-1m-{day}.csv.gz"
    return Scenario(
        name=f"binance-crash-{day}",
        description=f"Binance spot BTCUSDT 1-minute candles of the {day} crash day (UTC), with "
                    "BTCUSDT perpetual funding marked at the replayed spot price.",
        underlying="BTC",
        start_ns=start_ns,
        end_ns=start_ns + NS_PER_DAY,
        streams={"binance spot: BTCUSDT": BINANCE_SPOT_BTC,
                 "binance usd-m: BTCUSDT funding": BINANCE_PERP_BTC},
        datasets=("binance-btcusdt-1min-crash-days", "binance-funding-pierre-cheneau"),
        dvol_file="btc_dvol.csv" if day >= "2021-03-24" else None,
        _open=_candles(
            lambda log: read_binance_klines(dataset_path("binance-btcusdt-1min-crash-days") / path, log),
            BINANCE_SPOT_BTC, NS_PER_MINUTE, _pierre_btc_rates, start_ns, start_ns + NS_PER_DAY),
    )


def _gemini(name: str, description: str, start: str, end: str) -> Scenario:
    path = "gemini_BTCUSD_2020_1min.csv.gz"
    return Scenario(
        name=name,
        description=description,
        underlying="BTC",
        start_ns=iso_to_ns(start),
        end_ns=iso_to_ns(end),
        streams={"gemini: BTCUSD": GEMINI_BTC},
        datasets=("gemini-btcusd-1min-2021-mallikharjuna",),
        dvol_file="btc_dvol.csv",
        _open=_candles(
            lambda log: read_cryptodatadownload(dataset_path("gemini-btcusd-1min-2021-mallikharjuna") / path,
                                                NS_PER_MINUTE, log),
            GEMINI_BTC, NS_PER_MINUTE, None, iso_to_ns(start), iso_to_ns(end)),
    )


def _gemini_selloff() -> Scenario:
    return _gemini("gemini-selloff-2021-04-18", "Gemini BTC/USD 1-minute candles, 2021-04-17 to 2021-04-19 UTC, "
                   "around the 2021-04-18 sell-off.", "2021-04-17", "2021-04-20")


def _gemini_month() -> Scenario:
    return _gemini("gemini-btcusd-2021-03-16-30d", "Gemini BTC/USD 1-minute candles for the 30 days from "
                   "2021-03-16 to 2021-04-15 UTC: the life of a 30-day option.", "2021-03-16", "2021-04-15")


def _open_l2_capture(spread_bps: float | None, logs: list[RowLog]) -> list[Iterator[MarketEvent]]:
    folder = dataset_path("binance-l2-ws-2024-08-08-hftbacktest")
    captures = (
        (("usdm_btcusdt_20240808.jsonl.gz",), BINANCE_PERP_BTC, None),
        (("usdm_ethusdt_20240808.jsonl.gz",), BINANCE_PERP_ETH, None),
        (("spot_btcusdt_20240808.jsonl.gz",), BINANCE_SPOT_BTC, None),
        (("coinm_btcusd_perp_20240808.jsonl.gz", "coinm_btcusd_perp_20240809.jsonl.gz"),
         BINANCE_COIN_PERP_BTC, COIN_PERP_CONTRACT_USD),
    )
    return [
        read_binance_capture([folder / name for name in names], stream, contract_size_usd=contract_size_usd,
                             log=_logged(logs, CaptureLog(stream)))
        for names, stream, contract_size_usd in captures
    ]


def _l2_capture() -> Scenario:
    return Scenario(
        name="binance-l2-2024-08-08",
        description="Raw Binance websocket L2 diffs, trades and best bid/ask around 2024-08-09 "
                    "00:00 UTC: USD-M BTCUSDT and ETHUSDT, spot BTCUSDT (~6 min), COIN-M "
                    "BTCUSD_PERP (~11 min).",
        underlying="BTC",
        start_ns=iso_to_ns("2024-08-08 23:54"),
        end_ns=iso_to_ns("2024-08-09 00:06"),
        streams={"binance usd-m: BTCUSDT": BINANCE_PERP_BTC,
                 "binance usd-m: ETHUSDT": BINANCE_PERP_ETH,
                 "binance spot: BTCUSDT": BINANCE_SPOT_BTC,
                 "binance coin-m: BTCUSD_PERP": BINANCE_COIN_PERP_BTC},
        datasets=("binance-l2-ws-2024-08-08-hftbacktest",),
        dvol_file="btc_dvol.csv",
        _open=_open_l2_capture,
    )


def _with_extra(
    opener: StreamOpener, extra: Callable[[list[RowLog]], list[Iterator[MarketEvent]]]
) -> StreamOpener:
    def open_streams(spread_bps: float | None, logs: list[RowLog]) -> list[Iterator[MarketEvent]]:
        return opener(spread_bps, logs) + extra(logs)

    return open_streams


def _chainlink_streams(logs: list[RowLog]) -> list[Iterator[MarketEvent]]:
    folder = dataset_path("chainlink-rounds-2023-2024")
    return [read_chainlink_feed(folder / feed.file_name, feed.stream, feed.decimals,
                                _logged(logs, RowLog(feed.stream)))
            for feed in (FEEDS["BTC/USD"], FEEDS["ETH/USD"])]


def _oracle_period() -> Scenario:
    start_ns, end_ns = iso_to_ns("2023-04-06"), iso_to_ns("2024-01-29 20:00")
    return Scenario(
        name="btc-oracle-2023-2024",
        description="Chainlink BTC/USD and ETH/USD rounds beside Binance BTC/USDT 2-hour candles and BTCUSDT "
                    "funding, 2023-04-06 to 2024-01-29 UTC.",
        underlying="BTC",
        start_ns=start_ns,
        end_ns=end_ns,
        streams={"chainlink: BTC/USD": FEEDS["BTC/USD"].stream,
                 "chainlink: ETH/USD": FEEDS["ETH/USD"].stream,
                 "binance spot: BTC/USDT": BINANCE_SPOT_BTC,
                 "binance usd-m: BTCUSDT funding": BINANCE_PERP_BTC},
        datasets=("chainlink-rounds-2023-2024", "btc-binance-bitstamp-2h-1d-hsbc",
                  "binance-funding-pierre-cheneau"),
        dvol_file="btc_dvol.csv",
        _open=_with_extra(_candles(_binance_2h_bars, BINANCE_SPOT_BTC, 2 * NS_PER_HOUR,
                                             _pierre_btc_rates, start_ns, end_ns),
                          _chainlink_streams),
    )


def _option_streams(logs: list[RowLog]) -> list[Iterator[MarketEvent]]:
    path = dataset_path("deribit-option-trades-btc-28jun24-70000c") / "BTC-28JUN24-70000-C.csv"
    return [read_deribit_option_trades(path, DERIBIT_OPTION, _logged(logs, RowLog(DERIBIT_OPTION)))]


def _option_trades() -> Scenario:
    start_ns, end_ns = iso_to_ns("2024-04-06"), iso_to_ns("2024-05-23")
    return Scenario(
        name="deribit-btc-28jun24-70000c",
        description="Every trade of the Deribit BTC-28JUN24-70000-C call (with its IV) beside "
                    "Binance BTC/USDT 2-hour candles and BTCUSDT funding, 2024-04-06 to 2024-05-22 UTC.",
        underlying="BTC",
        start_ns=start_ns,
        end_ns=end_ns,
        streams={"deribit: BTC-28JUN24-70000-C": DERIBIT_OPTION,
                 "binance spot: BTC/USDT": BINANCE_SPOT_BTC,
                 "binance usd-m: BTCUSDT funding": BINANCE_PERP_BTC},
        datasets=("deribit-option-trades-btc-28jun24-70000c", "btc-binance-bitstamp-2h-1d-hsbc",
                  "binance-funding-pierre-cheneau"),
        dvol_file="btc_dvol.csv",
        _open=_with_extra(_candles(_binance_2h_bars, BINANCE_SPOT_BTC, 2 * NS_PER_HOUR,
                                             _pierre_btc_rates, start_ns, end_ns),
                          _option_streams),
    )


def _binance_2h_history() -> Scenario:
    start_ns, end_ns = iso_to_ns("2017-08-17"), iso_to_ns("2025-08-26 12:00")
    return Scenario(
        name="binance-2h-2017-2025",
        description="Binance BTC/USDT 2-hour candles from listing to 2025-08-26, with BTCUSDT "
                    "perpetual funding (CCXT history, from 2019-09-10) marked at the replayed spot price.",
        underlying="BTC",
        start_ns=start_ns,
        end_ns=end_ns,
        streams={"binance spot: BTC/USDT": BINANCE_SPOT_BTC,
                 "binance usd-m: BTCUSDT funding": BINANCE_PERP_BTC},
        datasets=("btc-binance-bitstamp-2h-1d-hsbc",),
        dvol_file="btc_dvol.csv",
        _open=_candles(_binance_2h_bars, BINANCE_SPOT_BTC, 2 * NS_PER_HOUR,
                                 lambda log: read_ccxt_funding_rates(_hsbc("funding_rate_BTCUSDT.csv"), log),
                                 start_ns, end_ns),
    )


def _bitstamp_2h_history() -> Scenario:
    start_ns, end_ns = iso_to_ns("2011-08-18"), iso_to_ns("2025-08-26 14:00")
    return Scenario(
        name="bitstamp-2h-2011-2025",
        description="Bitstamp BTC/USD 2-hour candles, 2011-08-18 to 2025-08-26 (bars with no volume "
                    "are skipped).",
        underlying="BTC",
        start_ns=start_ns,
        end_ns=end_ns,
        streams={"bitstamp: BTC/USD": BITSTAMP_BTC},
        datasets=("btc-binance-bitstamp-2h-1d-hsbc",),
        dvol_file="btc_dvol.csv",
        _open=_candles(lambda log: read_ccxt_ohlcv(_hsbc("BTC_USD_2h.csv.gz"), 2 * NS_PER_HOUR, log),
                                 BITSTAMP_BTC, 2 * NS_PER_HOUR, None, start_ns, end_ns),
    )


SCENARIOS: dict[str, Scenario] = {
    scenario.name: scenario
    for scenario in (
        *(_crash_day(day) for day in CRASH_DAYS),
        _gemini_selloff(),
        _gemini_month(),
        _l2_capture(),
        _oracle_period(),
        _option_trades(),
        _binance_2h_history(),
        _bitstamp_2h_history(),
    )
}
"""Every named scenario; building it reads no data."""


def scenario(name: str) -> Scenario:
    """Return the scenario called ``name``.

    Raises
    ------
    ConfigError
        If there is none, naming the closest names and listing all.

    >>> scenario("binance-crash-2020-03-12").streams["binance spot: BTCUSDT"]
    'BTCUSDT.BINANCE'
    >>> scenario("binance-crash-2020-03-21")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    hedgekeeper.errors.ConfigError: unknown replay scenario 'binance-crash-2020-03-21';
    closest: binance-crash-2020-03-13, binance-crash-2020-03-12, ... (all: ...)
    """
    found = SCENARIOS.get(name)
    if found is None:
        closest = difflib.get_close_matches(name, SCENARIOS, n=3, cutoff=0.0)
        raise ConfigError(f"unknown replay scenario {name!r}; closest: {', '.join(closest)} "
                          f"(all: {', '.join(sorted(SCENARIOS))})")
    return found

"""Replay recorded Deribit data: the DVOL implied-volatility index and one option's trades.

DVOL (``deribit-dvol-daily``): daily OHLC of Deribit's 30-day implied
volatility index, in percent, newest first. ``load_dvol`` returns it as a
``StepSeries`` of annualised decimals stamped at the **end** of each UTC day
(the close is known only then), so a replayed backtest reading it at any time
sees no future value.

Option trades (``deribit-option-trades-btc-28jun24-70000c``): every trade of
BTC-28JUN24-70000-C, unordered in the file, with the premium and mark in BTC,
the trade's IV in percent and the BTC index in USD. Each trade becomes, at its
time, two events:

- an ``OptionQuote``: ``mark_vol`` is **the trade's IV** as Deribit reports it
  (the file has no mark IV), bid and ask vols NaN (it has no book), and
  ``forward_usd`` the **index** price (it has no futures price; inverting the
  trade prices on the index instead of Deribit's forward gives IVs about 3 vol
  points higher in this window, the basis);
- a ``Trade``: ``price_usd`` is the premium in USD per option on one BTC
  (``price`` BTC times the index), ``size_coin`` the ``amount`` in BTC of
  underlying, ``aggressor`` +1 for a ``buy`` taker, -1 for a ``sell``.

Block trades, combo legs and liquidations are kept: they are trades.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from pathlib import Path

from hedgekeeper.errors import BadData
from hedgekeeper.market.events import MarketEvent, OptionQuote, Trade
from hedgekeeper.market.replay.reading import RowLog, csv_records
from hedgekeeper.market.replay.series import StepSeries
from hedgekeeper.market.replay.timestamps import NS_PER_DAY, iso_to_ns


def _positive(text: str, name: str) -> float:
    value = float(text)
    if not (math.isfinite(value) and value > 0.0):
        raise BadData(f"{name} {text!r} is not a positive finite number")
    return value


# deribit-dvol-daily/SOURCE.md; btc_dvol.csv (newest first; levels in percent, annualised):
#   date,symbol,open,high,low,close
#   2026-04-06,BTC,47.53,47.76,47.45,47.76
# Docs: https://docs.deribit.com/#public-get_volatility_index_data
def parse_dvol_row(row: Mapping[str, str]) -> tuple[int, float]:
    """Return a DVOL row as ``(ts_ns, vol)``: the end of its UTC day and its close as a decimal.

    >>> parse_dvol_row({"date": "2026-04-05", "symbol": "BTC", "open": "47.37", "high": "48.66",
    ...                 "low": "47.03", "close": "47.53"})
    (1775433600000000000, 0.4753)
    """
    return iso_to_ns(row["date"]) + NS_PER_DAY, _positive(row["close"], "DVOL close") / 100.0


def load_dvol(path: Path, log: RowLog | None = None) -> StepSeries:
    """Return a DVOL file as a ``StepSeries`` of annualised decimal vols at each day's end, oldest first.

    ``series.ts_ns`` and ``series.values`` are the arrays; ``series.value_at(ts_ns)``
    is the latest close known at ``ts_ns``. A repeated date keeps its last row.
    """
    log = RowLog(str(path)) if log is None else log
    return StepSeries.from_points(sorted(csv_records(path, parse_dvol_row, log)))


# deribit-option-trades-btc-28jun24-70000c/SOURCE.md; BTC-28JUN24-70000-C.csv (trimmed; price and
# mark in BTC, iv in %):
#   ,trade_seq,trade_id,timestamp,tick_direction,price,mark_price,iv,instrument_name,index_price,direction,
#   contracts,amount,...
#   102,6095,302646300,2024-05-22 21:46:38.512,0,0.0725,0.07289794,55.55,BTC-28JUN24-70000-C,69392.76,sell,
#   0.3,0.3,...
# Docs: https://docs.deribit.com/#public-get_last_trades_by_instrument_and_time
def parse_deribit_option_trade_row(row: Mapping[str, str], stream: str) -> tuple[int, OptionQuote, Trade]:
    """Return a trade row as ``(trade_seq, quote, trade)`` in our units (see the module docstring).

    Raises
    ------
    BadData
        If a price, IV, index or amount is not positive, or the direction is not buy or sell.

    >>> sequence, quote, trade = parse_deribit_option_trade_row({"trade_seq": "6095",
    ...     "timestamp": "2024-05-22 21:46:38.512", "price": "0.0725", "iv": "55.55",
    ...     "index_price": "69392.76", "direction": "sell", "amount": "0.3"}, "BTC-28JUN24-70000-C.DERIBIT")
    >>> sequence, quote.mark_vol, quote.forward_usd, round(trade.price_usd, 4), trade.aggressor
    (6095, 0.5555, 69392.76, 5030.9751, -1)
    """
    ts_ns = iso_to_ns(row["timestamp"])
    index_usd = _positive(row["index_price"], "index price")
    direction = {"buy": 1, "sell": -1}.get(row["direction"])
    if direction is None:
        raise BadData(f"direction {row['direction']!r} is not buy or sell")
    quote = OptionQuote(ts_ns, stream, math.nan, math.nan, _positive(row["iv"], "iv") / 100.0, index_usd)
    premium_usd = _positive(row["price"], "price") * index_usd
    trade = Trade(ts_ns, stream, premium_usd, _positive(row["amount"], "amount"), direction)
    return int(row["trade_seq"]), quote, trade


def read_deribit_option_trades(path: Path, stream: str, log: RowLog | None = None) -> Iterator[MarketEvent]:
    """Yield each trade's quote, then its trade, by time and trade sequence (the file is held whole)."""
    log = RowLog(str(path)) if log is None else log
    trades = csv_records(path, lambda row: parse_deribit_option_trade_row(row, stream), log)
    for _, quote, trade in sorted(trades, key=lambda parsed: (parsed[2].ts_ns, parsed[0])):
        yield quote
        yield trade

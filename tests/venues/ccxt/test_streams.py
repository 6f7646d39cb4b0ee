"""Websocket streams through ccxt.pro, end to end against recorded frames on a local websocket.

The frames are in each venue's documented format: Deribit's (docs.deribit.com, API v2:
``book.{instrument_name}.{interval}`` snapshot then change notifications,
``trades.{instrument_name}.{interval}``, ``user.trades.any.any.raw`` after ``public/auth``)
and, for our fills, Binance USD-M's user-data stream (a listen key by REST, then
``ORDER_TRADE_UPDATE`` events), OKX's private websocket (``login``, then the ``orders``
channel, whose ``fillFee`` is negative when paid) and Bybit's (``auth``, then the
``execution`` topic, where funding is an execution too). Independent truths: Deribit's BTC
perpetual amounts are USD of face, so a level of 50,000 USD at 104,000 USD per BTC is
50,000 / 104,000 coin; a change replaces a level's amount or deletes it; a fee is the
venue's rate times the traded notional; the login signatures are the venues' documented HMACs.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
from decimal import Decimal
from typing import Any

import pytest
from venues.ccxt.recorded_exchange import RecordedExchange, fixture
from venues.ccxt.recorded_venues import (
    BINANCE_LISTEN_KEY,
    BINANCE_USER_DATA,
    BYBIT_PRIVATE_WS,
    DERIBIT_WS,
    OKX_PRIVATE_WS,
    RecordedBinance,
    RecordedBybit,
    RecordedDeribit,
    RecordedOkx,
    binance_user_data,
    bybit_private_websocket,
    deribit_websocket,
    okx_private_websocket,
)
from venues.ccxt.venue_builders import ENVIRONMENT, config_for

from hedgekeeper.errors import ConfigError, VenueRejected
from hedgekeeper.market.events import BookUpdate, OptionQuote, Trade
from hedgekeeper.portfolio.values import Money
from hedgekeeper.venues.orders import Fill, Liquidity, Side
from hedgekeeper.venues.ccxt.venue import create_ccxt_venue

PERPETUAL = "BTC-PERPETUAL.DERIBIT"
CALL = "BTC-27JUN25-110000-C.DERIBIT"


def flat(levels: Any) -> list[float]:
    """Return ``((price, size), ...)`` as one list, for ``pytest.approx``."""
    return [number for level in levels for number in level]
async def _collect(stream_of: str, count: int, instrument_id: str = PERPETUAL) -> tuple[RecordedExchange, list[Any]]:
    async with RecordedExchange(RecordedDeribit().routes(), {DERIBIT_WS: deribit_websocket}) as exchange:
        config = config_for("deribit", [instrument_id.removesuffix(".DERIBIT")])
        venue = create_ccxt_venue(config, ENVIRONMENT, exchange.session)
        try:
            stream = getattr(venue, f"{stream_of}_stream")(instrument_id)
            events = []
            async for event in stream:
                events.append(event)
                if len(events) == count:
                    break
            await stream.aclose()
            return exchange, events
        finally:
            await venue.close()


def test_deribit_book_stream_turns_usd_amounts_into_coin_and_applies_the_changes() -> None:
    exchange, (first, second) = asyncio.run(asyncio.wait_for(_collect("book", 2), timeout=20))
    (subscribe,) = [call for call in exchange.calls if call.method == "WS" and call.params.get("method") ==
                    "public/subscribe"]
    assert subscribe.params["params"]["channels"] == ["book.BTC-PERPETUAL.100ms"]
    assert isinstance(first, BookUpdate) and first.is_snapshot and first.stream == PERPETUAL
    assert first.ts_ns == 1_750_000_001_000_000_000
    assert flat(first.bids) == pytest.approx(flat((
        (104_000.0, 50_000 / 104_000.0), (103_999.5, 12_000 / 103_999.5), (103_998.0, 8_000 / 103_998.0))))
    assert flat(first.asks) == pytest.approx(flat((
        (104_000.5, 30_000 / 104_000.5), (104_001.0, 20_000 / 104_001.0), (104_003.5, 100_000 / 104_003.5))))
    assert second.ts_ns == 1_750_000_001_100_000_000
    assert flat(second.bids) == pytest.approx(flat((
        (104_000.0, 41_600 / 104_000.0), (103_999.5, 12_000 / 103_999.5))))
    assert flat(second.asks) == pytest.approx(flat((
        (104_001.0, 20_000 / 104_001.0), (104_002.0, 5_200 / 104_002.0), (104_003.5, 100_000 / 104_003.5))))


def test_deribit_trade_stream_yields_each_trade_once_with_its_aggressor_and_coin_size() -> None:
    _, trades = asyncio.run(asyncio.wait_for(_collect("trade", 2), timeout=20))
    assert all(isinstance(trade, Trade) and trade.stream == PERPETUAL for trade in trades)
    assert [(t.ts_ns, t.price_usd, t.aggressor) for t in trades] == [
        (1_750_000_001_050_000_000, 104_000.5, 1), (1_750_000_001_060_000_000, 104_000.0, -1)]
    assert [t.size_coin for t in trades] == pytest.approx([30_000 / 104_000.5, 8_400 / 104_000.0])


def test_deribit_mark_stream_reads_the_options_implied_vols_in_percent_as_decimals() -> None:
    exchange, [quote] = asyncio.run(asyncio.wait_for(_collect("mark", 1, CALL), timeout=20))
    (subscribe,) = [call for call in exchange.calls if call.method == "WS" and call.params.get("method") ==
                    "public/subscribe"]
    assert subscribe.params["params"]["channels"] == ["ticker.BTC-27JUN25-110000-C.100ms"]
    assert isinstance(quote, OptionQuote) and quote.stream == CALL and quote.ts_ns == 1_750_000_001_200_000_000
    assert (quote.bid_vol, quote.ask_vol, quote.mark_vol) == pytest.approx((0.513, 0.534, 0.521))
    assert quote.forward_usd == 104_050.0  # the option's underlying, the June future, not the index


@pytest.mark.parametrize(("exchange_id", "market_id", "error"), [
    ("deribit", "BTC-PERPETUAL", ConfigError), ("binanceusdm", "BTCUSDT", VenueRejected)])
def test_a_mark_stream_is_refused_for_a_non_option_or_a_venue_without_marks(exchange_id: str, market_id: str,
                                                                           error: type) -> None:
    async def first() -> Any:
        routes = RecordedDeribit().routes() if exchange_id == "deribit" else {}
        async with RecordedExchange(routes) as exchange:
            venue = create_ccxt_venue(config_for(exchange_id, [market_id]), ENVIRONMENT, exchange.session)
            try:
                return await anext(venue.mark_stream(f"{market_id}.{venue.name.upper()}"))
            finally:
                await venue.close()

    with pytest.raises(error, match="not an option|offers no mark_stream"):
        asyncio.run(asyncio.wait_for(first(), timeout=20))


def collect_fills(exchange: RecordedExchange, exchange_id: str, market_ids: list[str], count: int) -> list[Fill]:
    """Return the first ``count`` fills of a venue configured with ``market_ids`` on ``exchange``."""
    async def collect() -> list[Fill]:
        async with exchange:
            venue = create_ccxt_venue(config_for(exchange_id, market_ids), ENVIRONMENT, exchange.session)
            try:
                stream = venue.fill_stream()
                fills = [await anext(stream) for _ in range(count)]
                await stream.aclose()
                return fills
            finally:
                await venue.close()

    return asyncio.run(asyncio.wait_for(collect(), timeout=20))


def test_deribit_fill_stream_authenticates_and_yields_each_of_our_fills_once_in_the_configured_markets() -> None:
    exchange = RecordedExchange(RecordedDeribit().routes(), {DERIBIT_WS: deribit_websocket})
    fills = collect_fills(exchange, "deribit", ["BTC-PERPETUAL"], 2)
    sent = [call.params for call in exchange.calls if call.method == "WS"]
    assert [m["method"] for m in sent[:2]] == ["public/auth", "private/subscribe"]
    assert sent[0]["params"]["client_id"] == ENVIRONMENT["HK_TEST_KEY"]  # signed with the key, never the secret
    assert ENVIRONMENT["HK_TEST_SECRET"] not in str(sent)
    assert sent[1]["params"]["channels"] == ["user.trades.any.any.raw"]
    # the ETH trade is outside the configured markets; the repeated BTC trade comes once
    first, second = fills
    assert (first.fill_id, first.client_order_id, first.venue_order_id) == ("315235790", "hk-0007", "31523569100")
    assert (first.instrument_id, first.side, first.liquidity.value) == (PERPETUAL, Side.BUY, "taker")
    assert first.quantity.value == Decimal(4)  # 40 USD of face in 10 USD contracts
    assert (first.price.value, first.fee.amount, first.fee.currency) == (Decimal("104002.5"), Decimal("1.92E-7"), "BTC")
    assert first.ts_ns == 1_750_000_007_100_000_000
    assert (second.fill_id, second.quantity.value, second.liquidity.value) == ("315235811", Decimal(1), "maker")


def test_binance_fill_stream_opens_the_user_data_stream_of_its_listen_key_and_reads_order_trade_updates() -> None:
    exchange = RecordedExchange(RecordedBinance().routes(), ws_openings={BINANCE_USER_DATA: binance_user_data})
    fills = collect_fills(exchange, "binanceusdm", ["BTCUSDT"], 2)
    (listen_key,) = exchange.calls_to("POST", BINANCE_LISTEN_KEY)
    assert listen_key.headers["X-MBX-APIKEY"] == ENVIRONMENT["HK_TEST_KEY"]
    (user_data,) = exchange.calls_to("GET", BINANCE_USER_DATA)
    assert user_data.params["listenKey"] == fixture("binanceusdm", "listen_key")["listenKey"]
    assert ENVIRONMENT["HK_TEST_SECRET"] not in str([(call.params, call.headers) for call in exchange.calls])
    # the NEW event is no trade, ETHUSDT is outside the configured markets, the repeated trade comes once
    first, second = fills
    assert (first.fill_id, first.client_order_id, first.venue_order_id) == (
        "5832601601", "hk-0002", "4611875134427380001")  # "c" of the event: an order this venue never saw
    assert (first.instrument_id, first.side, first.liquidity) == ("BTCUSDT.BINANCE", Side.BUY, Liquidity.TAKER)
    assert (first.quantity.value, first.price.value) == (Decimal("0.003"), Decimal(104_008))  # 1 BTC contracts
    assert first.fee == Money(Decimal("0.156012"), "USDT")  # 0.05% of 0.003 x 104,008
    assert first.ts_ns == 1_750_000_008_100_000_000
    assert (second.fill_id, second.client_order_id, second.liquidity) == ("5832601655", "hk-0002", Liquidity.MAKER)
    assert (second.quantity.value, second.price.value, second.fee) == (
        Decimal("0.002"), Decimal("104010.5"), Money(Decimal("0.0416042"), "USDT"))  # 0.02% of 0.002 x 104,010.5
    assert second.ts_ns == 1_750_000_009_200_000_000


def test_okx_fill_stream_logs_in_reads_the_orders_channel_and_counts_okx_negative_fees_as_paid() -> None:
    exchange = RecordedExchange(RecordedOkx().routes(), {OKX_PRIVATE_WS: okx_private_websocket})
    fills = collect_fills(exchange, "okx", ["BTC-USDT-SWAP"], 2)
    sent = [call.params for call in exchange.calls if call.method == "WS"]
    assert [m["op"] for m in sent[:2]] == ["login", "subscribe"]
    (login,) = sent[0]["args"]
    assert (login["apiKey"], login["passphrase"]) == (
        ENVIRONMENT["HK_TEST_KEY"], ENVIRONMENT["HK_TEST_PASSPHRASE"])  # OKX logs in with its passphrase
    prehash = f"{login['timestamp']}GET/users/self/verify"
    signed = hmac.new(ENVIRONMENT["HK_TEST_SECRET"].encode(), prehash.encode(), hashlib.sha256).digest()
    assert login["sign"] == base64.b64encode(signed).decode()  # OKX's documented login signature
    assert ENVIRONMENT["HK_TEST_SECRET"] not in str(sent)
    assert sent[1]["args"] == [{"channel": "orders", "instType": "ANY"}]
    # the live push has no trade, BTC-USD-SWAP is outside the configured markets, the repeated trade comes once
    first, second = fills
    assert (first.fill_id, first.client_order_id, first.venue_order_id) == (
        "1419201", "hk0002", "2510789768721000")
    assert (first.instrument_id, first.side, first.liquidity) == (
        "BTC-USDT-SWAP.OKX", Side.BUY, Liquidity.TAKER)
    assert (first.quantity.value, first.price.value) == (Decimal(3), Decimal(104_008))  # contracts of 0.01 BTC
    assert first.fee == Money(Decimal("1.56012"), "USDT")  # fillFee -1.56012: 0.05% of 0.03 x 104,008
    assert first.ts_ns == 1_750_000_008_100_000_000
    assert (second.fill_id, second.client_order_id, second.liquidity) == ("1419260", "hk0002", Liquidity.MAKER)
    assert (second.quantity.value, second.price.value, second.fee) == (
        Decimal(2), Decimal("104010.5"), Money(Decimal("0.416042"), "USDT"))  # 0.02% of 0.02 x 104,010.5
    assert second.ts_ns == 1_750_000_009_200_000_000


def test_bybit_fill_stream_authenticates_and_reads_the_execution_topic_trades_only() -> None:
    exchange = RecordedExchange(RecordedBybit().routes(), {BYBIT_PRIVATE_WS: bybit_private_websocket})
    fills = collect_fills(exchange, "bybit", ["BTCUSDT"], 2)
    sent = [call.params for call in exchange.calls if call.method == "WS"]
    assert [m["op"] for m in sent[:2]] == ["auth", "subscribe"]
    key, expires, signature = sent[0]["args"]
    assert key == ENVIRONMENT["HK_TEST_KEY"]
    signed = hmac.new(ENVIRONMENT["HK_TEST_SECRET"].encode(), f"GET/realtime{expires}".encode(), hashlib.sha256)
    assert signature == signed.hexdigest()  # Bybit's documented auth signature
    assert ENVIRONMENT["HK_TEST_SECRET"] not in str(sent)
    assert sent[1]["args"] == ["execution"]
    # ETHUSDT is outside the configured markets, a funding execution is no fill, the repeated trade comes once
    first, second = fills
    assert (first.fill_id, first.client_order_id, first.venue_order_id) == (
        "b1d4c2a0-5f3e-5a7b-9c1d-2e8f4a6b7c90", "hk-0002", "1321003749386340001")
    assert (first.instrument_id, first.side, first.liquidity) == ("BTCUSDT.BYBIT", Side.BUY, Liquidity.TAKER)
    assert (first.quantity.value, first.price.value) == (Decimal("0.003"), Decimal(104_008))  # 1 BTC contracts
    assert first.fee == Money(Decimal("0.1716132"), "USDT")  # 0.055% of 0.003 x 104,008
    assert first.ts_ns == 1_750_000_008_100_000_000
    assert (second.fill_id, second.client_order_id, second.liquidity) == (
        "9a3f6c15-7e28-5d4b-a1c9-3b7e0f2d8a46", "hk-0002", Liquidity.MAKER)
    assert (second.quantity.value, second.price.value, second.fee) == (
        Decimal("0.002"), Decimal("104010.5"), Money(Decimal("0.0416042"), "USDT"))  # 0.02% of 0.002 x 104,010.5
    assert second.ts_ns == 1_750_000_009_200_000_000

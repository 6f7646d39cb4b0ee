"""A Deribit account on Deribit's recorded REST answers and websocket frames, and the service document that trades it.

``LiveDeribit`` answers an account that starts flat and whose immediate-or-cancel
orders find nothing; ``FillingDeribit`` fills every order at once at the recorded
book's best ask, lists the trade by REST and pushes it on the account's ``user.trades``
subscription. ``live_document`` is the example service made to hedge short Deribit
calls with the perpetual on Deribit's own market (``[live]``).
"""

from __future__ import annotations

import copy
import datetime as dt
import threading
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from service.service_builders import service_document
from venues.ccxt.recorded_exchange import Call, Reply, fixture, static
from venues.ccxt.recorded_venues import DERIBIT_API, deribit_websocket

PERPETUAL = "BTC-PERPETUAL.DERIBIT"
CALL = "BTC-27JUN25-110000-C.DERIBIT"
TRADES_PATHS = ("private/get_user_trades_by_instrument", "private/get_user_trades_by_instrument_and_time")
"""Deribit's REST calls that list an account's trades (what a REST asking for fills sends)."""
BEST_ASK_USD = 104_001.0
"""The recorded book's best ask, once its change has deleted the first (what a buy of a few lots takes)."""
TAKER_FEE = 0.0005
"""Deribit's taker fee on the perpetual, a fraction of the notional, paid in BTC."""


class LiveDeribit:
    """Deribit's recorded answers for an account that starts flat: orders are echoed back as IOC children.

    An order is answered as the venue answers an immediate-or-cancel order that found
    nothing at its price: cancelled, unfilled, with what was sent (label, amount, price).
    """

    def __init__(self) -> None:
        self.orders: dict[str, dict[str, Any]] = {}

    def order(self, call: Call) -> Reply:
        recorded = copy.deepcopy(fixture("deribit", "buy"))
        order = recorded["result"]["order"]
        order.update(label=call.params["label"], amount=float(call.params["amount"]),
                     price=float(call.params["price"]), direction=call.path.rsplit("/", 1)[1],
                     time_in_force=call.params.get("time_in_force", "good_til_cancelled"),
                     order_state="cancelled", order_id=str(31_523_568_200 + len(self.orders)))
        self.orders[order["label"]] = order
        return Reply(recorded)

    def by_label(self, call: Call) -> Reply:
        known = self.orders.get(call.params["label"])
        answer = fixture("deribit", "get_order_state_by_label_none")
        answer["result"] = [] if known is None else [known]
        return Reply(answer)

    def routes(self) -> dict[tuple[str, str], Any]:
        none = {"jsonrpc": "2.0", "result": [], "usIn": 0, "usOut": 0, "usDiff": 0, "testnet": False}
        return {
            ("GET", DERIBIT_API + "public/get_currencies"): static("deribit", "get_currencies"),
            ("GET", DERIBIT_API + "public/get_instruments"): static("deribit", "get_instruments"),
            ("GET", DERIBIT_API + "private/buy"): self.order,
            ("GET", DERIBIT_API + "private/sell"): self.order,
            ("GET", DERIBIT_API + "private/get_order_state_by_label"): self.by_label,
            ("GET", DERIBIT_API + "private/get_open_orders_by_instrument"):
                static("deribit", "get_open_orders_by_instrument_none"),
            **{("GET", DERIBIT_API + path): static("deribit", "get_user_trades_by_instrument_and_time_none")
               for path in TRADES_PATHS},
            ("GET", DERIBIT_API + "private/get_positions"): lambda call: Reply(none),
            ("GET", DERIBIT_API + "private/get_account_summaries"): static("deribit", "get_account_summaries"),
        }


def live_document(folder: Path) -> dict[str, Any]:
    """Return the example service made to hedge short Deribit calls with the perpetual, on Deribit's market.

    The recorded market is from June 2025 and the call expired then: the book's copy of it
    expires half a year after today's clock instead, so that it is alive when the engine runs.
    """
    document = service_document(folder, speed=1.0, width=0.5, slices=1)
    del document["simulation"]
    document["live"] = {"reconnect_s": 0.2, "streams": [
        {"exchange": "deribit", "market_id": "BTC-PERPETUAL", "trades": True},
        {"exchange": "deribit", "market_id": "BTC-27JUN25-110000-C", "book": False, "marks": True}]}
    document["instruments"] = [
        {"id": PERPETUAL, "venue": "deribit", "kind": "perpetual", "settlement": "inverse", "underlying": "BTC",
         "settlement_currency": "BTC", "contract_size": "10", "tick_size": "0.5", "lot_size": "1", "min_size": "1"},
        {"id": CALL, "venue": "deribit", "kind": "option", "settlement": "inverse", "underlying": "BTC",
         "settlement_currency": "BTC", "contract_size": "1", "tick_size": "0.0001", "lot_size": "0.1",
         "min_size": "0.1", "strike_usd": 110_000, "option_type": "call",
         "expiry": dt.datetime.now(dt.UTC) + dt.timedelta(days=180)}]
    document["positions"] = [{"instrument": CALL, "size_contracts": -25.0}]
    document["balances"] = [{"venue": "deribit", "currency": "BTC", "amount": "5"},  # coin: 5 of delta
                            {"venue": "deribit", "currency": "USDC", "amount": "1500000"}]
    document["hedging"]["underlyings"]["BTC"] = {"spot_stream": PERPETUAL, "instruments": [{"instrument_id": PERPETUAL}]}
    document["fees"]["venues"] = {"deribit": {"taker": 0.0005, "maker": 0.0}}
    document["engine"]["max_event_delay_s"] = 1e9  # the recorded frames are from June 2025
    document["api"]["enabled"] = False
    document["exchange"] = {"kind": "ccxt", "ccxt": [{"venue": {
        "exchange": "deribit", "sandbox": False, "market_ids": ["BTC-PERPETUAL"], "api_key_env": "HK_TEST_KEY",
        "api_secret_env": "HK_TEST_SECRET", "request_timeout_s": 5.0, "max_retries": 1,
        "backoff_initial_s": 0.05, "backoff_max_s": 0.1, "rate_limit": False}}]}
    return document



class FillingDeribit(LiveDeribit):
    """Deribit's recorded answers, with every order filled at once at the best ask and its trade pushed."""

    def __init__(self) -> None:
        super().__init__()
        self.trades: list[dict[str, Any]] = []
        self.closed = threading.Event()

    def order(self, call: Call) -> Reply:
        reply = super().order(call)
        order = reply.payload["result"]["order"]
        order.update(order_state="filled", filled_amount=order["amount"], average_price=BEST_ASK_USD)
        timestamp_ms = time.time_ns() // 1_000_000 + 1  # never before the order was made
        self.trades.append({
            "trade_id": str(315_300_000 + len(self.trades)), "trade_seq": 219_600_000 + len(self.trades),
            "timestamp": timestamp_ms, "state": "filled", "price": BEST_ASK_USD, "amount": order["amount"],
            "direction": order["direction"], "order_id": order["order_id"], "label": order["label"],
            "order_type": "limit", "liquidity": "T", "instrument_name": "BTC-PERPETUAL", "fee_currency": "BTC",
            "fee": order["amount"] / BEST_ASK_USD * TAKER_FEE, "mark_price": BEST_ASK_USD,
            "index_price": BEST_ASK_USD, "tick_direction": 1, "self_trade": False, "reduce_only": False,
            "post_only": False, "api": True, "mmp": False, "matching_id": None, "profit_loss": 0.0,
            "risk_reducing": False})
        return reply

    def trade_history(self, call: Call) -> Reply:
        perpetual = call.params["instrument_name"] == "BTC-PERPETUAL"
        return Reply({"jsonrpc": "2.0", "result": {"trades": self.trades if perpetual else [], "has_more": False},
                      "usIn": 0, "usOut": 0, "usDiff": 0, "testnet": False})

    def routes(self) -> dict[tuple[str, str], Any]:
        return super().routes() | {("GET", DERIBIT_API + path): self.trade_history for path in TRADES_PATHS}

    def private_websocket(self, message: Mapping[str, Any]) -> Iterator[Any]:
        """Answer the account's private websocket; the ``user.trades`` subscription then brings every new trade
        (checked every 10 ms) until ``closed`` is set."""
        if message.get("method") != "private/subscribe":
            yield from deribit_websocket(message)
            return
        channels = list(message["params"]["channels"])
        yield {"jsonrpc": "2.0", "id": message.get("id"), "result": channels, "usIn": 0, "usOut": 0, "usDiff": 0,
               "testnet": False}
        pushed = 0
        while not self.closed.wait(0.01):
            if len(self.trades) > pushed:
                yield {"jsonrpc": "2.0", "method": "subscription",
                       "params": {"channel": channels[0], "data": self.trades[pushed:]}}
                pushed = len(self.trades)

"""Recorded venues: each exchange's answers from ``fixtures/<venue>/``, with the little state orders need.

An order becomes known to the lookups once created (by client id, in the state its
recording shows); creates can be refused with a recorded error, answered late
(``*_delay_s``, for timeouts) or lost before the venue sees them. Route tables are
keyed on method and path, for ``RecordedExchange``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from venues.ccxt.recorded_exchange import Call, Handler, Reply, fixture, static

DERIBIT_API = "/api/v2/"
DERIBIT_WS = "/ws/api/v2"
BINANCE_ORDER = "/fapi/v1/order"
BINANCE_LISTEN_KEY = "/fapi/v1/listenKey"
BINANCE_USER_DATA = "/private/ws"
OKX_API = "/api/v5/"
OKX_PRIVATE_WS = "/ws/v5/private"
BYBIT_API = "/v5/"
BYBIT_PRIVATE_WS = "/v5/private"
BYBIT_WORKING = {"order_realtime_partially_filled", "order_realtime_amended"}


class RecordedDeribit:
    """Deribit's answers; a label is known to ``get_order_state_by_label`` once bought."""

    def __init__(self, buy_reply: Reply | None = None, buy_delay_s: float = 0.0) -> None:
        self.labels: set[str] = set()
        self.buy_reply = buy_reply
        self.buy_delay_s = buy_delay_s

    def buy(self, call: Call) -> Reply:
        if self.buy_reply is not None:
            return self.buy_reply
        self.labels.add(call.params["label"])
        return Reply(fixture("deribit", "buy"), delay_s=self.buy_delay_s)

    def by_label(self, call: Call) -> Reply:
        known = call.params["label"] in self.labels
        return Reply(fixture("deribit", "get_order_state_by_label" if known else "get_order_state_by_label_none"))

    @staticmethod
    def open_orders(call: Call) -> Reply:
        perpetual = call.params["instrument_name"] == "BTC-PERPETUAL"
        return Reply(fixture("deribit", "get_open_orders_by_instrument" if perpetual
                             else "get_open_orders_by_instrument_none"))

    @staticmethod
    def trades(call: Call) -> Reply:
        recorded = {"BTC-PERPETUAL": "perpetual", "BTC-27JUN25-110000-C": "call"}.get(
            call.params["instrument_name"], "none")
        return Reply(fixture("deribit", f"get_user_trades_by_instrument_and_time_{recorded}"))

    def routes(self) -> dict[tuple[str, str], Handler]:
        return {
            ("GET", DERIBIT_API + "public/get_currencies"): static("deribit", "get_currencies"),
            ("GET", DERIBIT_API + "public/get_instruments"): static("deribit", "get_instruments"),
            ("GET", DERIBIT_API + "private/buy"): self.buy,
            ("GET", DERIBIT_API + "private/get_order_state_by_label"): self.by_label,
            ("GET", DERIBIT_API + "private/cancel"): static("deribit", "cancel"),
            ("GET", DERIBIT_API + "private/edit"): static("deribit", "edit"),
            ("GET", DERIBIT_API + "private/get_open_orders_by_instrument"): self.open_orders,
            ("GET", DERIBIT_API + "private/get_user_trades_by_instrument_and_time"): self.trades,
            ("GET", DERIBIT_API + "private/get_positions"): static("deribit", "get_positions"),
            ("GET", DERIBIT_API + "private/get_account_summaries"): static("deribit", "get_account_summaries"),
        }


def deribit_websocket(message: Mapping[str, Any]) -> list[Any]:
    """Answer a JSON-RPC request; a subscription is confirmed, then its recorded notifications follow."""
    reply = {"jsonrpc": "2.0", "id": message.get("id"), "usIn": 0, "usOut": 0, "usDiff": 0, "testnet": False}
    if message.get("method") == "public/auth":
        return [fixture("deribit", "ws_auth") | {"id": message.get("id")}]
    if message.get("method") not in ("public/subscribe", "private/subscribe"):
        return [reply | {"result": "ok"}]
    channels = list(message["params"]["channels"])
    notifications = []
    for channel in channels:
        if channel.startswith("book."):
            notifications += [fixture("deribit", "ws_book_snapshot"), fixture("deribit", "ws_book_change")]
        elif channel.startswith("trades."):
            notifications.append(fixture("deribit", "ws_trades"))
        elif channel.startswith("ticker."):
            notifications.append(fixture("deribit", "ws_ticker_option"))
        elif channel.startswith("user.trades."):  # a repeat of the first trade comes with the next one
            notifications += [fixture("deribit", "ws_user_trades"), fixture("deribit", "ws_user_trades_next")]
    return [reply | {"result": channels}, *notifications]


def binance_error(name: str, status: int = 400) -> Reply:
    """Return Binance's recorded error answer ``name``."""
    return Reply(fixture("binanceusdm", name), status)


def binance_user_data(query: Mapping[str, str]) -> list[Any]:
    """Open Binance USD-M's user-data stream: its recorded events, for the listen key it handed out only."""
    if query.get("listenKey") != fixture("binanceusdm", "listen_key")["listenKey"]:
        return []
    return fixture("binanceusdm", "ws_order_trade_updates")


class RecordedBinance:
    """Binance USD-M's answers; an order is known by client id once created, in state ``states[id]``."""

    def __init__(self, create_reply: Reply | None = None, create_delay_s: float = 0.0,
                 lost_creates: int = 0) -> None:
        self.states: dict[str, str] = {}
        self.create_reply = create_reply
        self.create_delay_s = create_delay_s
        self.lost_creates = lost_creates  # creates that never reach the matching engine

    def create(self, call: Call) -> Reply:
        if self.create_reply is not None:
            return self.create_reply
        if self.lost_creates > 0:
            self.lost_creates -= 1
            return Reply(fixture("binanceusdm", "order_new"), delay_s=self.create_delay_s)
        client_order_id = call.params["newClientOrderId"]
        if client_order_id in self.states:
            return binance_error("error_client_order_id_duplicated")
        self.states[client_order_id] = "order_partially_filled"
        return Reply(fixture("binanceusdm", "order_new"), delay_s=self.create_delay_s)

    def query(self, call: Call) -> Reply:
        state = self.states.get(call.params["origClientOrderId"])
        return binance_error("error_order_does_not_exist") if state is None else Reply(fixture("binanceusdm", state))

    def cancel(self, call: Call) -> Reply:
        if "order_filled" in self.states.values():
            return binance_error("error_unknown_order")
        return Reply(fixture("binanceusdm", "order_canceled"))

    @staticmethod
    def user_trades(call: Call) -> Reply:
        # the venue's time filter, which ccxt's backward pagination relies on
        trades = fixture("binanceusdm", "user_trades") if call.params["symbol"] == "BTCUSDT" else []
        start_ms, end_ms = int(call.params.get("startTime", 0)), int(call.params.get("endTime", 2**62))
        return Reply([trade for trade in trades if start_ms <= trade["time"] <= end_ms])

    def routes(self) -> dict[tuple[str, str], Handler]:
        return {
            ("GET", "/fapi/v1/exchangeInfo"): static("binanceusdm", "exchange_info"),
            ("POST", BINANCE_ORDER): self.create,
            ("GET", BINANCE_ORDER): self.query,
            ("DELETE", BINANCE_ORDER): self.cancel,
            ("PUT", BINANCE_ORDER): static("binanceusdm", "order_modified"),
            ("GET", "/fapi/v1/openOrders"): lambda call: Reply(
                fixture("binanceusdm", "open_orders") if call.params["symbol"] == "BTCUSDT" else []),
            ("GET", "/fapi/v1/userTrades"): self.user_trades,
            ("GET", "/fapi/v1/leverageBracket"): static("binanceusdm", "leverage_bracket"),
            ("GET", "/fapi/v3/positionRisk"): static("binanceusdm", "position_risk"),
            ("GET", "/fapi/v3/account"): static("binanceusdm", "account"),
            ("POST", BINANCE_LISTEN_KEY): static("binanceusdm", "listen_key"),
        }


def okx_private_websocket(message: Mapping[str, Any]) -> list[Any]:
    """Answer OKX's private websocket: a login is accepted; a subscription is confirmed argument by
    argument, then the orders channel's recorded pushes follow."""
    if message.get("op") == "login":
        return [fixture("okx", "ws_login")]
    if message.get("op") != "subscribe":
        return []
    arguments = list(message["args"])
    confirmations = [{"event": "subscribe", "arg": argument, "connId": "a4d3ae55"}
                     for argument in arguments]
    orders = any(argument.get("channel") == "orders" for argument in arguments)
    return [*confirmations, *(fixture("okx", "ws_orders") if orders else [])]


class RecordedOkx:
    """OKX's answers; an order is known by clOrdId once placed, in state ``states[id]``."""

    def __init__(self, place_reply: Reply | None = None, place_delay_s: float = 0.0) -> None:
        self.states: dict[str, str] = {}
        self.place_reply = place_reply
        self.place_delay_s = place_delay_s

    def place(self, call: Call) -> Reply:
        if self.place_reply is not None:
            return self.place_reply
        client_order_id = call.params["clOrdId"]
        if client_order_id in self.states:
            return Reply(fixture("okx", "error_duplicated_client_order_id"))
        self.states[client_order_id] = "trade_order_partially_filled"
        return Reply(fixture("okx", "trade_order_placed"), delay_s=self.place_delay_s)

    def order(self, call: Call) -> Reply:
        state = self.states.get(call.params["clOrdId"])
        return Reply(fixture("okx", "error_order_does_not_exist" if state is None else state))

    def cancel(self, call: Call) -> Reply:
        self.states[call.params.get("clOrdId") or "hk0001"] = "trade_order_canceled"
        return Reply(fixture("okx", "trade_cancel_order"))

    def amend(self, call: Call) -> Reply:
        self.states["hk0001"] = "trade_order_amended"
        return Reply(fixture("okx", "trade_amend_order"))

    @staticmethod
    def instruments(call: Call) -> Reply:
        kind = call.params["instType"]
        recorded = {"SWAP": "swap", "FUTURES": "futures"}.get(kind)
        if kind == "OPTION" and call.params["uly"] == "BTC-USD":
            recorded = "option_btc"
        return Reply(fixture("okx", f"public_instruments_{recorded or 'none'}"))

    @staticmethod
    def per_instrument(name: str, instrument: str = "BTC-USDT-SWAP") -> Handler:
        return lambda call: Reply(fixture("okx", name if call.params.get("instId") == instrument else f"{name}_none"))

    @staticmethod
    def fills(call: Call) -> Reply:
        # the venue's time filter (begin, end on ``ts``), which ccxt's backward pagination relies on
        if call.params["instId"] != "BTC-USDT-SWAP":
            return Reply(fixture("okx", "trade_fills_history_none"))
        recorded = fixture("okx", "trade_fills_history")
        begin_ms, end_ms = int(call.params.get("begin", 0)), int(call.params.get("end", 2**62))
        recorded["data"] = [fill for fill in recorded["data"] if begin_ms <= int(fill["ts"]) <= end_ms]
        return Reply(recorded)

    def routes(self) -> dict[tuple[str, str], Handler]:
        return {
            ("GET", OKX_API + "asset/currencies"): static("okx", "asset_currencies"),
            ("GET", OKX_API + "public/instruments"): self.instruments,
            ("POST", OKX_API + "trade/order"): self.place,
            ("GET", OKX_API + "trade/order"): self.order,
            ("POST", OKX_API + "trade/cancel-order"): self.cancel,
            ("POST", OKX_API + "trade/amend-order"): self.amend,
            ("GET", OKX_API + "trade/orders-pending"): self.per_instrument("trade_orders_pending"),
            ("GET", OKX_API + "trade/fills-history"): self.fills,
            ("GET", OKX_API + "account/positions"): static("okx", "account_positions"),
            ("GET", OKX_API + "account/balance"): static("okx", "account_balance"),
        }


def bybit_private_websocket(message: Mapping[str, Any]) -> list[Any]:
    """Answer Bybit's private websocket: an ``auth`` is accepted; a subscription is confirmed, then the
    execution topic's recorded messages follow."""
    if message.get("op") == "auth":
        return [fixture("bybit", "ws_auth")]
    if message.get("op") != "subscribe":
        return []
    confirmation = {"success": True, "ret_msg": "", "conn_id": "cejreaspqfh3sjdnldmg-p",
                    "req_id": message.get("req_id"), "op": "subscribe"}
    return [confirmation, *(fixture("bybit", "ws_execution") if "execution" in message["args"] else [])]


class RecordedBybit:
    """Bybit's answers; an order is known by orderLinkId once created, in state ``states[id]``."""

    def __init__(self, create_reply: Reply | None = None, create_delay_s: float = 0.0) -> None:
        self.states: dict[str, str] = {}
        self.create_reply = create_reply
        self.create_delay_s = create_delay_s

    @staticmethod
    def instruments(call: Call) -> Reply:
        category = call.params["category"]
        recorded = category if category in ("linear", "inverse") and "status" not in call.params else "none"
        if category == "option" and call.params["baseCoin"] == "BTC":
            recorded = "option_btc"
        return Reply(fixture("bybit", f"instruments_info_{recorded}"))

    def create(self, call: Call) -> Reply:
        if self.create_reply is not None:
            return self.create_reply
        if call.params["orderLinkId"] in self.states:
            return Reply(fixture("bybit", "error_order_link_id_duplicate"))
        self.states[call.params["orderLinkId"]] = "order_realtime_partially_filled"
        return Reply(fixture("bybit", "order_create"), delay_s=self.create_delay_s)

    def realtime(self, call: Call) -> Reply:
        if "orderLinkId" in call.params:
            state = self.states.get(call.params["orderLinkId"])
            return Reply(fixture("bybit", state if state in BYBIT_WORKING else "order_list_none"))
        return Reply(fixture("bybit", "order_realtime_open" if call.params["symbol"] == "BTCUSDT"
                             else "order_list_none"))

    def history(self, call: Call) -> Reply:
        state = self.states.get(call.params.get("orderLinkId", ""))
        return Reply(fixture("bybit", state if state == "order_history_cancelled" else "order_list_none"))

    def cancel(self, call: Call) -> Reply:
        self.states["hk-0001"] = "order_history_cancelled"
        return Reply(fixture("bybit", "order_cancel"))

    def amend(self, call: Call) -> Reply:
        self.states["hk-0001"] = "order_realtime_amended"
        return Reply(fixture("bybit", "order_amend"))

    @staticmethod
    def by_symbol(name: str, recorded: dict[str, str]) -> Handler:
        return lambda call: Reply(fixture("bybit", f"{name}_{recorded.get(call.params.get('symbol'), 'none')}"))

    def routes(self) -> dict[tuple[str, str], Handler]:
        return {
            ("GET", BYBIT_API + "asset/coin/query-info"): static("bybit", "asset_coin_query_info"),
            ("GET", BYBIT_API + "market/instruments-info"): self.instruments,
            ("GET", BYBIT_API + "user/query-api"): static("bybit", "user_query_api"),
            ("GET", BYBIT_API + "account/info"): static("bybit", "account_info"),
            ("POST", BYBIT_API + "order/create"): self.create,
            ("GET", BYBIT_API + "order/realtime"): self.realtime,
            ("GET", BYBIT_API + "order/history"): self.history,
            ("POST", BYBIT_API + "order/cancel"): self.cancel,
            ("POST", BYBIT_API + "order/amend"): self.amend,
            ("GET", BYBIT_API + "execution/list"): lambda call: Reply(fixture(
                "bybit", "execution_list" if call.params.get("symbol") == "BTCUSDT" else "execution_list_none")),
            ("GET", BYBIT_API + "position/list"): self.by_symbol(
                "position_list", {"BTCUSDT": "linear", "BTCUSD": "inverse"}),
            ("GET", BYBIT_API + "account/wallet-balance"): static("bybit", "wallet_balance"),
        }

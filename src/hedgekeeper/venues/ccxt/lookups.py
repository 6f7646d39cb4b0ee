"""Find one order by our client order id, exchange by exchange (the raw ccxt order, or None).

This is how an order is found after a timeout, a disconnect or a restart, and what
makes a retried ``place`` safe. Each venue has its own way:

==============  ==============================================================
exchange        request
==============  ==============================================================
deribit         ``private/get_order_state_by_label`` (currency, label): labels
                need not be unique, so the newest order of the instrument wins
binanceusdm     ``GET fapi/v1/order?origClientOrderId=``; -2013 means unknown
okx             ``GET api/v5/trade/order?clOrdId=``; 51603 means unknown
bybit           ``GET v5/order/realtime?orderLinkId=`` (working orders), then
                ``GET v5/order/history?orderLinkId=`` (finished ones)
==============  ==============================================================

Each function raises ccxt's exceptions; ``CcxtClient.read`` retries and translates them.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import ccxt
import ccxt.async_support

from hedgekeeper.venues.ccxt.dialects import DIALECTS
from hedgekeeper.venues.ccxt.parsing import client_order_id_of

RawOrder = Mapping[str, Any]
Lookup = Callable[[ccxt.async_support.Exchange, Mapping[str, Any], str], Awaitable[RawOrder | None]]


def _newest(orders: list[RawOrder], exchange_id: str, market: Mapping[str, Any],
            client_order_id: str) -> RawOrder | None:
    # the venue filtered on the client id already; checking again costs nothing
    dialect = DIALECTS[exchange_id]
    mine = [order for order in orders
            if order.get("symbol") == market["symbol"] and client_order_id_of(order, dialect) == client_order_id]
    return max(mine, key=lambda order: order.get("timestamp") or 0) if mine else None


async def _deribit(exchange: ccxt.async_support.Exchange, market: Mapping[str, Any],
                   client_order_id: str) -> RawOrder | None:
    response = await exchange.privateGetGetOrderStateByLabel(
        {"currency": market["settleId"], "label": client_order_id})
    orders = exchange.parse_orders(response.get("result") or [], market)
    return _newest(orders, "deribit", market, client_order_id)


async def _by_fetch_order(exchange: ccxt.async_support.Exchange, market: Mapping[str, Any],
                          params: dict[str, str]) -> RawOrder | None:
    try:
        return await exchange.fetch_order(None, market["symbol"], params)
    except ccxt.OrderNotFound:
        return None


async def _binanceusdm(exchange: ccxt.async_support.Exchange, market: Mapping[str, Any],
                       client_order_id: str) -> RawOrder | None:
    return await _by_fetch_order(exchange, market, {"origClientOrderId": client_order_id})


async def _okx(exchange: ccxt.async_support.Exchange, market: Mapping[str, Any],
               client_order_id: str) -> RawOrder | None:
    return await _by_fetch_order(exchange, market, {"clOrdId": client_order_id})


async def _bybit(exchange: ccxt.async_support.Exchange, market: Mapping[str, Any],
                 client_order_id: str) -> RawOrder | None:
    params = {"orderLinkId": client_order_id}
    working = await exchange.fetch_open_orders(market["symbol"], None, None, params)
    found = _newest(working, "bybit", market, client_order_id)
    if found is None:
        finished = await exchange.fetch_canceled_and_closed_orders(market["symbol"], None, None, params)
        found = _newest(finished, "bybit", market, client_order_id)
    return found


LOOKUPS: Mapping[str, Lookup] = {
    "deribit": _deribit,
    "binanceusdm": _binanceusdm,
    "okx": _okx,
    "bybit": _bybit,
}
"""The lookup of each exchange by ccxt id: ``await LOOKUPS[id](exchange, market, client_order_id)``."""

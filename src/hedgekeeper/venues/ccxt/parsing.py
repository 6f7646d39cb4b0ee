"""Pure conversions between ccxt's unified structures and ours.

ccxt parses each venue's payload into unified dicts (``ccxt/base/types.py``:
``Market``, ``Order``, ``Trade``, ``Position``, ``Balances``), keeping the payload
under ``info``; these functions turn those into our records, keeping ``info`` as
``raw``. Numbers arrive as floats parsed from the venue's decimal strings; they are
taken back to exact decimals through their shortest repr (``to_decimal``), which
returns the venue's digits for any value of up to 15 significant digits.

Sizes. Our sizes are contracts (``Instrument.contract_size`` coin, or USD of face
for inverse futures and perpetuals, per contract). ccxt's ``amount`` is in
contracts on OKX, Binance and Bybit, and in contracts times the contract size on
Deribit (USD for ``BTC-PERPETUAL``, whose contract is 10 USD: 5 contracts are an
``amount`` of 50); ``amount_per_contract`` gives the factor.

Times are ms in ccxt, ns here (``* NS_PER_MS``).
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from hedgekeeper.errors import BadData, InvalidOrder
from hedgekeeper.market.events import BookUpdate, OptionQuote, Trade
from hedgekeeper.portfolio.instruments import Instrument, InstrumentKind, Settlement
from hedgekeeper.portfolio.positions import Balance
from hedgekeeper.portfolio.values import Money, Price, Quantity, decimal_places, to_decimal
from hedgekeeper.timestamps import NS_PER_MS
from hedgekeeper.venues.ccxt.dialects import Dialect
from hedgekeeper.venues.orders import (
    Fill,
    Liquidity,
    OrderRequest,
    OrderStatus,
    OrderType,
    Side,
    TimeInForce,
    VenueOrder,
    VenuePosition,
)

_KINDS = {
    "swap": InstrumentKind.PERPETUAL,
    "future": InstrumentKind.FUTURE,
    "option": InstrumentKind.OPTION,
    "spot": InstrumentKind.SPOT,
}

_STATUSES = {
    "closed": OrderStatus.FILLED,
    "canceled": OrderStatus.CANCELLED,
    "rejected": OrderStatus.REJECTED,
    "expired": OrderStatus.EXPIRED,
}

_TIMES_IN_FORCE = {
    "GTC": TimeInForce.GTC,
    "IOC": TimeInForce.IOC,
    "FOK": TimeInForce.FOK,
    "PO": TimeInForce.POST_ONLY,
}


def instrument_id_of(market_id: str, dialect: Dialect) -> str:
    """Return our id of the venue's market: its id, a dot, the venue's name in capitals.

    >>> from hedgekeeper.venues.ccxt.dialects import DIALECTS
    >>> instrument_id_of("BTCUSDT", DIALECTS["binanceusdm"])
    'BTCUSDT.BINANCE'
    """
    return f"{market_id}.{dialect.venue.upper()}"


def _decimal(value: Any, name: str) -> Decimal:
    if value is None:
        raise BadData(f"{name} is missing")
    return to_decimal(value, name)


def _plain(value: Decimal) -> Decimal:
    # the shortest form without an exponent: 10.0 -> 10, 0.0010 -> 0.001
    normal = value.normalize()
    return normal if normal.as_tuple().exponent <= 0 else normal.quantize(Decimal(1))


def instrument_from_market(market: Mapping[str, Any], dialect: Dialect) -> Instrument:
    """Return the ``Instrument`` of a ccxt unified market (ccxt's TICK_SIZE precision mode).

    The tick size is ``precision.price``; the lot size is ``precision.amount`` and the
    minimum size ``limits.amount.min`` (the lot if absent), both converted from ccxt
    amounts to contracts; futures and options carry ``expiry`` (ms) as ns.

    Raises
    ------
    BadData
        If a field is missing or the market's type is not one we trade.
    ConfigError
        If the fields contradict each other (``Instrument``'s checks).
    """
    market_id = market.get("id")
    kind = _KINDS.get(market.get("type") or "")
    if kind is None:
        raise BadData(f"market {market_id!r}: type {market.get('type')!r} is not spot, swap, future or option")
    precision = market.get("precision") or {}
    contract_size = _plain(_decimal(market.get("contractSize") or (1 if kind is InstrumentKind.SPOT else None),
                                    f"contract size of {market_id}"))
    per_contract = contract_size if dialect.amounts_in_contract_units else Decimal(1)
    lot_size = _plain(_decimal(precision.get("amount"), f"amount precision of {market_id}") / per_contract)
    minimum = ((market.get("limits") or {}).get("amount") or {}).get("min")
    dated = kind in (InstrumentKind.FUTURE, InstrumentKind.OPTION)
    is_option = kind is InstrumentKind.OPTION
    underlying = market.get("base")
    settlement_currency = market.get("settle") or market.get("quote")
    if not underlying or not settlement_currency:
        raise BadData(f"market {market_id!r} names no base or settlement currency")
    return Instrument(
        instrument_id=instrument_id_of(market_id, dialect),
        venue=dialect.venue,
        kind=kind,
        settlement=Settlement.INVERSE if market.get("inverse") else Settlement.LINEAR,
        underlying=underlying,
        settlement_currency=settlement_currency,
        contract_size=contract_size,
        tick_size=_plain(_decimal(precision.get("price"), f"price precision of {market_id}")),
        lot_size=lot_size,
        min_size=lot_size if minimum is None else _plain(_decimal(minimum, f"minimum of {market_id}") / per_contract),
        expiry_ns=int(_decimal(market.get("expiry"), f"expiry of {market_id}")) * NS_PER_MS if dated else None,
        strike_usd=_plain(_decimal(market.get("strike"), f"strike of {market_id}")) if is_option else None,
        is_call=(market.get("optionType") == "call") if is_option else None,
    )


def amount_per_contract(instrument: Instrument, dialect: Dialect) -> Decimal:
    """Return ccxt's amount per contract of ``instrument``: its contract size on Deribit, else 1.

    >>> from hedgekeeper.portfolio.instruments import example_instruments
    >>> from hedgekeeper.venues.ccxt.dialects import DIALECTS
    >>> amount_per_contract(example_instruments()[0], DIALECTS["deribit"])
    Decimal('10')
    """
    return instrument.contract_size if dialect.amounts_in_contract_units else Decimal(1)


def amount_of(quantity: Quantity, instrument: Instrument, dialect: Dialect) -> str:
    """Return ccxt's ``amount`` of ``quantity`` contracts, as an exact decimal string.

    >>> from hedgekeeper.portfolio.instruments import example_instruments
    >>> from hedgekeeper.venues.ccxt.dialects import DIALECTS
    >>> perpetual = example_instruments()[0]
    >>> amount_of(perpetual.make_qty(5, round_down=True), perpetual, DIALECTS["deribit"])
    '50'
    """
    return f"{_plain(quantity.value * amount_per_contract(instrument, dialect))}"


def _exact_quantity(contracts: Decimal, instrument: Instrument) -> Quantity:
    # a venue's number is kept with all its digits, at least at the lot's precision
    places = max(decimal_places(instrument.lot_size), decimal_places(_plain(contracts)))
    return Quantity(abs(contracts), places)


def _exact_price(value: Any, instrument: Instrument, name: str) -> Price:
    number = _decimal(value, name)
    return Price(number, max(decimal_places(instrument.tick_size), decimal_places(_plain(number))))


def _contracts(amount: Any, instrument: Instrument, dialect: Dialect, name: str) -> Decimal:
    return _decimal(amount, name) / amount_per_contract(instrument, dialect)


@dataclass(frozen=True, slots=True)
class OrderArguments:
    """The arguments of ccxt ``create_order(symbol, type, side, amount, price, params)``.

    ``amount`` and ``price`` are decimal strings, so no float rounding enters an order.
    """

    symbol: str
    type: str
    side: str
    amount: str
    price: str | None
    params: dict[str, Any] = field(default_factory=dict)


def create_order_arguments(
    request: OrderRequest, instrument: Instrument, symbol: str, dialect: Dialect
) -> OrderArguments:
    """Return the ``create_order`` arguments of ``request``, our client id in the venue's parameter.

    Time in force travels as ccxt's unified parameters (``timeInForce`` ``IOC``/``FOK``,
    ``postOnly``), reduce-only as ``reduceOnly``. A market order takes no time in force.

    Raises
    ------
    InvalidOrder
        If the venue would refuse the client id, a limit order has no price, or a
        market order asks for post-only or fill-or-kill.

    Examples
    --------
    >>> from hedgekeeper.portfolio.instruments import example_instruments
    >>> from hedgekeeper.venues.ccxt.dialects import DIALECTS
    >>> perpetual = example_instruments()[0]
    >>> request = OrderRequest(client_order_id="hk-7", instrument_id=perpetual.instrument_id,
    ...     side=Side.SELL, quantity=perpetual.make_qty(5, round_down=True),
    ...     price=perpetual.make_price(105_000.5, round_down=True), time_in_force=TimeInForce.POST_ONLY)
    >>> create_order_arguments(request, perpetual, "BTC/USD:BTC", DIALECTS["deribit"])
    OrderArguments(symbol='BTC/USD:BTC', type='limit', side='sell', amount='50', price='105000.5',
                   params={'label': 'hk-7', 'postOnly': True})
    """
    problem = dialect.check_client_order_id(request.client_order_id)
    if problem is not None:
        raise InvalidOrder(problem)
    params: dict[str, Any] = {dialect.client_order_id_param: request.client_order_id}
    if request.order_type is OrderType.LIMIT:
        if request.price is None:
            raise InvalidOrder(f"order {request.client_order_id}: a limit order needs a price")
        price: str | None = str(request.price)
        if request.time_in_force is TimeInForce.POST_ONLY:
            params["postOnly"] = True
        elif request.time_in_force is not TimeInForce.GTC:
            params["timeInForce"] = request.time_in_force.value.upper()
    else:
        if request.time_in_force in (TimeInForce.POST_ONLY, TimeInForce.FOK):
            raise InvalidOrder(
                f"order {request.client_order_id}: a market order cannot be {request.time_in_force.value}"
            )
        price = None
    if request.reduce_only:
        params["reduceOnly"] = True
    return OrderArguments(symbol, request.order_type.value, request.side.value,
                          amount_of(request.quantity, instrument, dialect), price, params)


def client_order_id_of(record: Mapping[str, Any], dialect: Dialect) -> str:
    """Return the client order id of a ccxt order or trade ("" if it has none)."""
    return record.get("clientOrderId") or (record.get("info") or {}).get(dialect.client_order_id_field) or ""


def _status(order: Mapping[str, Any], filled: Decimal) -> OrderStatus:
    status = _STATUSES.get(order.get("status") or "")
    if status is not None:
        return status
    # "open", or no status: an answer to a create or cancel that carries ids only
    return OrderStatus.PARTIALLY_FILLED if filled > 0 else OrderStatus.ACKNOWLEDGED


def order_from_ccxt(
    order: Mapping[str, Any], instrument: Instrument, dialect: Dialect, known: OrderRequest | VenueOrder | None = None
) -> VenueOrder:
    """Return the ``VenueOrder`` of a ccxt order, fields the venue left out taken from ``known``.

    OKX and Bybit answer a create, cancel or amend with ids only; what we sent (or
    last saw) fills the gaps. An order placed elsewhere may have no client id ("").
    A ccxt status of ``open`` is ``PARTIALLY_FILLED`` once something filled, else
    ``ACKNOWLEDGED``, as is an answer with no status.

    Raises
    ------
    BadData
        If a field is missing from both the order and ``known``.
    """
    def pick(key: str, fallback_name: str) -> Any:
        value = order.get(key)
        return value if value is not None or known is None else getattr(known, fallback_name)

    amount = order.get("amount")
    quantity = (_exact_quantity(_contracts(amount, instrument, dialect, "order amount"), instrument)
                if amount is not None else _known(known, "quantity"))
    filled_amount = order.get("filled")
    if filled_amount is not None:
        filled = _plain(_contracts(filled_amount, instrument, dialect, "filled amount"))
    else:
        filled = known.filled_quantity if isinstance(known, VenueOrder) else Decimal(0)
    order_type = OrderType(pick("type", "order_type"))
    price_value = order.get("price")
    if price_value is not None and order_type is OrderType.LIMIT:
        price: Price | None = _exact_price(price_value, instrument, "order price")
    else:
        price = None if order_type is OrderType.MARKET else _known(known, "price")
    average = order.get("average")
    ts_ms = order.get("lastUpdateTimestamp") or order.get("timestamp")
    return VenueOrder(
        client_order_id=client_order_id_of(order, dialect) or getattr(known, "client_order_id", ""),
        venue_order_id=str(order.get("id") or _known(known, "venue_order_id")),
        instrument_id=instrument.instrument_id,
        side=Side(pick("side", "side")),
        quantity=quantity,
        order_type=order_type,
        price=price,
        time_in_force=_time_in_force(order, known),
        status=_status(order, filled),
        filled_quantity=filled,
        average_price=None if not average else _decimal(average, "average price"),
        ts_ns=int(ts_ms) * NS_PER_MS if ts_ms else getattr(known, "ts_ns", 0),
        raw=order.get("info"),
    )


def _known(known: OrderRequest | VenueOrder | None, name: str) -> Any:
    if known is None:
        raise BadData(f"order has no {name} and there is no earlier view of it")
    return getattr(known, name)


def _time_in_force(order: Mapping[str, Any], known: OrderRequest | VenueOrder | None) -> TimeInForce:
    if order.get("postOnly"):
        return TimeInForce.POST_ONLY
    venue_value = _TIMES_IN_FORCE.get(order.get("timeInForce") or "")
    if venue_value is not None:
        return venue_value
    return TimeInForce.GTC if known is None else known.time_in_force


def fill_from_ccxt(
    trade: Mapping[str, Any], instrument: Instrument, dialect: Dialect, client_order_id: str = ""
) -> Fill:
    """Return the ``Fill`` of a ccxt trade of ours (``fetch_my_trades``).

    ccxt's fee is positive when paid, negative for a rebate (it flips OKX's sign), as
    ours. ``client_order_id`` is used when the trade does not carry it (Binance).

    Raises
    ------
    BadData
        If the trade has no fee or no maker/taker flag.
    """
    fee = trade.get("fee") or {}
    if fee.get("cost") is None or not fee.get("currency"):
        raise BadData(f"trade {trade.get('id')} of {instrument.instrument_id} has no fee")
    liquidity = trade.get("takerOrMaker")
    if liquidity not in ("maker", "taker"):
        raise BadData(f"trade {trade.get('id')} of {instrument.instrument_id} is neither maker nor taker")
    return Fill(
        fill_id=str(trade["id"]),
        client_order_id=client_order_id_of(trade, dialect) or client_order_id,
        venue_order_id=str(trade.get("order") or ""),
        instrument_id=instrument.instrument_id,
        side=Side(trade["side"]),
        quantity=_exact_quantity(_contracts(trade.get("amount"), instrument, dialect, "trade amount"), instrument),
        price=_exact_price(trade.get("price"), instrument, "trade price"),
        fee=Money(_decimal(fee["cost"], "fee"), fee["currency"]),
        liquidity=Liquidity(liquidity),
        ts_ns=int(trade["timestamp"]) * NS_PER_MS,
        raw=trade.get("info"),
    )


def position_from_ccxt(position: Mapping[str, Any], instrument: Instrument, dialect: Dialect) -> VenuePosition:
    """Return the ``VenuePosition`` of a ccxt position: signed contracts (> 0 long), entry price."""
    size = abs(_contracts(position.get("contracts") or 0, instrument, dialect, "position size"))
    if position.get("side") == "short":
        size = -size
    entry = position.get("entryPrice")
    return VenuePosition(instrument_id=instrument.instrument_id, size_contracts=_plain(size),
                         entry_price=None if not entry else _decimal(entry, "entry price"))


def _deribit_rows(info: Any) -> Iterator[tuple[str, Any]]:
    for summary in info.get("summaries", [info]):
        yield summary["currency"], summary["balance"]


def _binance_rows(info: Any) -> Iterator[tuple[str, Any]]:
    for asset in info["assets"]:
        yield asset["asset"], asset["walletBalance"]


def _okx_rows(info: Any) -> Iterator[tuple[str, Any]]:
    for account in info["data"]:
        for detail in account["details"]:
            yield detail["ccy"], detail["cashBal"]


def _bybit_rows(info: Any) -> Iterator[tuple[str, Any]]:
    for account in info["result"]["list"]:
        for coin in account["coin"]:
            yield coin["coin"], coin["walletBalance"]


_BALANCE_ROWS = {
    "deribit": _deribit_rows,
    "binanceusdm": _binance_rows,
    "okx": _okx_rows,
    "bybit": _bybit_rows,
}
"""Where each venue keeps its cash balance, not counting unrealised P&L: Deribit ``balance``,
Binance ``walletBalance``, OKX ``cashBal``, Bybit ``walletBalance``."""


def balances_from_ccxt(balance: Mapping[str, Any], dialect: Dialect) -> list[Balance]:
    """Return the non-zero cash balances of a ccxt ``fetch_balance`` answer, one per currency.

    Cash is the wallet balance without unrealised P&L (the portfolio values open
    positions itself), read from the venue's payload (``info``) with every digit.

    Raises
    ------
    BadData
        If the payload lacks the venue's balance fields.
    """
    try:
        rows = list(_BALANCE_ROWS[dialect.exchange_id](balance["info"]))
    except (KeyError, TypeError) as error:
        raise BadData(f"{dialect.exchange_id} balance payload lacks {error}") from None
    balances = []
    for currency, amount in rows:
        number = _decimal(amount, f"{currency} balance")
        if number != 0:
            balances.append(Balance(dialect.venue, Money(number, currency)))
    return balances


def _coin_levels(levels: Any, instrument: Instrument, dialect: Dialect) -> tuple[tuple[float, float], ...]:
    per_contract = float(amount_per_contract(instrument, dialect))
    size = float(instrument.contract_size)
    return tuple(
        (float(price), float(amount) / per_contract * (size / float(price) if instrument.is_inverse else size))
        for price, amount, *_ in levels
        if float(amount) > 0.0
    )


def book_from_ccxt(book: Mapping[str, Any], instrument: Instrument, dialect: Dialect) -> BookUpdate:
    """Return ccxt's unified order book as a snapshot ``BookUpdate``: prices USD per coin, sizes in coin.

    ccxt.pro keeps the book from the venue's snapshot and deltas and hands out the
    whole of it (``{"bids": [[price, amount], ...], "asks": ..., "timestamp": ms}``),
    amounts in ccxt's unit for the venue (``Dialect.amounts_in_contract_units``).
    The stream is the instrument id; the time is the venue's, in ns.

    Raises
    ------
    BadData
        If the book carries no timestamp.
    """
    timestamp_ms = book.get("timestamp")
    if timestamp_ms is None:
        raise BadData(f"{instrument.instrument_id}: order book without a timestamp")
    return BookUpdate(
        int(timestamp_ms) * NS_PER_MS, instrument.instrument_id,
        _coin_levels(book["bids"], instrument, dialect), _coin_levels(book["asks"], instrument, dialect),
        True,
    )


def trade_from_ccxt(trade: Mapping[str, Any], instrument: Instrument, dialect: Dialect) -> Trade:
    """Return one of ccxt's unified public trades as a ``Trade``: size in coin, aggressor +1 buy, -1 sell.

    Raises
    ------
    BadData
        If the trade has no side or no timestamp.
    """
    if trade.get("side") not in ("buy", "sell") or trade.get("timestamp") is None:
        raise BadData(f"{instrument.instrument_id}: trade {trade.get('id')!r} without a side or a time")
    price = float(trade["price"])
    ((_, size_coin),) = _coin_levels([[price, trade["amount"]]], instrument, dialect)
    return Trade(int(trade["timestamp"]) * NS_PER_MS, instrument.instrument_id, price, size_coin,
                 1 if trade["side"] == "buy" else -1)


def option_quote_from_ccxt(greeks: Mapping[str, Any], instrument: Instrument, dialect: Dialect) -> OptionQuote:
    """Return ccxt's unified option greeks (``parse_greeks`` of a ticker) as an ``OptionQuote``.

    Implied vols become annualised decimals (``Dialect.implied_vol_unit``); a side the
    venue quotes at zero (no bid) is NaN; the forward is the venue's underlying price.

    Raises
    ------
    BadData
        If the venue reads no option marks, or the greeks have no time, mark vol or underlying price.

    Examples
    --------
    >>> from hedgekeeper.venues.ccxt.dialects import DIALECTS
    >>> from hedgekeeper.portfolio.instruments import example_instruments
    >>> greeks = {"timestamp": 1_750_000_001_000, "bidImpliedVolatility": 0.0, "askImpliedVolatility": 61.88,
    ...           "markImpliedVolatility": 61.27, "underlyingPrice": 104_012.5}
    >>> option_quote_from_ccxt(greeks, example_instruments()[1], DIALECTS["deribit"])  # doctest: +ELLIPSIS
    OptionQuote(ts_ns=1750000001000000000, stream='...', bid_vol=nan, ask_vol=0.6188, mark_vol=0.6127, forward_usd=104012.5)
    """
    unit = dialect.implied_vol_unit
    if unit is None:
        raise BadData(f"{dialect.exchange_id} option marks are not read (no implied vol unit)")
    mark, forward = greeks.get("markImpliedVolatility"), greeks.get("underlyingPrice")
    if greeks.get("timestamp") is None or not mark or not forward:
        raise BadData(f"{instrument.instrument_id}: option ticker without a time, a mark vol or an underlying price")

    def vol(raw: Any) -> float:
        return float(raw) * unit if raw else math.nan

    return OptionQuote(int(greeks["timestamp"]) * NS_PER_MS, instrument.instrument_id,
                       vol(greeks.get("bidImpliedVolatility")), vol(greeks.get("askImpliedVolatility")), vol(mark),
                       float(forward))

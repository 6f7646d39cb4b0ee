"""What differs between the exchanges behind ccxt's unified API, as data (one row per exchange).

ccxt unifies method names, not meanings. Per exchange this table records:

- the venue name our instrument ids end with (``BTCUSDT.BINANCE``);
- where our client order id goes in ``create_order`` (Deribit ``label``, Binance
  ``newClientOrderId``, OKX ``clOrdId``, Bybit ``orderLinkId``), which raw field of an
  order or trade carries it back, and which ids the venue accepts;
- whether the venue itself refuses a second order with the same client id (Deribit
  labels are free text, so our adapter looks before it sends);
- the unit of ccxt's ``amount``: contracts for OKX, Binance and Bybit (whose ccxt
  contract size is the coin or USD per contract, 1 for Binance and Bybit); for
  Deribit the venue's own unit, USD of face for inverse futures and perpetuals and
  coin for options and linear contracts, i.e. contracts times the contract size
  (``deribit.py``: "For perpetual and inverse futures the amount is in USD units");
- the ccxt options that load only derivatives markets (Bybit lists spot
  ``BTCUSDT`` under the same id as its perpetual) and skip Binance's wallet
  currency list (a private spot-API call a futures account does not need), and send
  OKX orders one by one to ``trade/order`` (ccxt's default is ``trade/batch-orders``);
- what the adapter offers (``capabilities``);
- the unit of the implied vols in the venue's option ticker (Deribit's ``mark_iv`` is in
  percent), for the stream of option marks;
- how our trades are paged: ccxt pages Binance, OKX and Bybit itself (``paginate``);
  Deribit's ``get_user_trades_by_instrument_and_time`` is asked oldest first and paged
  forward by the adapter; and whether positions are asked market by market (Bybit
  takes one symbol a call).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from hedgekeeper.errors import ConfigError
from hedgekeeper.venues.base import Capability, Support


@dataclass(frozen=True, kw_only=True)
class Dialect:
    """One exchange's conventions behind ccxt (see the module docstring).

    Attributes
    ----------
    exchange_id : str, ccxt's id
    venue : str, our venue name; instrument ids end with ``"." + venue.upper()``
    client_order_id_param : str, the ``create_order`` parameter carrying our client id
    client_order_id_field : str, the raw order and trade field that carries it back
    client_order_id_pattern : str, a regular expression of the ids the venue accepts
    unique_client_order_ids : bool, the venue refuses a second order with the same id
    amounts_in_contract_units : bool, ccxt amounts are contracts times the contract size
    ccxt_options : mapping, options given to the ccxt exchange at construction
    capabilities : mapping of Capability to Support
    trades_page_size : int, trades asked for per page (the venue's maximum)
    trade_query_params : mapping, extra ``fetch_my_trades`` parameters
    pages_trades_forward : bool, the adapter pages trades forward from the last time seen
    positions_per_market : bool, ``fetch_positions`` takes one symbol a call
    implied_vol_unit : float or None, one unit of the ticker's raw implied vols as a decimal
        (0.01: percent); None where the adapter streams no option marks (``MARK_STREAM`` absent)
    streamed_client_order_id_field : str or None, the raw field of a trade streamed by ccxt.pro
        (``watch_my_trades``) that carries our client id, where it is not ``client_order_id_field``
        (Binance's ``ORDER_TRADE_UPDATE`` event: ``c``)
    streamed_fee_sign : int, what a streamed trade's ccxt fee is multiplied by to be positive when
        paid: -1 where ccxt.pro keeps the venue's sign (OKX ``fillFee`` is negative when paid; ccxt's
        REST parsing flips it, its ``orders`` channel parsing does not)
    """

    exchange_id: str
    venue: str
    client_order_id_param: str
    client_order_id_field: str
    client_order_id_pattern: str
    unique_client_order_ids: bool
    amounts_in_contract_units: bool
    ccxt_options: Mapping[str, Any]
    capabilities: Mapping[Capability, Support]
    trades_page_size: int
    trade_query_params: Mapping[str, Any]
    pages_trades_forward: bool
    positions_per_market: bool
    implied_vol_unit: float | None = None
    streamed_client_order_id_field: str | None = None
    streamed_fee_sign: int = 1

    def check_client_order_id(self, client_order_id: str) -> str | None:
        """Return why the venue would refuse ``client_order_id``, or None if it is acceptable.

        >>> DIALECTS["okx"].check_client_order_id("hk-1")
        "okx refuses client order id 'hk-1': it accepts ^[A-Za-z0-9]{1,32}$"
        """
        if re.fullmatch(self.client_order_id_pattern, client_order_id) is None:
            return (
                f"{self.exchange_id} refuses client order id {client_order_id!r}: "
                f"it accepts ^{self.client_order_id_pattern}$"
            )
        return None


_ORDER_CAPABILITIES = {
    Capability.AMEND: Support.SUPPORTED,  # ccxt edit_order: the venue's native amend
    Capability.POST_ONLY: Support.SUPPORTED,
    Capability.IOC: Support.SUPPORTED,
    Capability.FOK: Support.SUPPORTED,
    Capability.REDUCE_ONLY: Support.SUPPORTED,
    Capability.SANDBOX: Support.SUPPORTED,
    Capability.BOOK_STREAM: Support.SUPPORTED,  # ccxt.pro watch_order_book: the venue's websocket
    Capability.TRADE_STREAM: Support.SUPPORTED,  # ccxt.pro watch_trades
    Capability.FILL_STREAM: Support.ABSENT,
    Capability.FUNDING: Support.ABSENT,
    Capability.MARK_STREAM: Support.ABSENT,
}


def _frozen(mapping: Mapping[Any, Any]) -> Mapping[Any, Any]:
    return MappingProxyType(dict(mapping))


_CCXT_PAGES = _frozen({"paginate": True})

DIALECTS: Mapping[str, Dialect] = _frozen({
    "deribit": Dialect(
        exchange_id="deribit", venue="deribit",
        client_order_id_param="label", client_order_id_field="label",
        client_order_id_pattern=r".{1,64}", unique_client_order_ids=False,
        amounts_in_contract_units=True, ccxt_options=_frozen({}),
        capabilities=_frozen(_ORDER_CAPABILITIES | {Capability.MARK_STREAM: Support.SUPPORTED,
                                                     Capability.FILL_STREAM: Support.SUPPORTED}),
        trades_page_size=1000, trade_query_params=_frozen({"sorting": "asc"}), pages_trades_forward=True,
        positions_per_market=False, implied_vol_unit=0.01,
    ),
    "binanceusdm": Dialect(
        exchange_id="binanceusdm", venue="binance",
        client_order_id_param="newClientOrderId", client_order_id_field="clientOrderId",
        client_order_id_pattern=r"[.A-Z:/a-z0-9_-]{1,36}", unique_client_order_ids=True,
        amounts_in_contract_units=False,
        ccxt_options=_frozen({"fetchMarkets": {"types": ["linear"]}, "fetchCurrencies": False}),
        capabilities=_frozen(_ORDER_CAPABILITIES | {Capability.FILL_STREAM: Support.SUPPORTED}),
        trades_page_size=1000, trade_query_params=_CCXT_PAGES, pages_trades_forward=False,
        positions_per_market=False, streamed_client_order_id_field="c",
    ),
    "okx": Dialect(
        exchange_id="okx", venue="okx",
        client_order_id_param="clOrdId", client_order_id_field="clOrdId",
        client_order_id_pattern=r"[A-Za-z0-9]{1,32}", unique_client_order_ids=True,
        amounts_in_contract_units=False,
        ccxt_options=_frozen({"fetchMarkets": {"types": ["swap", "future", "option"]},
                              "createOrder": "privatePostTradeOrder"}),
        capabilities=_frozen(_ORDER_CAPABILITIES | {Capability.FILL_STREAM: Support.SUPPORTED}),
        trades_page_size=100, trade_query_params=_CCXT_PAGES, pages_trades_forward=False,
        positions_per_market=False, streamed_fee_sign=-1,
    ),
    "bybit": Dialect(
        exchange_id="bybit", venue="bybit",
        client_order_id_param="orderLinkId", client_order_id_field="orderLinkId",
        client_order_id_pattern=r"[A-Za-z0-9_-]{1,36}", unique_client_order_ids=True,
        amounts_in_contract_units=False,
        ccxt_options=_frozen({"fetchMarkets": {"types": ["linear", "inverse", "option"]}}),
        capabilities=_frozen(_ORDER_CAPABILITIES | {Capability.FILL_STREAM: Support.SUPPORTED}),
        trades_page_size=100, trade_query_params=_CCXT_PAGES, pages_trades_forward=False,
        positions_per_market=True,
    ),
})
"""The supported exchanges by ccxt id."""


def dialect_of(exchange_id: str) -> Dialect:
    """Return the dialect of ``exchange_id``.

    Raises
    ------
    ConfigError
        If the exchange is not supported, listing those that are.
    """
    try:
        return DIALECTS[exchange_id]
    except KeyError:
        raise ConfigError(f"exchange {exchange_id!r} is not supported; choose one of {sorted(DIALECTS)}") from None

"""Transport to one exchange through ccxt's asynchronous client: build, rate-limit, retry, translate.

``build_exchange`` makes the ``ccxt.async_support`` exchange from a configuration:
credentials, request timeout, ccxt's rate limiter and the venue's sandbox.
``CcxtClient`` runs every call: a read is retried with exponential backoff when it
failed in transit (``ccxt.NetworkError``: timeouts, rate limits, an unreachable
venue); a write (create, cancel, amend) is tried once, because only the caller can
tell whether an unanswered order reached the venue. Every ccxt exception leaves as
ours (``errors.translate``).
"""

from __future__ import annotations

import asyncio
import copy
import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, TypeVar

import aiohttp
import ccxt
import ccxt.async_support
import ccxt.pro

from hedgekeeper.venues.ccxt.config import CcxtVenueConfig, Credentials
from hedgekeeper.venues.ccxt.dialects import dialect_of
from hedgekeeper.venues.ccxt.errors import translate

logger = logging.getLogger(__name__)

Result = TypeVar("Result")

TRANSIENT = (ccxt.NetworkError,)
"""ccxt failures a retry may cure: RequestTimeout, DDoSProtection/RateLimitExceeded, ExchangeNotAvailable."""


def build_exchange(
    config: CcxtVenueConfig, credentials: Credentials, session: aiohttp.ClientSession | None = None,
    settings: Mapping[str, Any] | None = None,
) -> ccxt.async_support.Exchange:
    """Return the ccxt exchange ``config`` describes, not yet connected.

    Parameters
    ----------
    config : the venue's configuration
    credentials : its API key, secret and (OKX) passphrase
    session : an HTTP session to send the requests through (a proxy, a recorded
        venue); default: ccxt opens and closes its own. The caller closes its session.
    settings : more of ccxt's constructor settings, merged over ours by ccxt: another
        ``hostname`` or ``urls`` (a gateway, a recorded venue), ``verify``; a session ccxt
        opens itself belongs to the event loop it is first used on

    Notes
    -----
    ``sandbox`` selects ccxt's ``set_sandbox_mode(True)`` (Deribit test.deribit.com,
    OKX's simulated trading header, Bybit's testnet), except for Binance USD-M whose
    futures testnet ccxt has retired in favour of demo trading
    (``enable_demo_trading(True)``, demo-fapi.binance.com).
    """
    dialect = dialect_of(config.exchange)
    ours: dict[str, Any] = {
        "apiKey": credentials.api_key,
        "secret": credentials.secret,
        "timeout": round(config.request_timeout_s * 1000),
        "enableRateLimit": config.rate_limit,
        "options": {key: copy.deepcopy(value) for key, value in dialect.ccxt_options.items()},
    }
    if credentials.password is not None:
        ours["password"] = credentials.password
    if session is not None:
        ours["session"] = session
    # ccxt.pro's class is the REST exchange plus its websocket streams (watch_order_book, watch_trades).
    exchange: ccxt.async_support.Exchange = getattr(ccxt.pro, config.exchange)({**ours, **(settings or {})})
    if session is not None:
        exchange.timeout_on_exit = 0  # ccxt's pause lets its own TLS session close; the owner closes this one
    if config.sandbox:
        if config.exchange == "binanceusdm":
            exchange.enable_demo_trading(True)
        else:
            exchange.set_sandbox_mode(True)
    return exchange


class CcxtClient:
    """Runs calls on one ccxt exchange: reads retried with backoff, writes once, errors translated.

    Parameters
    ----------
    exchange : a ccxt async exchange (``build_exchange``)
    config : the venue's configuration (retries, backoff)
    """

    def __init__(self, exchange: ccxt.async_support.Exchange, config: CcxtVenueConfig) -> None:
        self.exchange = exchange
        self.config = config

    async def read(self, action: str, call: Callable[[], Awaitable[Result]]) -> Result:
        """Return ``await call()``, retrying transient failures up to ``config.max_retries`` times.

        Parameters
        ----------
        action : what the call does, for messages, e.g. ``"okx fetch_order BTC-USDT-SWAP"``
        call : makes a fresh coroutine each attempt

        Raises
        ------
        VenueUnavailable (RequestTimeout, RateLimited)
            If every attempt failed in transit.
        VenueRejected (InvalidOrder, OrderNotFound, ...)
            At once, if the venue refused.
        """
        attempt = 0
        while True:
            try:
                return await call()
            except TRANSIENT as error:
                if attempt >= self.config.max_retries:
                    raise translate(error, f"{action} (after {attempt + 1} attempts)") from error
                wait_s = self.config.backoff_s(attempt)
                logger.warning("%s failed (%s: %s); retry %d in %.3g s",
                               action, type(error).__name__, error, attempt + 1, wait_s)
                await asyncio.sleep(wait_s)
                attempt += 1
            except ccxt.BaseError as error:
                raise translate(error, action) from error

    async def write(self, action: str, call: Callable[[], Awaitable[Result]]) -> Result:
        """Return ``await call()``, tried once; a failure leaves translated (see ``read``)."""
        try:
            return await call()
        except ccxt.BaseError as error:
            raise translate(error, action) from error

    async def load_markets(self) -> Mapping[str, Any]:
        """Return ccxt's unified markets by symbol, loading them once (a read)."""
        return await self.read(f"{self.config.exchange} load_markets", self.exchange.load_markets)

    async def close(self) -> None:
        """Close the exchange's connections."""
        await self.exchange.close()

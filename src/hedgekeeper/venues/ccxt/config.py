"""The configuration of one real exchange reached through ccxt.

A TOML example (secrets never sit in the file: it names the environment variables
that hold them)::

    [venue]
    exchange = "deribit"            # deribit, binanceusdm, okx, bybit
    sandbox = true                  # the venue's testnet; false trades real money
    market_ids = ["BTC-PERPETUAL", "BTC-27JUN25-110000-C"]
    api_key_env = "DERIBIT_API_KEY"
    api_secret_env = "DERIBIT_API_SECRET"
    request_timeout_s = 10.0
    max_retries = 3
    backoff_initial_s = 0.5
    backoff_max_s = 8.0
    rate_limit = true

Load it with ``hedgekeeper.config.validate_table(CcxtVenueConfig, path, prefix="venue",
what="venue settings")``: a bad field is a ``ConfigError`` naming it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Literal

import pydantic

from hedgekeeper.config import StrictModel
from hedgekeeper.errors import ConfigError

ExchangeId = Literal["deribit", "binanceusdm", "okx", "bybit"]
"""The ccxt ids of the supported exchanges (``binanceusdm`` is Binance USD-M futures)."""


class CcxtVenueConfig(StrictModel):
    """One exchange account reached through ccxt's asynchronous client.

    Attributes
    ----------
    exchange : ExchangeId, which exchange
    sandbox : bool, required: true trades on the venue's testnet or demo environment
        (ccxt's ``set_sandbox_mode``; Binance USD-M's demo trading, which replaced its
        futures testnet), false on the real one. No default: real money is a choice.
    market_ids : tuple of str, at least one: the venue's ids of the markets to trade
        and watch (``"BTC-PERPETUAL"``, ``"BTCUSDT"``, ``"BTC-USDT-SWAP"``); orders,
        fills and positions are queried market by market
    api_key_env, api_secret_env : str, names of the environment variables holding the
        API key and secret
    api_password_env : str or None, name of the variable holding the API passphrase;
        required for OKX, refused elsewhere
    request_timeout_s : float, seconds before a request is abandoned, in (0, 120]
    max_retries : int, extra attempts of a read (and lookups of an unanswered order)
        after a transient failure, in [0, 10]
    backoff_initial_s : float, seconds before the first retry, > 0; doubled each time
    backoff_max_s : float, the longest wait between retries, >= ``backoff_initial_s``
    rate_limit : bool, let ccxt space requests by the venue's published limits
    """

    exchange: ExchangeId
    sandbox: bool
    market_ids: tuple[str, ...] = pydantic.Field(min_length=1)
    api_key_env: str = pydantic.Field(min_length=1)
    api_secret_env: str = pydantic.Field(min_length=1)
    api_password_env: str | None = None
    request_timeout_s: float = pydantic.Field(default=10.0, gt=0.0, le=120.0)
    max_retries: int = pydantic.Field(default=3, ge=0, le=10)
    backoff_initial_s: float = pydantic.Field(default=0.5, gt=0.0)
    backoff_max_s: float = pydantic.Field(default=8.0, gt=0.0)
    rate_limit: bool = True

    @pydantic.model_validator(mode="after")
    def _check_consistency(self) -> CcxtVenueConfig:
        if self.backoff_max_s < self.backoff_initial_s:
            raise ValueError(
                f"backoff_max_s ({self.backoff_max_s}) must be >= backoff_initial_s ({self.backoff_initial_s})"
            )
        if (self.exchange == "okx") != (self.api_password_env is not None):
            raise ValueError("api_password_env is required for okx (its API passphrase) and refused elsewhere")
        if len(set(self.market_ids)) != len(self.market_ids):
            raise ValueError(f"market_ids has duplicates: {list(self.market_ids)}")
        return self

    def backoff_s(self, attempt: int) -> float:
        """Return the wait before retry number ``attempt`` (0 first), seconds: doubling, capped.

        >>> config = CcxtVenueConfig(exchange="deribit", sandbox=True, market_ids=("BTC-PERPETUAL",),
        ...     api_key_env="K", api_secret_env="S", backoff_initial_s=0.5, backoff_max_s=3.0)
        >>> [config.backoff_s(attempt) for attempt in range(4)]
        [0.5, 1.0, 2.0, 3.0]
        """
        return min(self.backoff_initial_s * 2.0**attempt, self.backoff_max_s)


@dataclass(frozen=True, repr=False)
class Credentials:
    """API credentials read from the environment; their repr never shows them."""

    api_key: str
    secret: str
    password: str | None = None

    def __repr__(self) -> str:
        return "Credentials(<hidden>)"


def read_credentials(config: CcxtVenueConfig, environment: dict[str, str] | None = None) -> Credentials:
    """Return the credentials named by ``config`` from ``environment`` (default ``os.environ``).

    Raises
    ------
    ConfigError
        Naming each variable that is unset or empty (never its value).

    >>> config = CcxtVenueConfig(exchange="bybit", sandbox=True, market_ids=("BTCUSDT",),
    ...     api_key_env="BYBIT_KEY", api_secret_env="BYBIT_SECRET")
    >>> read_credentials(config, {"BYBIT_KEY": "k"})  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    hedgekeeper.errors.ConfigError: bybit credentials: unset or empty ... BYBIT_SECRET (api_secret_env)
    """
    source = os.environ if environment is None else environment
    fields = {"api_key_env": config.api_key_env, "api_secret_env": config.api_secret_env}
    if config.api_password_env is not None:
        fields["api_password_env"] = config.api_password_env
    missing = [f"{name} ({field})" for field, name in fields.items() if not source.get(name)]
    if missing:
        raise ConfigError(f"{config.exchange} credentials: unset or empty environment variables: {', '.join(missing)}")
    password = None if config.api_password_env is None else source[config.api_password_env]
    return Credentials(source[config.api_key_env], source[config.api_secret_env], password)

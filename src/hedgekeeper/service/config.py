"""The service file (``hedgekeeper run CONFIG``): a backtest's book and market, and how to run live.

One TOML file holds the book (``as_of``, ``[[instruments]]``, ``[[positions]]``,
``[[balances]]``, ``[market.<coin>]``, ``[margin]``, ``[profile.<coin>]``), the market
source (``[simulation]`` or ``[replay]``), ``[policy]``, ``[hedging]``, ``[fees]`` and
``[engine]`` exactly as a backtest file (``backtest/config.py``), and:

- ``[execution]``: slices, protection, the safety limits (``ServiceExecution``);
- ``[service]``: the database, the clock's speed, what to do with open orders on
  shutdown (``ServiceSettings``);
- ``[api]``: the HTTP API and dashboard, and where its bearer token comes from
  (``ApiSettings``);
- ``[exchange]``: the built-in simulated exchange (default) or real exchanges
  through ccxt, with API keys from environment variables or an owner-only key file
  (``ExchangeSettings``);
- ``[live]``: the market from the real venues' websockets instead of ``[simulation]``
  or ``[replay]`` (``LiveMarketSettings``);
- ``[chain]``: the chain with its oracle, pool, vaults and keeper (``ChainSettings``).

Every table is validated on load; a bad field is a ``ConfigError`` naming it.
``examples/service.toml`` is the default file.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

import pydantic

from hedgekeeper.backtest.config import EngineConfig, HedgingConfig, ReplayConfig, parse_book_and_tables
from hedgekeeper.config import StrictModel, load_toml
from hedgekeeper.engine.loop import UnderlyingFeed
from hedgekeeper.errors import ConfigError
from hedgekeeper.execution.fees import FeeSchedule
from hedgekeeper.execution.safety import SafetyLimits
from hedgekeeper.market.simulators.config import SimulationConfig
from hedgekeeper.policy.config import PolicyConfig, load_policy_config
from hedgekeeper.policy.risk_profile import RiskProfile, load_risk_profile
from hedgekeeper.portfolio.config import Book
from hedgekeeper.venues.ccxt.config import CcxtVenueConfig, ExchangeId


class ServiceSettings(StrictModel):
    """The ``[service]`` table.

    Attributes
    ----------
    name : the service's name, shown on the dashboard
    database_url : ``sqlite:///PATH`` (default, a file) or ``postgresql+psycopg://USER@HOST/DB``
    speed : engine seconds per wall-clock second for a simulated or replayed market
        (1: real time; 60: a minute per second); must be 1 with real exchanges
    on_shutdown : ``cancel`` the open orders on SIGINT/SIGTERM, or ``keep`` them working
    heartbeat_s : wall-clock seconds between heartbeats written to the store
    snapshot_interval_s : wall-clock seconds between the views handed to the API
    max_catch_up_s : engine seconds a simulated or replayed market moves on, at most, while
        the service is down (it moves on at ``speed`` times the time down; the simulated
        exchange lives through it, as a real one would)
    """

    name: str = pydantic.Field("hedgekeeper", min_length=1)
    database_url: str = pydantic.Field("sqlite:///out/service/hedgekeeper.sqlite", min_length=1)
    speed: float = pydantic.Field(1.0, gt=0.0, le=100_000.0)
    on_shutdown: Literal["cancel", "keep"] = "cancel"
    heartbeat_s: float = pydantic.Field(1.0, gt=0.0)
    snapshot_interval_s: float = pydantic.Field(0.2, gt=0.0)
    max_catch_up_s: float = pydantic.Field(3600.0, ge=0.0)


class ApiSettings(StrictModel):
    """The ``[api]`` table: the HTTP API and dashboard served by the same process.

    Attributes
    ----------
    enabled : serve the API (false: the engine alone)
    host, port : where uvicorn listens (port 0: any free port, logged)
    token_env : environment variable holding the bearer token
    token_file : file holding the token (readable by its owner only), used when the
        variable is unset; created with a random token if it does not exist
    """

    enabled: bool = True
    host: str = "127.0.0.1"
    port: int = pydantic.Field(8000, ge=0, le=65535)
    token_env: str = pydantic.Field("HEDGEKEEPER_API_TOKEN", min_length=1)
    token_file: str = "out/service/api-token"


class ServiceExecution(StrictModel):
    """The ``[execution]`` table: how hedges reach the exchanges (``execution/exchange_executor.py``).

    Attributes
    ----------
    slices : child orders per hedge (1: at once)
    interval_s : engine seconds between slices
    protection_bps : how far through the mid a child's limit price goes, basis points
    poll_interval_s : engine seconds between two askings of the venues for order states and
        fills while a hedge works (a real venue answers by rate-limited REST requests);
        default 0 for the built-in simulated exchange (every event), 0.5 for real exchanges
    fill_stream : take the account's fills from the venues' fill streams (private websockets)
        as they are pushed (fills of resting orders, a liquidation), asking for them by REST
        only while a stream is down, just after it opens and every ``fill_check_s`` as a
        safety net (the fills of our orders come with the orders' answers either way);
        default on with real exchanges, off with the
        built-in simulated exchange (whose own stream works too, but costs nothing to poll);
        a venue without a fill stream is asked by REST every ``poll_interval_s`` either way
    fill_check_s : with ``fill_stream``, engine seconds between two REST askings for the fills
        of a venue whose stream is up
    fill_reopen_s : with ``fill_stream``, wall seconds from a stream's failure to its reopening
    safety : the safety limits (``execution/safety.py``), or none (the kill switch works either way)
    """

    slices: int = pydantic.Field(1, ge=1)
    interval_s: float = pydantic.Field(0.0, ge=0.0)
    protection_bps: float = pydantic.Field(50.0, gt=0.0)
    poll_interval_s: float | None = pydantic.Field(None, ge=0.0)
    fill_stream: bool | None = None
    fill_check_s: float = pydantic.Field(30.0, gt=0.0)
    fill_reopen_s: float = pydantic.Field(1.0, ge=0.0)
    safety: SafetyLimits | None = None

    def poll_interval_ns(self, real_venues: bool) -> int:
        """Return the interval between askings of the venues, ns (see ``poll_interval_s``)."""
        seconds = self.poll_interval_s if self.poll_interval_s is not None else 0.5 if real_venues else 0.0
        return int(seconds * 1e9)

    def streams_fills(self, real_venues: bool) -> bool:
        """Return whether fills are taken from the venues' fill streams (see ``fill_stream``)."""
        return real_venues if self.fill_stream is None else self.fill_stream


class SimulatedExchangeSettings(StrictModel):
    """The built-in simulated exchange, one per venue of the hedged futures and perpetuals.

    Attributes
    ----------
    journal_path : its own file (SQLite), apart from the service's store: every request
        it received, so that it outlives the service as a real exchange would
    order_latency_ms : milliseconds from sending an order to its arrival at the book
    """

    journal_path: str = "out/service/exchange.sqlite"
    order_latency_ms: float = pydantic.Field(0.0, ge=0.0)


class CcxtAccount(StrictModel):
    """One real exchange account: the ccxt venue's settings and, optionally, a key file.

    Attributes
    ----------
    venue : ``venues/ccxt/config.py``'s ``CcxtVenueConfig`` (exchange, sandbox, markets,
        the names of the environment variables holding the keys)
    key_file : a TOML file with ``api_key``, ``api_secret`` (and ``api_password`` for OKX),
        readable by its owner only; when given it is used instead of the environment
    """

    venue: CcxtVenueConfig
    key_file: str | None = None


class ExchangeSettings(StrictModel):
    """The ``[exchange]`` table: where hedges are traded."""

    kind: Literal["simulated", "ccxt"] = "simulated"
    simulated: SimulatedExchangeSettings = SimulatedExchangeSettings()
    ccxt: list[CcxtAccount] = []

    @pydantic.model_validator(mode="after")
    def _accounts(self) -> ExchangeSettings:
        if self.kind == "ccxt" and not self.ccxt:
            raise ValueError("kind = 'ccxt' needs at least one [[exchange.ccxt]] account")
        return self


class LiveStream(StrictModel):
    """One market's data from a venue's websocket (ccxt.pro), as one of the engine's streams.

    Attributes
    ----------
    exchange : the ``[[exchange.ccxt]]`` account whose venue sends it: the stream comes from
        the same environment (sandbox or real) as that account's orders
    market_id : the venue's id of the market, e.g. ``BTC-PERPETUAL``
    stream : the engine's name for it (a hedge instrument's ``book_stream``, an underlying's
        ``spot_stream``); default our instrument id of the market, ``<market id>.<VENUE>``
    book : stream the order book (a snapshot each time the venue updates it)
    trades : stream the public trades
    marks : stream an option's implied vols from the venue's ticker (Deribit): the
        engine marks the option at the venue's mark vol
    """

    exchange: ExchangeId
    market_id: str = pydantic.Field(min_length=1)
    stream: str | None = pydantic.Field(None, min_length=1)
    book: bool = True
    trades: bool = False
    marks: bool = False

    @pydantic.model_validator(mode="after")
    def _at_least_one_kind(self) -> LiveStream:
        if not (self.book or self.trades or self.marks):
            raise ValueError(f"{self.market_id}: stream the book, the trades or the marks")
        return self


class LiveMarketSettings(StrictModel):
    """The ``[live]`` table: the market from real venues, as their websockets send it.

    Events carry the venue's own time; each is handed to the engine as it arrives
    (``service/live_market.py``).

    Attributes
    ----------
    streams : what to stream, at least one
    reconnect_s : wall-clock seconds before a stream that failed is opened again, > 0
    """

    streams: list[LiveStream] = pydantic.Field(min_length=1)
    reconnect_s: float = pydantic.Field(1.0, gt=0.0)


class ChainSettings(StrictModel):
    """The ``[chain]`` table: the chain with its oracle, pool, vaults and keeper, run beside the engine.

    The service deploys the system of ``system_file`` (``hedgekeeper chain deploy``'s file, whose
    optional ``[keeper]`` table holds the keeper's ``KeeperConfig``) on the in-process EVM, or on
    the node at ``rpc_url``, or attaches to a system deployed there before (``addresses_file``).
    The underlying's market price then drives the oracle, the pool and the keeper
    (``chain_component.py``).

    Attributes
    ----------
    enabled : run the chain with the service
    system_file : the chain system file (TOML), e.g. ``examples/chain.toml``
    rpc_url : a JSON-RPC node (``http://127.0.0.1:8545``) instead of the system file's backend
    addresses_file : a JSON file of addresses, as ``hedgekeeper chain deploy --json`` prints them:
        attach to that system instead of deploying one (needs a node: ``rpc_url`` or an ``rpc``
        backend in the system file)
    underlying : the hedged underlying whose price is the vaults' risk asset's (default: the only
        one hedged)
    price_stream : the stream its price is read from (default: the underlying's ``spot_stream``)
    price : ``scaled``: the market price times the oracle's price at start over the first market
        price seen (the path's returns, at the oracle's level, as ``chain keep`` replays recorded
        rounds); ``direct``: the market price itself, USD per coin
    block_interval_s : engine seconds between two chain ticks (post the price if due, trade the
        pool to it, one keeper step), > 0
    arbitrage : after each price posted, trade the pool to it from the deployer (as arbitrageurs would)
    move_time : set the chain's clock to each price's time (default: on the in-process EVM only)
    """

    enabled: bool = False
    system_file: str = pydantic.Field("examples/chain.toml", min_length=1)
    rpc_url: str | None = pydantic.Field(None, pattern=r"^https?://")
    addresses_file: str | None = None
    underlying: str | None = None
    price_stream: str | None = None
    price: Literal["scaled", "direct"] = "scaled"
    block_interval_s: float = pydantic.Field(12.0, gt=0.0)
    arbitrage: bool = True
    move_time: bool | None = None


class ServiceFile(StrictModel):
    """Every table of a service file but the book's (validated by ``parse_book``)."""

    service: ServiceSettings = ServiceSettings()
    api: ApiSettings = ApiSettings()
    simulation: SimulationConfig | None = None
    replay: ReplayConfig | None = None
    live: LiveMarketSettings | None = None
    policy: dict[str, Any]
    hedging: HedgingConfig
    fees: FeeSchedule
    engine: EngineConfig = EngineConfig()
    execution: ServiceExecution = ServiceExecution()
    exchange: ExchangeSettings = ExchangeSettings()
    chain: ChainSettings = ChainSettings()

    @pydantic.model_validator(mode="after")
    def _consistent(self) -> ServiceFile:
        if sum(source is not None for source in (self.simulation, self.replay, self.live)) != 1:
            raise ValueError("give exactly one market source: [simulation], [replay] or [live]")
        real = self.exchange.kind == "ccxt"
        if real and self.service.speed != 1.0:
            raise ValueError(f"service.speed must be 1 with real exchanges, got {self.service.speed:g}")
        if self.live is not None:
            if not real:
                raise ValueError("[live] market data needs [exchange] kind = 'ccxt': the simulated exchange "
                                 "is fed by [simulation] or [replay]")
            accounts = {account.venue.exchange for account in self.exchange.ccxt}
            unknown = sorted({s.exchange for s in self.live.streams} - accounts)
            if unknown:
                raise ValueError(f"live.streams: {', '.join(unknown)} has no [[exchange.ccxt]] account "
                                 f"(accounts: {', '.join(sorted(accounts))})")
        live = [a.venue.exchange for a in self.exchange.ccxt if not a.venue.sandbox] if real else []
        if live and self.live is None:  # never price real orders on a simulated or recorded market
            raise ValueError(f"exchange.ccxt: {', '.join(live)} with sandbox = false would trade real money on a "
                             "simulated or replayed market; stream the venues' own market with [live], or use "
                             "their sandboxes")
        return self

    def market_source(self) -> str:
        """Return which market the service runs on: ``simulation``, ``replay`` or ``live``."""
        return "simulation" if self.simulation is not None else "replay" if self.replay is not None else "live"


class ServiceSpec(pydantic.BaseModel):
    """A loaded service file: the book, the validated tables, the policy and the bands."""

    model_config = pydantic.ConfigDict(frozen=True, arbitrary_types_allowed=True)

    source: str
    book: Book
    file: ServiceFile
    policy: PolicyConfig
    profile: RiskProfile

    def feeds(self) -> list[UnderlyingFeed]:
        """Return the engine's feed per hedged underlying."""
        return self.file.hedging.feeds()

    def document(self) -> dict[str, Any]:
        """Return the configuration as stored with each version: no secret, only where secrets come from."""
        return {"source": self.source, **self.file.model_dump(mode="json", exclude={"simulation"}),
                "market": self.file.market_source()}


def parse_service(document: Mapping[str, Any], *, source: str = "") -> ServiceSpec:
    """Return the service described by a parsed TOML document; ``source`` names the file in errors.

    Raises
    ------
    ConfigError
        Naming the field that is wrong, in any table.
    """
    book, file = parse_book_and_tables(document, ServiceFile, source=source)
    chain = file.chain
    if chain.enabled:
        hedged = list(file.hedging.underlyings)
        if chain.underlying is None and len(hedged) != 1:
            raise ConfigError(f"{source}: chain.underlying: {len(hedged)} underlyings are hedged "
                              f"({', '.join(hedged)}); name the one whose price drives the chain")
        if chain.underlying is not None and chain.underlying not in hedged:
            raise ConfigError(f"{source}: chain.underlying: {chain.underlying!r} is not hedged; hedged: "
                              f"{', '.join(hedged)}")
    try:
        policy = load_policy_config(file.policy)
        profile = load_risk_profile(book.profile or {})
    except ConfigError as error:
        raise ConfigError(f"{source}: {error}") from None
    return ServiceSpec(source=source, book=book, file=file, policy=policy, profile=profile)


def load_service(path: str | Path) -> ServiceSpec:
    """Return the service in the TOML file at ``path`` (see ``parse_service``)."""
    return parse_service(load_toml(path), source=str(path))

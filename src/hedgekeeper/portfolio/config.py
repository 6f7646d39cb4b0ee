"""The TOML book file: instruments, positions, balances, the market snapshot, margin and profile.

A bad field raises ``ConfigError`` naming its path (``positions[3].size_contracts:
...``); an unknown instrument raises ``UnknownInstrument`` naming the id and where it
was used; bad market data raises ``BadData`` naming the underlying or option. The
layout (``examples/portfolio.toml`` is a full example)::

    as_of = 2025-06-13T08:00:00Z                 # UTC offset required

    [[instruments]]
    id = "BTC-PERPETUAL.DERIBIT"
    venue = "deribit"
    kind = "perpetual"                           # spot, perpetual, future, option
    settlement = "inverse"                       # linear (USD-margined) or inverse
    underlying = "BTC"
    settlement_currency = "BTC"
    contract_size = "10"                         # USD face for inverse futures, else coin
    tick_size = "0.5"
    lot_size = "1"                               # contracts
    min_size = "1"                               # contracts
    # expiry = 2025-06-27T08:00:00Z              futures and options
    # strike_usd = 110000                        options
    # option_type = "call"                       options

    [[positions]]
    instrument = "BTC-PERPETUAL.DERIBIT"
    size_contracts = -25000                      # signed; whole lots
    entry_price_usd = 104250.0                   # futures and perpetuals only

    [[balances]]
    venue = "deribit"
    currency = "BTC"
    amount = "41.25"                             # exact

    [market.BTC]
    spot_usd = 105000.0
    vol = 0.45                                   # flat vol for options without their own
    option_vols = { "BTC-27JUN25-110000-C.DERIBIT" = 0.47 }
    forwards_usd = { "2025-06-27T08:00:00Z" = 105300.0 }
    basis_rate = 0.06                            # for expiries without a forward
    rate = 0.0                                   # discounting of option premiums

    [margin]                                     # optional; see margin.py for defaults
    [profile]                                    # optional; read by policy.risk_profile

The ``[profile]`` table is returned as is: bands belong to ``policy``, a higher
layer, which reads it with ``load_risk_profile``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal

import pydantic

from hedgekeeper.config import StrictModel, load_toml, validate
from hedgekeeper.errors import BadData, ConfigError, UnknownInstrument
from hedgekeeper.portfolio.instruments import Instrument, InstrumentKind, InstrumentRegistry, Settlement
from hedgekeeper.portfolio.margin import MarginModel
from hedgekeeper.portfolio.market import MarketSnapshot, UnderlyingMarket
from hedgekeeper.portfolio.portfolio import Portfolio
from hedgekeeper.portfolio.positions import Balance, Position, check_position
from hedgekeeper.portfolio.values import Money, to_decimal
from hedgekeeper.timestamps import datetime_to_ns


class InstrumentEntry(StrictModel):
    """One ``[[instruments]]`` table (see ``Instrument`` for the meaning of each field)."""

    id: str = pydantic.Field(min_length=1)
    venue: str = pydantic.Field(min_length=1)
    kind: InstrumentKind
    settlement: Settlement
    underlying: str = pydantic.Field(min_length=1)
    settlement_currency: str = pydantic.Field(min_length=1)
    contract_size: Decimal = pydantic.Field(gt=0)
    tick_size: Decimal = pydantic.Field(gt=0)
    lot_size: Decimal = pydantic.Field(gt=0)
    min_size: Decimal = pydantic.Field(ge=0)
    expiry: pydantic.AwareDatetime | None = None
    strike_usd: Decimal | None = pydantic.Field(None, gt=0)
    option_type: Literal["call", "put"] | None = None


class PositionEntry(StrictModel):
    """One ``[[positions]]`` table: signed contracts, and the entry price of futures."""

    instrument: str
    size_contracts: float
    entry_price_usd: float | None = pydantic.Field(None, gt=0)


class BalanceEntry(StrictModel):
    """One ``[[balances]]`` table: an exact amount of a currency at a venue."""

    venue: str = pydantic.Field(min_length=1)
    currency: str = pydantic.Field(min_length=1)
    amount: Decimal = pydantic.Field(allow_inf_nan=False)


class UnderlyingMarketEntry(StrictModel):
    """One ``[market.<coin>]`` table; its numbers are checked by ``UnderlyingMarket`` (``BadData``)."""

    model_config = pydantic.ConfigDict(allow_inf_nan=True)

    spot_usd: float
    vol: float | None = None
    option_vols: dict[str, float] = {}
    forwards_usd: dict[pydantic.AwareDatetime, float] = {}
    basis_rate: float | None = None
    rate: float = 0.0


class BookFile(StrictModel):
    """The whole book file."""

    as_of: pydantic.AwareDatetime
    instruments: list[InstrumentEntry] = pydantic.Field(min_length=1)
    positions: list[PositionEntry] = []
    balances: list[BalanceEntry] = []
    market: dict[str, UnderlyingMarketEntry]
    margin: MarginModel = MarginModel()
    profile: dict[str, Any] | None = None


@dataclass(frozen=True)
class Book:
    """A loaded book: everything a ``Portfolio`` needs, and the raw ``[profile]`` table."""

    registry: InstrumentRegistry
    positions: tuple[Position, ...]
    balances: tuple[Balance, ...]
    market: MarketSnapshot
    margin_model: MarginModel
    profile: Mapping[str, Any] | None

    def portfolio(self) -> Portfolio:
        """Return the portfolio of this book on its market snapshot."""
        return Portfolio(self.registry, self.positions, self.balances, self.market, self.margin_model)


def load_book(path: str | Path) -> Book:
    """Return the book in the TOML file at ``path``.

    Raises
    ------
    ConfigError
        If the file is missing, malformed or has a bad field; the message names the field.
    UnknownInstrument
        If a position or option vol names an instrument not defined in the file.
    BadData
        If the market snapshot has a NaN, non-positive or otherwise invalid number.

    Examples
    --------
    >>> book = load_book(Path(__file__).parents[3] / "examples" / "portfolio.toml")
    >>> sorted(book.market.underlyings)
    ['BTC', 'ETH']
    """
    return parse_book(load_toml(path), source=str(path))


def parse_book(document: Mapping[str, Any], *, source: str = "") -> Book:
    """Return the book in a parsed TOML document (see ``load_book``); ``source`` names it in errors."""
    where = f"{source}: " if source else ""
    entries = validate(BookFile, document, source=source)

    instruments = []
    for i, entry in enumerate(entries.instruments):
        try:
            instruments.append(_instrument(entry))
        except ConfigError as error:
            raise ConfigError(f"{where}instruments[{i}]: {error}") from None
    try:
        registry = InstrumentRegistry(instruments)
    except ConfigError as error:
        raise ConfigError(f"{where}instruments: {error}") from None

    positions = []
    for i, entry in enumerate(entries.positions):
        path = f"{where}positions[{i}]"
        try:
            instrument = registry.get(entry.instrument)
        except UnknownInstrument as error:
            raise UnknownInstrument(f"{path}.instrument: {error}") from None
        position = Position(entry.instrument, entry.size_contracts, entry.entry_price_usd)
        try:
            check_position(position, instrument)
        except ConfigError as error:
            raise ConfigError(f"{path}: {error}") from None
        if to_decimal(entry.size_contracts) % instrument.lot_size != 0:
            raise ConfigError(
                f"{path}.size_contracts: {entry.size_contracts} is not a whole number of lots "
                f"({instrument.lot_size} contracts) of {instrument.instrument_id}"
            )
        positions.append(position)

    balances = tuple(Balance(entry.venue, Money(entry.amount, entry.currency)) for entry in entries.balances)

    underlyings = {}
    for name, entry in entries.market.items():
        for instrument_id in entry.option_vols:
            try:
                registry.get(instrument_id)
            except UnknownInstrument as error:
                raise UnknownInstrument(f"{where}market.{name}.option_vols: {error}") from None
        try:
            underlyings[name] = UnderlyingMarket(
                underlying=name,
                spot_usd=entry.spot_usd,
                vol=entry.vol,
                option_vols=entry.option_vols,
                forwards_usd={datetime_to_ns(expiry): forward for expiry, forward in entry.forwards_usd.items()},
                basis_rate=entry.basis_rate,
                rate=entry.rate,
            )
        except BadData as error:
            raise BadData(f"{where}market.{name}: {error}") from None

    return Book(
        registry=registry,
        positions=tuple(positions),
        balances=balances,
        market=MarketSnapshot(datetime_to_ns(entries.as_of), underlyings),
        margin_model=entries.margin,
        profile=entries.profile,
    )


def _instrument(entry: InstrumentEntry) -> Instrument:
    return Instrument(
        instrument_id=entry.id,
        venue=entry.venue,
        kind=entry.kind,
        settlement=entry.settlement,
        underlying=entry.underlying,
        settlement_currency=entry.settlement_currency,
        contract_size=entry.contract_size,
        tick_size=entry.tick_size,
        lot_size=entry.lot_size,
        min_size=entry.min_size,
        expiry_ns=None if entry.expiry is None else datetime_to_ns(entry.expiry),
        strike_usd=entry.strike_usd,
        is_call=None if entry.option_type is None else entry.option_type == "call",
    )

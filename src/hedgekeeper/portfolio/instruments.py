"""Instruments with their venue metadata, and the registry that finds them by id.

Five kinds, each linear (USD-margined, settled in a dollar stablecoin) or inverse
(coin-margined, settled in the underlying coin, as on Deribit):

=============  =========================================  ===============================
kind           contract size means                        price quoted in
=============  =========================================  ===============================
spot           coin per contract (linear only)            USD per coin
perpetual      coin per contract; inverse: USD of face    USD per coin
future         coin per contract; inverse: USD of face    USD per coin
option         coin of underlying per contract            USD per coin; inverse: coin
=============  =========================================  ===============================

Deribit's BTC futures are inverse with 10 USD of face per contract; its BTC options
are inverse with 1 BTC per contract, premiums in BTC. Binance's BTCUSDT perpetual is
linear with sizes in BTC (contract size 1, lot 0.001).

Positions are counted in contracts; ``tick_size`` is in the quote currency and
``lot_size`` and ``min_size`` are in contracts. Exact values (``Price``,
``Quantity``, ``Money``) are made here, at the instrument's precision.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from enum import StrEnum

from hedgekeeper.errors import ConfigError, UnknownInstrument
from hedgekeeper.portfolio.values import Money, Price, Quantity, decimal_places, is_usd_currency, to_decimal


class InstrumentKind(StrEnum):
    """What an instrument is: spot, perpetual swap, dated future or European option."""

    SPOT = "spot"
    PERPETUAL = "perpetual"
    FUTURE = "future"
    OPTION = "option"


class Settlement(StrEnum):
    """How an instrument is margined and settled: in USD (linear) or in the coin (inverse)."""

    LINEAR = "linear"
    INVERSE = "inverse"


@dataclass(frozen=True, kw_only=True)
class Instrument:
    """A tradable instrument and its venue's rules.

    Parameters
    ----------
    instrument_id : unique id across venues, e.g. ``"BTC-PERPETUAL.DERIBIT"``
    venue : the venue's name, e.g. ``"deribit"``
    kind, settlement : see the module docstring
    underlying : the coin, e.g. ``"BTC"``
    settlement_currency : the coin itself for inverse instruments, a USD stablecoin
        for linear derivatives, the quote currency (USD-like) for spot
    contract_size : Decimal > 0, coin per contract, or USD of face per contract for
        inverse futures and perpetuals
    tick_size : Decimal > 0, price increment in the quote currency
    lot_size : Decimal > 0, size increment in contracts
    min_size : Decimal >= 0, smallest order in contracts
    expiry_ns : int, expiry in ns since the epoch UTC (futures and options only)
    strike_usd : Decimal > 0, USD per coin (options only)
    is_call : bool (options only)

    Raises
    ------
    ConfigError
        If the fields contradict each other (an option without a strike, an inverse
        instrument settled in another currency, a perpetual with an expiry, ...).

    Examples
    --------
    >>> perp = Instrument(instrument_id="BTC-PERPETUAL.DERIBIT", venue="deribit",
    ...     kind=InstrumentKind.PERPETUAL, settlement=Settlement.INVERSE, underlying="BTC",
    ...     settlement_currency="BTC", contract_size=Decimal(10), tick_size=Decimal("0.5"),
    ...     lot_size=Decimal(1), min_size=Decimal(1))
    >>> perp.make_price(105_000.3, round_down=True), perp.contract_unit
    (Price(value=Decimal('105000.0'), precision=1), 'USD')
    """

    instrument_id: str
    venue: str
    kind: InstrumentKind
    settlement: Settlement
    underlying: str
    settlement_currency: str
    contract_size: Decimal
    tick_size: Decimal
    lot_size: Decimal
    min_size: Decimal
    expiry_ns: int | None = None
    strike_usd: Decimal | None = None
    is_call: bool | None = None

    def __post_init__(self) -> None:
        problem = self._inconsistency()
        if problem is not None:
            raise ConfigError(f"instrument {self.instrument_id!r}: {problem}")

    def _inconsistency(self) -> str | None:
        for name in ("contract_size", "tick_size", "lot_size"):
            if not getattr(self, name) > 0:
                return f"{name} must be > 0, got {getattr(self, name)}"
        if self.min_size < 0:
            return f"min_size must be >= 0, got {self.min_size}"
        is_option = self.kind is InstrumentKind.OPTION
        if is_option != (self.strike_usd is not None) or is_option != (self.is_call is not None):
            return "strike and option type are required for options and refused for other kinds"
        if self.strike_usd is not None and not self.strike_usd > 0:
            return f"strike must be > 0, got {self.strike_usd}"
        if (self.kind in (InstrumentKind.FUTURE, InstrumentKind.OPTION)) != (self.expiry_ns is not None):
            return "an expiry is required for futures and options and refused for spot and perpetuals"
        if self.settlement is Settlement.INVERSE:
            if self.kind is InstrumentKind.SPOT:
                return "spot is linear: the coin is bought with USD"
            if self.settlement_currency != self.underlying:
                return f"an inverse instrument settles in {self.underlying}, not {self.settlement_currency}"
        elif not is_usd_currency(self.settlement_currency):
            return f"a linear instrument settles in a USD currency, not {self.settlement_currency}"
        return None

    @property
    def is_option(self) -> bool:
        """Return whether this is an option."""
        return self.kind is InstrumentKind.OPTION

    @property
    def is_inverse(self) -> bool:
        """Return whether this is coin-margined (inverse)."""
        return self.settlement is Settlement.INVERSE

    @property
    def contract_unit(self) -> str:
        """Return the unit of ``contract_size``: ``"USD"`` for inverse futures and perpetuals, else the coin."""
        return "USD" if self.is_inverse and not self.is_option else self.underlying

    @property
    def quote_currency(self) -> str:
        """Return the currency prices are quoted in: the coin for inverse options, else USD."""
        return self.underlying if self.is_inverse and self.is_option else "USD"

    @property
    def margin_currency(self) -> str:
        """Return the currency of the account the position sits in: the coin bought for spot."""
        return self.underlying if self.kind is InstrumentKind.SPOT else self.settlement_currency

    def make_price(self, value: Decimal | float | int | str, *, round_down: bool) -> Price:
        """Return ``value`` rounded to a multiple of the tick size, down or up as chosen.

        >>> from hedgekeeper.portfolio.instruments import example_instruments
        >>> call = example_instruments()[1]
        >>> str(call.make_price(0.03412, round_down=False))
        '0.0345'
        """
        number = to_decimal(value, f"price of {self.instrument_id}")
        return Price(_round_to_increment(number, self.tick_size, round_down), decimal_places(self.tick_size))

    def make_qty(self, value: Decimal | float | int | str, *, round_down: bool) -> Quantity:
        """Return the size ``value`` (contracts, >= 0) rounded to a multiple of the lot size.

        >>> from hedgekeeper.portfolio.instruments import example_instruments
        >>> call = example_instruments()[1]
        >>> call.make_qty(2.57, round_down=True)
        Quantity(value=Decimal('2.5'), precision=1)
        """
        number = to_decimal(value, f"size of {self.instrument_id}")
        return Quantity(_round_to_increment(number, self.lot_size, round_down), decimal_places(self.lot_size))

    def make_money(self, amount: Decimal | int | str) -> Money:
        """Return an exact amount of the settlement currency (a fee, a P&L), never rounded.

        >>> from hedgekeeper.portfolio.instruments import example_instruments
        >>> str(example_instruments()[0].make_money("-0.00012345"))
        '-0.00012345 BTC'
        """
        return Money(to_decimal(amount, f"amount in {self.settlement_currency}"), self.settlement_currency)

    def is_tradable_size(self, quantity: Quantity) -> bool:
        """Return whether ``quantity`` is a whole number of lots and at least the minimum size."""
        return quantity.value >= self.min_size and quantity.value % self.lot_size == 0


def _round_to_increment(value: Decimal, increment: Decimal, round_down: bool) -> Decimal:
    steps = (value / increment).to_integral_value(rounding=ROUND_FLOOR if round_down else ROUND_CEILING)
    return (steps * increment).quantize(increment)


class InstrumentRegistry:
    """Instruments by id; looking up an unknown id raises ``UnknownInstrument`` naming it.

    Parameters
    ----------
    instruments : iterable of Instrument, ids unique

    Raises
    ------
    ConfigError
        If two instruments share an id.

    Examples
    --------
    >>> registry = InstrumentRegistry(example_instruments())
    >>> registry.get("BTC-PERPETUAL.DERIBT").venue  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    hedgekeeper.errors.UnknownInstrument: unknown instrument 'BTC-PERPETUAL.DERIBT'; close ...
    """

    def __init__(self, instruments: Iterable[Instrument]) -> None:
        self._by_id: dict[str, Instrument] = {}
        for instrument in instruments:
            if instrument.instrument_id in self._by_id:
                raise ConfigError(f"instrument {instrument.instrument_id!r} is defined twice")
            self._by_id[instrument.instrument_id] = instrument

    def get(self, instrument_id: str) -> Instrument:
        """Return the instrument with id ``instrument_id``.

        Raises
        ------
        UnknownInstrument
            Naming the id and listing up to three close matches.
        """
        try:
            return self._by_id[instrument_id]
        except KeyError:
            matches = difflib.get_close_matches(instrument_id, self._by_id, n=3, cutoff=0.6)
            hint = "; close matches: " + ", ".join(repr(m) for m in matches) if matches else ""
            raise UnknownInstrument(f"unknown instrument {instrument_id!r}{hint}") from None

    def __contains__(self, instrument_id: object) -> bool:
        return instrument_id in self._by_id

    def __iter__(self) -> Iterator[Instrument]:
        return iter(self._by_id.values())

    def __len__(self) -> int:
        return len(self._by_id)


def example_instruments() -> tuple[Instrument, Instrument]:
    """Return Deribit's BTC perpetual and a BTC 27 Jun 2025 110,000 call, for examples and tests."""
    perpetual = Instrument(
        instrument_id="BTC-PERPETUAL.DERIBIT", venue="deribit", kind=InstrumentKind.PERPETUAL,
        settlement=Settlement.INVERSE, underlying="BTC", settlement_currency="BTC",
        contract_size=Decimal(10), tick_size=Decimal("0.5"), lot_size=Decimal(1), min_size=Decimal(1),
    )
    call = Instrument(
        instrument_id="BTC-27JUN25-110000-C.DERIBIT", venue="deribit", kind=InstrumentKind.OPTION,
        settlement=Settlement.INVERSE, underlying="BTC", settlement_currency="BTC",
        contract_size=Decimal(1), tick_size=Decimal("0.0005"), lot_size=Decimal("0.1"),
        min_size=Decimal("0.1"), expiry_ns=1_751_011_200_000_000_000, strike_usd=Decimal(110_000), is_call=True,
    )
    return perpetual, call

"""The engine's live book: positions, balances and market, changed by events and fills.

``Portfolio`` (``portfolio/``) values a fixed set of positions on a market; the
engine's book changes. ``BookState`` holds the changing parts, applies each change
through the pure functions of ``portfolio/`` (``apply_fill``), and rebuilds the
``Portfolio`` lazily, only when a valuation is asked for after a change. It also
does what time does to a book: options and futures that reach expiry are settled
at their intrinsic value on the spot (cash settlement, as on Deribit), and
perpetuals pay or receive funding.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Sequence

from hedgekeeper.portfolio.fills import apply_cash_flow, apply_fill
from hedgekeeper.portfolio.instruments import Instrument, InstrumentKind, InstrumentRegistry
from hedgekeeper.portfolio.margin import MarginModel
from hedgekeeper.portfolio.market import MarketSnapshot, UnderlyingMarket
from hedgekeeper.portfolio.portfolio import Portfolio
from hedgekeeper.portfolio.positions import Balance, Position

logger = logging.getLogger(__name__)


def _intrinsic(instrument: Instrument, spot_usd: float) -> float:
    """Return the settlement price at expiry, in the instrument's quote currency."""
    if instrument.kind is InstrumentKind.FUTURE:
        return spot_usd
    strike = float(instrument.strike_usd)  # type: ignore[arg-type]
    payoff = max(spot_usd - strike, 0.0) if instrument.is_call else max(strike - spot_usd, 0.0)
    return payoff / spot_usd if instrument.is_inverse else payoff


class BookState:
    """Positions, balances and the market they are valued on, as the engine changes them.

    Parameters
    ----------
    registry : every instrument that may be held or traded
    positions, balances : the book at the start
    market : the market snapshot at the start
    margin_model : the margin model, or None for the defaults
    """

    def __init__(
        self,
        registry: InstrumentRegistry,
        positions: Sequence[Position],
        balances: Sequence[Balance],
        market: MarketSnapshot,
        margin_model: MarginModel | None = None,
    ) -> None:
        self.registry = registry
        self.positions = tuple(positions)
        self.balances = tuple(balances)
        self.market = market
        self.margin_model = margin_model
        self._portfolio: Portfolio | None = None

    @property
    def portfolio(self) -> Portfolio:
        """Return the portfolio valued on the current market, rebuilt if anything changed."""
        if self._portfolio is None:
            self._portfolio = Portfolio(self.registry, self.positions, self.balances, self.market, self.margin_model)
        return self._portfolio

    def position(self, instrument_id: str) -> float:
        """Return the signed number of contracts held of ``instrument_id`` (0 if none)."""
        return next((p.size_contracts for p in self.positions if p.instrument_id == instrument_id), 0.0)

    def set_spot(self, underlying: str, spot_usd: float) -> None:
        """Move ``underlying``'s spot (forwards in proportion), revaluing only its book."""
        self.market = self.market.with_spot(underlying, spot_usd)
        if self._portfolio is not None and underlying in self._portfolio.underlyings:
            self._portfolio.update_spot(underlying, spot_usd)
        else:
            self._portfolio = None

    def set_option_vol(self, instrument_id: str, vol: float) -> None:
        """Set the implied vol at which ``instrument_id`` is marked (annualised decimal)."""
        underlying = self.registry.get(instrument_id).underlying
        current = self.market.underlying(underlying)
        vols = dict(current.option_vols) | {instrument_id: vol}
        self._replace_underlying(dataclasses.replace(current, option_vols=vols))

    def advance_to(self, now_ns: int) -> None:
        """Move the valuation time to ``now_ns``, settling whatever expired on the way."""
        if now_ns == self.market.as_of_ns:
            return
        self.market = dataclasses.replace(self.market, as_of_ns=now_ns)
        self._settle_expired(now_ns)
        self._portfolio = None

    def apply_fill(self, instrument_id: str, size_contracts: float, price: float, fee: float) -> None:
        """Book a fill (price in the instrument's quote currency, fee in its account's currency)."""
        instrument = self.registry.get(instrument_id)
        self.positions, self.balances = apply_fill(
            self.positions, self.balances, instrument, size_contracts, price, fee
        )
        self._portfolio = None

    def pay_funding(self, instrument_id: str, rate: float, mark_usd: float) -> float:
        """Settle one funding interval of a perpetual; return the amount received, account currency.

        Longs pay ``rate * notional`` to shorts when ``rate > 0``. The notional is the
        position's coin size times the mark for a linear perpetual, its USD face for an
        inverse one (paid in coin: face / mark).
        """
        size = self.position(instrument_id)
        if size == 0.0:
            return 0.0
        instrument = self.registry.get(instrument_id)
        face = size * float(instrument.contract_size)
        received = -rate * (face / mark_usd if instrument.is_inverse else face * mark_usd)
        venue, currency = instrument.venue, instrument.margin_currency
        self.balances = apply_cash_flow(self.balances, venue, currency, received)
        logger.debug("funding %s on %s: %+.8f %s at %s", rate, instrument_id, received, currency, venue)
        self._portfolio = None
        return received

    def _settle_expired(self, now_ns: int) -> None:
        expired = [
            p for p in self.positions
            if (expiry := self.registry.get(p.instrument_id).expiry_ns) is not None and expiry <= now_ns
        ]
        for position in expired:
            instrument = self.registry.get(position.instrument_id)
            spot_usd = self.market.underlying(instrument.underlying).spot_usd
            price = _intrinsic(instrument, spot_usd)
            if price > 0.0:
                self.apply_fill(position.instrument_id, -position.size_contracts, price, 0.0)
            else:
                self.positions = tuple(p for p in self.positions if p.instrument_id != position.instrument_id)
            logger.info("settled %s at expiry: %g contracts at %g", position.instrument_id,
                        position.size_contracts, price)

    def _replace_underlying(self, underlying_market: UnderlyingMarket) -> None:
        markets = dict(self.market.underlyings) | {underlying_market.underlying: underlying_market}
        self.market = dataclasses.replace(self.market, underlyings=markets)
        self._portfolio = None

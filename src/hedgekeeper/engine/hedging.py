"""From a decision to fills: describe the hedge instruments, plan with HiGHS, execute.

``PlannerHedger`` is the engine's ``Hedger`` for simulated markets. For the
underlying of a decision it:

1. describes each configured hedge instrument as a planner ``Candidate``. What one
   contract does to each Greek is measured, not assumed: the instrument is bought
   at its model price into an empty book (``apply_fill``: position plus the premium
   paid, in the currency really paid) and that one-contract book is valued like the
   real one. So an inverse option's premium-adjusted delta, a future's forward
   ratio and an inverse perpetual's coin delta all come out of the same code that
   values the portfolio. Costs are the venue's taker fee plus the half-spread (of
   the book; for options without a book, half the configured vol spread times
   vega); impact is the book's own walk (``execution/book_impact.py``); margin is
   the one-contract book's initial margin;
2. asks the planner (``planner.solve.plan_trades``) for the least-cost trades that
   bring the Greeks into the decision's goal;
3. executes them and books every fill: instruments with an order book through its
   ``BookExecutor`` (the ``SimulatedTaker`` taking the book at once, or
   ``execution/exchange_executor.py`` sending orders to a venue, whose fills may
   arrive later: ``poll``), options without a book at the model price crossed by
   half the vol spread.
"""

from __future__ import annotations

import logging
import math

import numpy as np
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from hedgekeeper.engine.book_state import BookState
from hedgekeeper.execution.book_impact import book_impact_curve
from hedgekeeper.execution.fill_record import FillRecord
from hedgekeeper.execution.simulated_taker import SimulatedTaker, TakerFill
from hedgekeeper.market.order_book import OrderBook
from hedgekeeper.planner.candidates import Candidate
from hedgekeeper.planner.impact import ImpactCurve
from hedgekeeper.planner.request import PlanRequest
from hedgekeeper.planner.solve import plan_trades
from hedgekeeper.policy.decision import Decision, Greek, RiskSnapshot
from hedgekeeper.portfolio.fills import apply_fill
from hedgekeeper.portfolio.instruments import Instrument
from hedgekeeper.portfolio.market import year_fraction
from hedgekeeper.portfolio.portfolio import Portfolio
from hedgekeeper.pricing import black76_price, inverse_price

logger = logging.getLogger(__name__)


class BookExecutor(Protocol):
    """Trades an instrument that has an order book, at once or over time."""

    def execute(self, instrument: Instrument, size_contracts: float, book: OrderBook, now_ns: int
                ) -> Sequence[TakerFill]:
        """Start trading ``size_contracts`` (signed); return the fills made at once."""
        ...

    def poll(self, now_ns: int) -> Sequence[TakerFill]:
        """Return the fills made since the last call (of trades started earlier)."""
        ...

    def working(self, underlying: str) -> bool:
        """Return whether trades of ``underlying`` are still being worked."""
        ...

    def close(self) -> None:
        """Release what the executor holds (its event loop); it takes no trade after."""
        ...


@dataclass(frozen=True, kw_only=True)
class HedgeInstrument:
    """An instrument the hedger may trade.

    Attributes
    ----------
    instrument_id : the instrument's id in the registry
    book_stream : the stream of its order book (default: the instrument id); None
        for an option traded off the model price
    max_position_contracts : the largest position either way, contracts
    """

    instrument_id: str
    book_stream: str | None = None
    max_position_contracts: float = math.inf


@dataclass(frozen=True)
class _Unit:
    """One contract of an instrument, bought at its model price into an empty book."""

    model_price: float  # quote currency
    sensitivities: dict[Greek, float]
    initial_margin_usd: float


def _option_terms(book: BookState, instrument: Instrument) -> tuple[float, float, float]:
    """Return an option's forward (USD per coin), time to expiry (ACT/365 years) and mark vol."""
    market = book.market.underlying(instrument.underlying)
    expiry = np.array([instrument.expiry_ns], dtype=np.int64)
    forward = float(market.forward_usd(expiry, book.market.as_of_ns)[0])
    t_years = float(year_fraction(book.market.as_of_ns, instrument.expiry_ns))  # type: ignore[arg-type]
    strike = np.array([float(instrument.strike_usd)])  # type: ignore[arg-type]
    vol = float(market.implied_vol([instrument.instrument_id], strike, np.array([t_years]), np.array([forward]))[0])
    return forward, t_years, vol


def _option_value_usd(book: BookState, instrument: Instrument, vol: float) -> float:
    """Return an option's value in USD per coin of notional at ``vol``, as the portfolio marks it.

    An inverse option's coin price is worth the spot in USD per coin.
    """
    market = book.market.underlying(instrument.underlying)
    forward, t_years, _ = _option_terms(book, instrument)
    args = (forward, float(instrument.strike_usd), t_years, vol, instrument.is_call, market.rate)  # type: ignore[arg-type]
    if instrument.is_inverse:
        return float(inverse_price(*args)) * market.spot_usd
    return float(black76_price(*args))


@dataclass(frozen=True)
class PlannerHedger:
    """Plan rebalances with the planner and fill them on the simulated market.

    Parameters
    ----------
    instruments : per underlying, the instruments the hedger may trade
    taker : SimulatedTaker (fees, and the options traded off the model price)
    option_vol_spread : the options' bid-ask spread in annualised vol (0.02 is 2 points)
    executor : BookExecutor for the instruments with a book; the taker when None
    """

    instruments: Mapping[str, Sequence[HedgeInstrument]]
    taker: SimulatedTaker
    option_vol_spread: float = 0.02
    executor: BookExecutor | None = None

    @property
    def book_executor(self) -> BookExecutor:
        """Return the executor of the instruments with a book."""
        return self.executor if self.executor is not None else self.taker

    def hedge(
        self,
        decision: Decision,
        risk: RiskSnapshot,
        book: BookState,
        order_books: Mapping[str, OrderBook],
        now_ns: int,
    ) -> Sequence[FillRecord]:
        """Plan and execute the rebalance of ``decision``; return the fills, booked in ``book``."""
        hedges = self.instruments.get(decision.underlying, ())
        portfolio = book.portfolio
        equity_usd = portfolio.risk().equity_usd
        candidates = [self._candidate(h, book, order_books, equity_usd) for h in hedges]
        candidates = [c for c in candidates if c is not None]
        valuation = portfolio.valuation()
        margin_free_usd = max(float(valuation.equity_usd.sum() - valuation.initial_margin_usd.sum()), 0.0)
        request = PlanRequest.from_decision(decision, risk, candidates, margin_available_usd=margin_free_usd)
        plan = plan_trades(request)
        if not plan.reaches_goal:
            logger.warning("%s rebalance at %d: %s", decision.underlying, now_ns, plan.message)
        fills: list[TakerFill] = []
        for trade in plan.trades:
            hedge = next(h for h in hedges if h.instrument_id == trade.instrument_id)
            fills += self._execute(hedge, trade.contracts, book, order_books, now_ns)
        return _booked(fills, book)

    def poll(self, book: BookState, now_ns: int) -> Sequence[FillRecord]:
        """Book and return the fills of earlier rebalances that arrived since the last call."""
        return _booked(self.book_executor.poll(now_ns), book)

    def working(self, underlying: str) -> bool:
        """Return whether a rebalance of ``underlying`` is still being executed."""
        return self.book_executor.working(underlying)

    def close(self) -> None:
        """Close the executor (at the end of a run)."""
        self.book_executor.close()

    def _unit(self, instrument: Instrument, book: BookState) -> _Unit:
        market = book.market.underlying(instrument.underlying)
        if instrument.is_option:
            value_usd = _option_value_usd(book, instrument, _option_terms(book, instrument)[2])
            model_price = value_usd / market.spot_usd if instrument.is_inverse else value_usd
        elif instrument.expiry_ns is not None:
            model_price = float(market.forward_usd([instrument.expiry_ns], book.market.as_of_ns)[0])
        else:
            model_price = market.spot_usd
        positions, balances = apply_fill((), (), instrument, 1.0, model_price)
        one = Portfolio(book.registry, positions, balances, book.market, book.margin_model)
        risk = one.risk().underlying(instrument.underlying)
        return _Unit(
            model_price=model_price,
            sensitivities={
                Greek.DELTA_COIN: risk.delta_coin,
                Greek.GAMMA_USD_PER_PCT: risk.gamma_usd_per_pct,
                Greek.VEGA_USD_PER_VOL_PT: risk.vega_usd_per_vol_pt,
            },
            initial_margin_usd=float(one.valuation().initial_margin_usd.sum()),
        )

    def _candidate(
        self, hedge: HedgeInstrument, book: BookState, order_books: Mapping[str, OrderBook], equity_usd: float
    ) -> Candidate | None:
        instrument = book.registry.get(hedge.instrument_id)
        spot_usd = book.market.underlying(instrument.underlying).spot_usd
        unit = self._unit(instrument, book)
        sensitivities = dict(unit.sensitivities)
        sensitivities[Greek.WEIGHT] = sensitivities[Greek.DELTA_COIN] * spot_usd / equity_usd
        fee_rate = self.taker.fees.rates(instrument.venue).taker
        impact = ImpactCurve()
        if instrument.is_option:
            notional_usd = float(instrument.contract_size) * spot_usd
            half_spread_usd = abs(sensitivities[Greek.VEGA_USD_PER_VOL_PT]) * 100.0 * self.option_vol_spread / 2.0
            cost_fraction = fee_rate + half_spread_usd / notional_usd
        else:
            order_book = order_books.get(hedge.book_stream or hedge.instrument_id)
            if order_book is None or order_book.mid_usd is None:
                logger.warning("no order book for %s: not a candidate", hedge.instrument_id)
                return None
            contract = float(instrument.contract_size)
            coin_per_contract = contract / order_book.mid_usd if instrument.is_inverse else contract
            notional_usd = coin_per_contract * order_book.mid_usd
            half_spread = (order_book.best_ask_usd - order_book.best_bid_usd) / (2.0 * order_book.mid_usd)  # type: ignore[operator]
            cost_fraction = fee_rate + half_spread
            impact = book_impact_curve(order_book, coin_per_contract)
        position = book.position(hedge.instrument_id)
        margin = unit.initial_margin_usd
        return Candidate(
            instrument_id=hedge.instrument_id,
            sensitivities=sensitivities,
            price_usd=notional_usd,
            cost_fraction=cost_fraction,
            lot_size=float(instrument.lot_size),
            min_size=float(instrument.min_size),
            position=position,
            min_position=-hedge.max_position_contracts,
            max_position=hedge.max_position_contracts,
            impact=impact,
            initial_margin_long_usd=margin,
            initial_margin_short_usd=margin,
        )

    def _execute(
        self,
        hedge: HedgeInstrument,
        contracts: float,
        book: BookState,
        order_books: Mapping[str, OrderBook],
        now_ns: int,
    ) -> Sequence[TakerFill]:
        instrument = book.registry.get(hedge.instrument_id)
        if not instrument.is_option:
            order_book = order_books[hedge.book_stream or hedge.instrument_id]
            return self.book_executor.execute(instrument, contracts, order_book, now_ns)
        vol = _option_terms(book, instrument)[2]
        crossed_vol = max(vol + math.copysign(self.option_vol_spread / 2.0, contracts), 1e-4)
        spot_usd = book.market.underlying(instrument.underlying).spot_usd
        return [self.taker.take_option(
            instrument, contracts,
            model_price_usd=_option_value_usd(book, instrument, vol),
            crossed_price_usd=_option_value_usd(book, instrument, crossed_vol),
            spot_usd=spot_usd, now_ns=now_ns,
        )]


def _booked(fills: Sequence[TakerFill], book: BookState) -> list[FillRecord]:
    """Book ``fills`` in ``book``; return their records."""
    for fill in fills:
        book.apply_fill(fill.record.instrument_id, fill.record.size_contracts, fill.price, fill.fee)
    return [fill.record for fill in fills]

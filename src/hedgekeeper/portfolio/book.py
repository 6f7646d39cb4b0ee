"""One underlying's positions as structure-of-arrays, valued in one vectorized pass.

A portfolio keeps one ``UnderlyingBook`` per underlying: its options, futures,
spot and coin balances as contiguous arrays, split by kind and settlement so that
each block is one call of a pricing kernel. A spot tick re-values only the book of
the coin that moved; the others keep their last valuation.

Market inputs are held fixed between market updates (``MarketInputs``): each
position's forward as a ratio to spot ``F / S`` (forwards move with spot), its
ACT/365 time to expiry and its implied vol (sticky strike: a spot move does not
re-read the smile).

Valuation, per position, in USD, with ``S`` the spot index, ``F = (F/S) S``,
``q`` a size in coin and ``N`` an inverse future's USD face::

    linear option      q * black76(F)                 equity of a USD account
    inverse option     S * q * black76(F) / F         coin equity of the coin account, at S
    linear future      q * (F - entry)                unrealised P&L
    inverse future     S * N * (1/entry - 1/F)        coin P&L, at S
    spot, coin         q * S

Greeks are derivatives of the book's USD equity with respect to ``S`` (forwards
moving with it), vol and calendar time. Following Deribit, the delta splits into a
*position* delta (premium-adjusted delta of inverse options, ``N / F`` of inverse
futures, ``q F/S N(d1)`` of linear options, ``q F/S`` of linear futures) and a
*collateral* delta: the coin equity of coin accounts (balances, inverse futures'
coin P&L, inverse options' coin value), one coin of delta per coin. Their sum is
``d(USD equity) / dS``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np
from numpy.typing import NDArray

from hedgekeeper.errors import BadData
from hedgekeeper.portfolio.instruments import Instrument, InstrumentKind
from hedgekeeper.portfolio.margin import (
    MarginSchedule,
    inverse_future_margin_coin,
    short_option_margin,
    tiered_margin_usd,
)
from hedgekeeper.portfolio.market import UnderlyingMarket
from hedgekeeper.portfolio.positions import Position, exposure
from hedgekeeper.pricing import black76_greeks, black76_price, inverse_greeks, inverse_price
from hedgekeeper.timestamps import format_ns, year_fraction

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]
BoolArray = NDArray[np.bool_]

#: Stand-in expiry of perpetuals, whose forward is the spot index (funding ignored).
PERPETUAL_EXPIRY_NS = -1


def _one_hot(account_index: Sequence[int], n_accounts: int) -> FloatArray:
    matrix = np.zeros((len(account_index), n_accounts))
    matrix[np.arange(len(account_index)), np.asarray(account_index, dtype=np.int64)] = 1.0
    return matrix


@dataclass(frozen=True)
class OptionArrays:
    """Options of one settlement: sizes in coin (signed), strikes in USD, expiries in ns."""

    instrument_ids: tuple[str, ...]
    size_coin: FloatArray
    strike_usd: FloatArray
    expiry_ns: IntArray
    is_call: BoolArray
    accounts: FloatArray  # (positions, accounts) one-hot

    @property
    def call_sign(self) -> FloatArray:
        """Return +1 for calls and -1 for puts."""
        return np.where(self.is_call, 1.0, -1.0)


@dataclass(frozen=True)
class FutureArrays:
    """Futures and perpetuals of one settlement: signed size (coin, or USD face if inverse), entry USD."""

    instrument_ids: tuple[str, ...]
    size: FloatArray
    entry_usd: FloatArray
    expiry_ns: IntArray  # PERPETUAL_EXPIRY_NS for perpetuals
    accounts: FloatArray


@dataclass(frozen=True)
class HoldingArrays:
    """Coin held outright (spot positions or balances), signed, in coin."""

    size_coin: FloatArray
    accounts: FloatArray


@dataclass(frozen=True)
class UnderlyingBook:
    """The positions and coin balances of one underlying, and its margin schedule."""

    underlying: str
    linear_options: OptionArrays
    inverse_options: OptionArrays
    linear_futures: FutureArrays
    inverse_futures: FutureArrays
    spot: HoldingArrays
    balances: HoldingArrays
    schedule: MarginSchedule

    @classmethod
    def build(
        cls,
        underlying: str,
        holdings: Sequence[tuple[Instrument, Position, int]],
        coin_balances: Sequence[tuple[float, int]],
        n_accounts: int,
        schedule: MarginSchedule,
    ) -> UnderlyingBook:
        """Return the arrays of ``holdings`` (instrument, position, account index) and balances."""

        def options(inverse: bool) -> OptionArrays:
            rows = [(i, p, a) for i, p, a in holdings if i.is_option and i.is_inverse == inverse]
            return OptionArrays(
                instrument_ids=tuple(i.instrument_id for i, _, _ in rows),
                size_coin=np.array([exposure(p, i) for i, p, _ in rows], dtype=np.float64),
                strike_usd=np.array([float(i.strike_usd or 0) for i, _, _ in rows], dtype=np.float64),
                expiry_ns=np.array([i.expiry_ns for i, _, _ in rows], dtype=np.int64),
                is_call=np.array([bool(i.is_call) for i, _, _ in rows], dtype=np.bool_),
                accounts=_one_hot([a for _, _, a in rows], n_accounts),
            )

        def futures(inverse: bool) -> FutureArrays:
            rows = [
                (i, p, a) for i, p, a in holdings
                if i.kind in (InstrumentKind.FUTURE, InstrumentKind.PERPETUAL) and i.is_inverse == inverse
            ]
            return FutureArrays(
                instrument_ids=tuple(i.instrument_id for i, _, _ in rows),
                size=np.array([exposure(p, i) for i, p, _ in rows], dtype=np.float64),
                entry_usd=np.array([p.entry_price_usd for _, p, _ in rows], dtype=np.float64),
                expiry_ns=np.array(
                    [PERPETUAL_EXPIRY_NS if i.expiry_ns is None else i.expiry_ns for i, _, _ in rows],
                    dtype=np.int64,
                ),
                accounts=_one_hot([a for _, _, a in rows], n_accounts),
            )

        spot_rows = [(i, p, a) for i, p, a in holdings if i.kind is InstrumentKind.SPOT]
        return cls(
            underlying=underlying,
            linear_options=options(inverse=False),
            inverse_options=options(inverse=True),
            linear_futures=futures(inverse=False),
            inverse_futures=futures(inverse=True),
            spot=HoldingArrays(
                np.array([exposure(p, i) for i, p, _ in spot_rows], dtype=np.float64),
                _one_hot([a for _, _, a in spot_rows], n_accounts),
            ),
            balances=HoldingArrays(
                np.array([amount for amount, _ in coin_balances], dtype=np.float64),
                _one_hot([a for _, a in coin_balances], n_accounts),
            ),
            schedule=schedule,
        )


@dataclass(frozen=True)
class OptionInputs:
    """Market inputs of an option block: ACT/365 years to expiry, forward over spot, implied vol."""

    t_years: FloatArray
    forward_ratio: FloatArray
    vol: FloatArray

    def shifted(self, vol_shift: float, time_shift_years: float) -> OptionInputs:
        """Return the inputs with every vol raised by ``vol_shift`` and time moved on by ``time_shift_years``."""
        return OptionInputs(
            t_years=np.maximum(self.t_years - time_shift_years, 0.0),
            forward_ratio=self.forward_ratio,
            vol=np.maximum(self.vol + vol_shift, 0.0),
        )


@dataclass(frozen=True)
class MarketInputs:
    """Everything a book's valuation takes from the market besides the spot."""

    linear_options: OptionInputs
    inverse_options: OptionInputs
    linear_futures_ratio: FloatArray
    inverse_futures_ratio: FloatArray
    rate: float

    @classmethod
    def resolve(cls, book: UnderlyingBook, market: UnderlyingMarket, as_of_ns: int) -> MarketInputs:
        """Return the inputs of ``book`` in ``market`` at ``as_of_ns``.

        Raises
        ------
        BadData
            Naming an instrument that expired before ``as_of_ns``, or whose forward or
            vol is missing or invalid.
        """

        def check_expiries(ids: tuple[str, ...], expiry_ns: IntArray) -> None:
            expired = (expiry_ns < as_of_ns) & (expiry_ns != PERPETUAL_EXPIRY_NS)
            if expired.any():
                first = int(np.argmax(expired))
                raise BadData(
                    f"{ids[first]} expired at {format_ns(int(expiry_ns[first]))}, before {format_ns(as_of_ns)}"
                )

        def ratio(expiry_ns: IntArray) -> FloatArray:
            dated = expiry_ns != PERPETUAL_EXPIRY_NS
            ratios = np.ones(expiry_ns.shape)
            ratios[dated] = market.forward_usd(expiry_ns[dated], as_of_ns) / market.spot_usd
            return ratios

        def option_inputs(options: OptionArrays) -> OptionInputs:
            check_expiries(options.instrument_ids, options.expiry_ns)
            t_years = np.asarray(year_fraction(as_of_ns, options.expiry_ns), dtype=np.float64)
            forward_ratio = ratio(options.expiry_ns)
            vol = market.implied_vol(
                options.instrument_ids, options.strike_usd, t_years, forward_ratio * market.spot_usd
            )
            return OptionInputs(t_years, forward_ratio, vol)

        for futures in (book.linear_futures, book.inverse_futures):
            check_expiries(futures.instrument_ids, futures.expiry_ns)
        return cls(
            linear_options=option_inputs(book.linear_options),
            inverse_options=option_inputs(book.inverse_options),
            linear_futures_ratio=ratio(book.linear_futures.expiry_ns),
            inverse_futures_ratio=ratio(book.inverse_futures.expiry_ns),
            rate=market.rate,
        )

    def shifted(self, vol_shift: float, time_shift_years: float) -> MarketInputs:
        """Return the inputs with vols raised by ``vol_shift`` and time moved on by ``time_shift_years``."""
        return replace(
            self,
            linear_options=self.linear_options.shifted(vol_shift, time_shift_years),
            inverse_options=self.inverse_options.shifted(vol_shift, time_shift_years),
        )


@dataclass(frozen=True)
class Valuation:
    """Per-account USD equity, initial and maintenance margin: shape (accounts,) or (shocks, accounts)."""

    equity_usd: FloatArray
    initial_margin_usd: FloatArray
    maintenance_margin_usd: FloatArray


@dataclass(frozen=True)
class Greeks:
    """The book's sensitivities; ``delta_coin = position delta + collateral_delta_coin``.

    Units: delta in coin (USD of equity per USD of spot), gamma in coin per USD, vega
    in USD per 1.00 of vol, theta in USD per calendar year, gross notional in USD.
    """

    delta_coin: float
    collateral_delta_coin: float
    gamma_coin_per_usd: float
    vega_usd_per_vol: float
    theta_usd_per_year: float
    gross_notional_usd: float


def _per_account(
    accounts: FloatArray, equity: FloatArray, initial: FloatArray, maintenance: FloatArray
) -> FloatArray:
    return np.stack(np.broadcast_arrays(equity, initial, maintenance)) @ accounts


def _options_per_account(
    options: OptionArrays,
    schedule: MarginSchedule,
    forward_usd: FloatArray,
    mark_fraction: FloatArray,
    value_usd: FloatArray,
    usd_per_margin_unit: float | FloatArray,
) -> FloatArray:
    """Return (equity, initial, maintenance) per account of an option block, USD.

    ``mark_fraction`` is the mark per coin of underlying in units of the underlying
    mark (coin for inverse options); ``usd_per_margin_unit`` converts the margin
    fractions to USD: ``F`` for linear options, the spot ``S`` for inverse ones.
    """
    otm_fraction = np.maximum(options.call_sign * (options.strike_usd - forward_usd), 0.0) / forward_usd
    initial, maintenance = short_option_margin(otm_fraction, mark_fraction, options.is_call, schedule.options)
    short_usd = np.maximum(-options.size_coin, 0.0) * usd_per_margin_unit
    return _per_account(options.accounts, value_usd, short_usd * initial, short_usd * maintenance)


def _valuation(
    book: UnderlyingBook,
    inputs: MarketInputs,
    spot_usd: float | FloatArray,
    linear_price_usd: FloatArray,
    inverse_price_coin: FloatArray,
) -> Valuation:
    """Value ``book`` at ``spot_usd`` (a float, or a column (shocks, 1)) from its option prices."""
    schedule = book.schedule
    zero = np.zeros(1)

    linear_forward = spot_usd * inputs.linear_options.forward_ratio
    inverse_forward = spot_usd * inputs.inverse_options.forward_ratio
    totals = _options_per_account(
        book.linear_options, schedule, linear_forward, linear_price_usd / linear_forward,
        book.linear_options.size_coin * linear_price_usd, linear_forward,
    ) + _options_per_account(
        book.inverse_options, schedule, inverse_forward, inverse_price_coin,
        spot_usd * book.inverse_options.size_coin * inverse_price_coin, spot_usd,
    )

    linear = book.linear_futures
    forward = spot_usd * inputs.linear_futures_ratio
    initial, maintenance = tiered_margin_usd(np.abs(linear.size) * forward, schedule)
    totals += _per_account(linear.accounts, linear.size * (forward - linear.entry_usd), initial, maintenance)

    inverse = book.inverse_futures
    forward = spot_usd * inputs.inverse_futures_ratio
    initial, maintenance = inverse_future_margin_coin(inverse.size / forward, schedule.inverse_futures)
    pnl_usd = spot_usd * inverse.size * (1.0 / inverse.entry_usd - 1.0 / forward)
    totals += _per_account(inverse.accounts, pnl_usd, spot_usd * initial, spot_usd * maintenance)

    for holding in (book.spot, book.balances):
        totals += _per_account(holding.accounts, holding.size_coin * spot_usd, zero, zero)
    return Valuation(*totals)


def revalue(book: UnderlyingBook, inputs: MarketInputs, spot_usd: FloatArray) -> Valuation:
    """Return the book's per-account equity and margins at each spot in ``spot_usd``.

    Parameters
    ----------
    book : UnderlyingBook
    inputs : MarketInputs, held fixed (forwards move with spot, vols sticky by strike)
    spot_usd : 1-D array of spots, USD per coin, > 0

    Returns
    -------
    Valuation of arrays shaped (len(spot_usd), accounts), USD.
    """
    column = np.asarray(spot_usd, dtype=np.float64).reshape(-1, 1)
    lo, li = book.linear_options, inputs.linear_options
    io, ii = book.inverse_options, inputs.inverse_options
    linear_price = black76_price(
        column * li.forward_ratio, lo.strike_usd, li.t_years, li.vol, lo.is_call, inputs.rate
    )
    inverse_price_coin = inverse_price(
        column * ii.forward_ratio, io.strike_usd, ii.t_years, ii.vol, io.is_call, inputs.rate
    )
    return _valuation(book, inputs, column, linear_price, inverse_price_coin)


def _valuation_and_sensitivities(
    book: UnderlyingBook, inputs: MarketInputs, spot_usd: float | FloatArray
) -> tuple[Valuation, dict[str, FloatArray]]:
    """Return the valuation and the Greeks' terms at ``spot_usd``: a float, or a column (shocks, 1).

    Every product is written ``per-option array @ sizes`` so that a column of spots
    gives one value per shock and a float gives a scalar.
    """
    lo, li = book.linear_options, inputs.linear_options
    io, ii = book.inverse_options, inputs.inverse_options
    lf, ivf = book.linear_futures, book.inverse_futures
    linear_forward = spot_usd * li.forward_ratio
    inverse_forward = spot_usd * ii.forward_ratio
    future_forward = spot_usd * inputs.inverse_futures_ratio
    linear = black76_greeks(linear_forward, lo.strike_usd, li.t_years, li.vol, lo.is_call, inputs.rate)
    inverse = inverse_greeks(inverse_forward, io.strike_usd, ii.t_years, ii.vol, io.is_call, inputs.rate)
    valuation = _valuation(book, inputs, spot_usd, linear.price, inverse.price)
    spot_per_shock = spot_usd[:, 0] if np.ndim(spot_usd) == 2 else spot_usd  # type: ignore[index]

    collateral_delta = (
        inverse.price @ io.size_coin
        + (1.0 / ivf.entry_usd - 1.0 / future_forward) @ ivf.size
        + book.balances.size_coin.sum()
    )
    position_delta = (
        (linear.delta * li.forward_ratio) @ lo.size_coin
        + inverse.delta @ io.size_coin
        + lf.size @ inputs.linear_futures_ratio
        + (1.0 / future_forward) @ ivf.size
        + book.spot.size_coin.sum()
    )
    gamma = (linear.gamma * li.forward_ratio**2) @ lo.size_coin + (
        ii.forward_ratio * (inverse.delta / inverse_forward + inverse.gamma)
    ) @ io.size_coin
    gross_notional = (
        (np.abs(lo.size_coin).sum() + np.abs(io.size_coin).sum() + np.abs(book.spot.size_coin).sum())
        * spot_per_shock
        + (spot_usd * inputs.linear_futures_ratio) @ np.abs(lf.size)
        + np.abs(ivf.size).sum()
    )
    terms = {
        "delta_coin": position_delta + collateral_delta,
        "collateral_delta_coin": collateral_delta,
        "gamma_coin_per_usd": gamma,
        "vega_usd_per_vol": linear.vega @ lo.size_coin + spot_per_shock * (inverse.vega @ io.size_coin),
        "theta_usd_per_year": linear.theta @ lo.size_coin + spot_per_shock * (inverse.theta @ io.size_coin),
        "gross_notional_usd": gross_notional,
    }
    return valuation, terms


def value_with_greeks(
    book: UnderlyingBook, inputs: MarketInputs, spot_usd: float
) -> tuple[Valuation, Greeks]:
    """Return the book's per-account valuation at ``spot_usd`` and its Greeks (see the module docstring)."""
    valuation, terms = _valuation_and_sensitivities(book, inputs, spot_usd)
    return valuation, Greeks(**{name: float(np.sum(value)) for name, value in terms.items()})


@dataclass(frozen=True)
class GreeksLadder:
    """The book's equity and Greeks at each spot of a grid, with market inputs held fixed.

    Arrays are shaped (len(spot_usd),); units as ``Greeks``, equity in USD summed over
    accounts.
    """

    spot_usd: FloatArray
    equity_usd: FloatArray
    delta_coin: FloatArray
    gamma_coin_per_usd: FloatArray
    vega_usd_per_vol: FloatArray
    theta_usd_per_year: FloatArray
    gross_notional_usd: FloatArray


def greeks_ladder(book: UnderlyingBook, inputs: MarketInputs, spot_usd: FloatArray) -> GreeksLadder:
    """Return the book's equity and Greeks at every spot of ``spot_usd`` (1-D, USD per coin), in one pass.

    Forwards move with spot and vols stay by strike, as in ``revalue``.
    """
    spots = np.asarray(spot_usd, dtype=np.float64)
    valuation, terms = _valuation_and_sensitivities(book, inputs, spots.reshape(-1, 1))

    def column(value: float | FloatArray) -> FloatArray:
        return np.broadcast_to(np.asarray(value, dtype=np.float64).reshape(-1), spots.shape).copy()

    return GreeksLadder(
        spot_usd=spots,
        equity_usd=valuation.equity_usd.sum(axis=1),
        delta_coin=column(terms["delta_coin"]),
        gamma_coin_per_usd=column(terms["gamma_coin_per_usd"]),
        vega_usd_per_vol=column(terms["vega_usd_per_vol"]),
        theta_usd_per_year=column(terms["theta_usd_per_year"]),
        gross_notional_usd=column(terms["gross_notional_usd"]),
    )

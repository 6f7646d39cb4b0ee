"""Parse a Deribit option chain snapshot (``public/get_book_summary_by_currency``) into smiles.

Documentation: https://docs.deribit.com/#public-get_book_summary_by_currency.
A trimmed row of the recorded CSV (one dict per row, every value a string)::

    {"instrument_name": "BTC-29MAR24-60000-P", "creation_timestamp": "1710223032940",
     "underlying_price": "73732.53", "mark_iv": "89.88", "mark_price": "0.01370429",
     "bid_price": "0.0095", "ask_price": "0.015", "open_interest": "409.2", ...}

Prices are in coin (BTC) per option, ``underlying_price`` is the expiry's forward
(a future or a synthetic ``SYN.`` index) in USD, ``mark_iv`` is in percent, and an
empty bid or ask means there is none. Deribit options expire at 08:00 UTC.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np
from numpy.typing import NDArray

from hedgekeeper.errors import BadData

logger = logging.getLogger(__name__)

NS_PER_YEAR = 365 * 86_400 * 1_000_000_000
"""Nanoseconds in an ACT/365 year."""

EXPIRY_HOUR_UTC = 8
"""Deribit options expire at 08:00 UTC on their expiry date."""

_MONTHS = {
    name: number
    for number, name in enumerate(
        ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"),
        start=1,
    )
}


@dataclass(frozen=True, slots=True)
class DeribitOptionSummary:
    """One option of a Deribit book summary, in our units.

    Attributes
    ----------
    instrument_name : str, e.g. ``"BTC-29MAR24-60000-P"``
    expiry_ns : int, expiry time, ns since the epoch, UTC
    strike : float, USD per coin
    is_call : bool
    forward : float, the row's ``underlying_price``, USD per coin
    mark_vol : float, Deribit's mark implied vol, annualised decimal (0.8 is 80%)
    mark_price_coin : float, coin per option
    bid_price_coin, ask_price_coin : float or None, coin per option; None when there is no
        bid or ask
    open_interest : float, contracts
    timestamp_ns : int, snapshot time, ns since the epoch, UTC
    """

    instrument_name: str
    expiry_ns: int
    strike: float
    is_call: bool
    forward: float
    mark_vol: float
    mark_price_coin: float
    bid_price_coin: float | None
    ask_price_coin: float | None
    open_interest: float
    timestamp_ns: int


@dataclass(frozen=True, slots=True, eq=False)
class ExpirySmile:
    """One expiry's out-of-the-money options, one per strike, in increasing strike.

    Attributes
    ----------
    expiry_ns : int, ns since the epoch, UTC
    t_years : float, ACT/365 years from the snapshot to expiry
    forward : float, the expiry's forward (median ``underlying_price``), USD per coin
    strikes : ndarray, shape (n,), USD per coin
    is_call : ndarray of bool, shape (n,), calls at and above the forward, puts below
    mark_vols : ndarray, shape (n,), annualised decimal
    bid_prices_coin, ask_prices_coin : ndarray, shape (n,), coin per option, NaN where absent
    """

    expiry_ns: int
    t_years: float
    forward: float
    strikes: NDArray[np.float64]
    is_call: NDArray[np.bool_]
    mark_vols: NDArray[np.float64]
    bid_prices_coin: NDArray[np.float64]
    ask_prices_coin: NDArray[np.float64]


def parse_instrument_name(instrument_name: str) -> tuple[int, float, bool]:
    """Return (expiry_ns, strike USD, is_call) of an option name such as ``BTC-5APR24-70000-C``.

    Raises
    ------
    BadData
        If the name is not ``COIN-DMMMYY-STRIKE-C|P``.

    Examples
    --------
    >>> parse_instrument_name("BTC-5APR24-70000-C")
    (1712304000000000000, 70000.0, True)
    """
    parts = instrument_name.split("-")
    try:
        _, expiry_code, strike_text, kind = parts
        day, month, year = int(expiry_code[:-5]), _MONTHS[expiry_code[-5:-2]], int(expiry_code[-2:])
        strike = float(strike_text)
    except (ValueError, KeyError) as error:
        raise BadData(
            f"instrument name {instrument_name!r} is not COIN-DMMMYY-STRIKE-C|P"
        ) from error
    if kind not in ("C", "P"):
        raise BadData(f"instrument name {instrument_name!r} ends in {kind!r}, not C or P")
    expiry = datetime(2000 + year, month, day, EXPIRY_HOUR_UTC, tzinfo=UTC)
    return int(expiry.timestamp()) * 1_000_000_000, strike, kind == "C"


def parse_book_summary_row(row: Mapping[str, str]) -> DeribitOptionSummary:
    """Return one book-summary row (string fields, as ``csv.DictReader`` gives) in our units.

    Raises
    ------
    BadData
        If the forward, strike or mark IV is not a positive finite number, naming the instrument.

    Examples
    --------
    >>> summary = parse_book_summary_row({
    ...     "instrument_name": "BTC-29MAR24-60000-P", "creation_timestamp": "1710223032940",
    ...     "underlying_price": "73732.53", "mark_iv": "89.88", "mark_price": "0.01370429",
    ...     "bid_price": "0.0095", "ask_price": "", "open_interest": "409.2"})
    >>> summary.mark_vol, summary.bid_price_coin, summary.ask_price_coin, summary.is_call
    (0.8988, 0.0095, None, False)
    """
    name = row["instrument_name"]
    expiry_ns, strike, is_call = parse_instrument_name(name)
    forward = _positive(row["underlying_price"], "underlying_price", name)
    mark_vol = _positive(row["mark_iv"], "mark_iv", name) / 100.0
    return DeribitOptionSummary(
        instrument_name=name,
        expiry_ns=expiry_ns,
        strike=strike,
        is_call=is_call,
        forward=forward,
        mark_vol=mark_vol,
        mark_price_coin=float(row["mark_price"]),
        bid_price_coin=float(row["bid_price"]) if row["bid_price"] else None,
        ask_price_coin=float(row["ask_price"]) if row["ask_price"] else None,
        open_interest=float(row["open_interest"] or 0.0),
        timestamp_ns=int(row["creation_timestamp"]) * 1_000_000,
    )


def out_of_the_money_smiles(
    summaries: Iterable[DeribitOptionSummary], forward_tolerance: float = 2e-3
) -> list[ExpirySmile]:
    """Return one smile per expiry, in expiry order, of each strike's out-of-the-money option.

    The expiry's forward is the median ``underlying_price`` of its rows; a row whose
    own forward is further than ``forward_tolerance`` (relative) from it was marked
    against a stale forward and is dropped with a logged reason. Time to expiry runs
    from the latest snapshot timestamp. Expired options are dropped.

    Parameters
    ----------
    summaries : iterable of DeribitOptionSummary
    forward_tolerance : float, relative, ``>= 0``

    Returns
    -------
    list of ExpirySmile

    Examples
    --------
    >>> rows = [
    ...     {"instrument_name": f"BTC-29MAR24-{strike}-{kind}", "mark_iv": iv,
    ...      "creation_timestamp": "1710223032940", "underlying_price": "73726.02",
    ...      "mark_price": "0.01", "bid_price": "", "ask_price": "", "open_interest": "0"}
    ...     for strike, kind, iv in [(70000, "C", "88"), (70000, "P", "88"), (80000, "C", "85")]]
    >>> [smile] = out_of_the_money_smiles(parse_book_summary_row(row) for row in rows)
    >>> smile.strikes, smile.is_call, round(smile.t_years, 5)
    (array([70000., 80000.]), array([False,  True]), 0.04681)
    """
    summaries = list(summaries)
    if not summaries:
        return []
    snapshot_ns = max(summary.timestamp_ns for summary in summaries)
    expiries = sorted({s.expiry_ns for s in summaries if s.expiry_ns > snapshot_ns})
    return [
        _expiry_smile(
            [s for s in summaries if s.expiry_ns == expiry_ns], snapshot_ns, forward_tolerance
        )
        for expiry_ns in expiries
    ]


def _expiry_smile(
    summaries: list[DeribitOptionSummary], snapshot_ns: int, forward_tolerance: float
) -> ExpirySmile:
    forward = float(np.median([s.forward for s in summaries]))
    chosen: dict[float, DeribitOptionSummary] = {}
    for summary in summaries:
        if abs(summary.forward / forward - 1.0) > forward_tolerance:
            logger.info(
                "dropping %s: its forward %.2f is %.3f%% from the expiry's %.2f",
                summary.instrument_name,
                summary.forward,
                100.0 * abs(summary.forward / forward - 1.0),
                forward,
            )
            continue
        out_of_the_money = summary.is_call == (summary.strike >= forward)
        if out_of_the_money or summary.strike not in chosen:
            chosen[summary.strike] = summary
    ordered = [chosen[strike] for strike in sorted(chosen)]
    expiry_ns = summaries[0].expiry_ns
    return ExpirySmile(
        expiry_ns=expiry_ns,
        t_years=(expiry_ns - snapshot_ns) / NS_PER_YEAR,
        forward=forward,
        strikes=np.array([s.strike for s in ordered]),
        is_call=np.array([s.is_call for s in ordered]),
        mark_vols=np.array([s.mark_vol for s in ordered]),
        bid_prices_coin=_prices_or_nan([s.bid_price_coin for s in ordered]),
        ask_prices_coin=_prices_or_nan([s.ask_price_coin for s in ordered]),
    )


def _prices_or_nan(prices: list[float | None]) -> NDArray[np.float64]:
    return np.array([np.nan if price is None else price for price in prices], dtype=np.float64)


def _positive(text: str, field: str, instrument_name: str) -> float:
    """Return ``text`` as a float; raise BadData naming field and instrument unless positive."""
    try:
        value = float(text)
    except ValueError as error:
        raise BadData(f"{instrument_name}: {field} = {text!r} is not a number") from error
    if not (np.isfinite(value) and value > 0.0):
        raise BadData(f"{instrument_name}: {field} = {value} is not a positive finite number")
    return value

"""The record of one execution, as every executor reports it (simulated, exchange, chain)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class FillRecord:
    """One execution.

    Attributes
    ----------
    ts_ns : int, ns since the epoch (UTC)
    instrument_id : str
    venue : str
    size_contracts : float, signed: > 0 bought, < 0 sold
    price_usd : float, average fill price, USD per coin
    mid_usd : float, the mid price when the order was sent, USD per coin
    notional_usd : float, absolute USD value traded
    fee_usd : float, fee paid (negative for a rebate)
    slippage_usd : float, cost against the mid: (price - mid) * signed coin size
    """

    ts_ns: int
    instrument_id: str
    venue: str
    size_contracts: float
    price_usd: float
    mid_usd: float
    notional_usd: float
    fee_usd: float
    slippage_usd: float

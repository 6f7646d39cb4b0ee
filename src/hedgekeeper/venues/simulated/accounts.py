"""Accounts at the simulated exchange: balances per currency, positions, realised P&L, funding, equity.

A ``Ledger`` is one account: its balances (``Decimal`` per currency) and its
futures and perpetual positions (signed contracts at an averaged entry price). A
fill moves the position; a reduction realises P&L into the balance of the
instrument's settlement currency; the fee leaves that balance once per fill;
funding moves it too. Equity per currency is the balance plus the unrealised P&L
of the positions settled in it, at the marks (``accounting.py`` for the formulas).

Examples
--------
Buy 2 BTC of a linear perpetual at 100,000 (fee 40 USDT), sell 1 at 101,000 (fee 20.2):

>>> from hedgekeeper.portfolio.instruments import Instrument, InstrumentKind, Settlement
>>> perp = Instrument(instrument_id="BTCUSDT", venue="binance", kind=InstrumentKind.PERPETUAL,
...     settlement=Settlement.LINEAR, underlying="BTC", settlement_currency="USDT",
...     contract_size=Decimal(1), tick_size=Decimal("0.1"), lot_size=Decimal("0.001"), min_size=Decimal("0.001"))
>>> ledger = Ledger("main", {"USDT": Decimal(10_000)})
>>> ledger.apply_fill(perp, Decimal(2), Decimal(100_000), Decimal(40))
Decimal('0')
>>> ledger.apply_fill(perp, Decimal(-1), Decimal(101_000), Decimal("20.2"))
Decimal('1000')
>>> ledger.balances["USDT"], ledger.positions["BTCUSDT"]
(Decimal('10939.8'), Holding(size_contracts=Decimal('1'), entry_usd=Decimal('100000')))
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal

from hedgekeeper.portfolio.instruments import Instrument
from hedgekeeper.venues.simulated.accounting import average_entry, funding_payment, pnl

ZERO = Decimal(0)


@dataclass(frozen=True, slots=True)
class Holding:
    """A position: signed contracts (> 0 long) at an average entry price, USD per coin."""

    size_contracts: Decimal
    entry_usd: Decimal


class Ledger:
    """One account's balances and positions.

    Parameters
    ----------
    name : the account's name
    balances : starting balances, currency -> amount
    """

    def __init__(self, name: str, balances: Mapping[str, Decimal] | None = None) -> None:
        self.name = name
        self.balances: dict[str, Decimal] = dict(balances or {})
        self.positions: dict[str, Holding] = {}

    def credit(self, currency: str, amount: Decimal) -> None:
        """Add ``amount`` of ``currency`` to the balance (negative: take it away)."""
        self.balances[currency] = self.balances.get(currency, ZERO) + amount

    def apply_fill(
        self, instrument: Instrument, signed_contracts: Decimal, price_usd: Decimal, fee: Decimal
    ) -> Decimal:
        """Book a fill of ``signed_contracts`` (> 0 bought) at ``price_usd`` paying ``fee``; return the P&L realised.

        The realised P&L and the fee are in the instrument's settlement currency.
        """
        instrument_id = instrument.instrument_id
        held = self.positions.get(instrument_id)
        realised = ZERO
        if held is None:
            updated: Holding | None = Holding(signed_contracts, price_usd)
        elif held.size_contracts * signed_contracts > 0:
            entry = average_entry(instrument, held.size_contracts, held.entry_usd, signed_contracts, price_usd)
            updated = Holding(held.size_contracts + signed_contracts, entry)
        else:
            closed = -signed_contracts if abs(signed_contracts) <= abs(held.size_contracts) else held.size_contracts
            realised = pnl(instrument, closed, held.entry_usd, price_usd)
            remaining = held.size_contracts + signed_contracts
            if remaining == 0:
                updated = None
            else:  # reduced at the same entry, or flipped at the fill price
                updated = Holding(remaining, held.entry_usd if remaining * held.size_contracts > 0 else price_usd)
        if updated is None:
            del self.positions[instrument_id]
        else:
            self.positions[instrument_id] = updated
        self.credit(instrument.settlement_currency, realised - fee)
        return realised

    def pay_funding(self, instrument: Instrument, rate: Decimal, mark_usd: Decimal) -> Decimal:
        """Settle funding on the position in ``instrument``; return the amount paid (negative: received)."""
        held = self.positions.get(instrument.instrument_id)
        if held is None:
            return ZERO
        payment = funding_payment(instrument, held.size_contracts, rate, mark_usd)
        self.credit(instrument.settlement_currency, -payment)
        return payment

    def unrealised(self, instrument: Instrument, mark_usd: Decimal) -> Decimal:
        """Return the unrealised P&L of the position in ``instrument`` at ``mark_usd``, settlement currency."""
        held = self.positions.get(instrument.instrument_id)
        return ZERO if held is None else pnl(instrument, held.size_contracts, held.entry_usd, mark_usd)

    def equity(self, currency: str, instruments: Iterable[Instrument], marks: Mapping[str, Decimal]) -> Decimal:
        """Return the balance of ``currency`` plus the unrealised P&L of the positions settled in it.

        ``instruments`` are those held that settle in ``currency``; each is valued at
        its mark (at its entry price, so no P&L, while it has no mark).
        """
        total = self.balances.get(currency, ZERO)
        for instrument in instruments:
            held = self.positions.get(instrument.instrument_id)
            if held is not None:
                total += self.unrealised(instrument, marks.get(instrument.instrument_id, held.entry_usd))
        return total

"""Apply an execution to positions and balances: premiums, entry prices, realised P&L, fees.

``apply_fill`` is a pure function from (positions, balances, one fill) to the new
positions and balances. Cash moves in the currency that really moves on the venue:

==================  ===================================================================
instrument          what a fill of ``n`` contracts at price ``p`` does
==================  ===================================================================
spot                coin balance += n c; USD balance -= n c p
option, linear      position += n; USD balance -= n c p (the premium)
option, inverse     position += n; coin balance -= n c p (``p`` in coin)
future/perp linear  position += n at an averaged entry; closing realises
                    (p - entry) c per contract, in USD
future/perp inverse position += n at a harmonically averaged entry; closing realises
                    c (1/entry - 1/p) coin per contract (``c`` USD of face)
==================  ===================================================================

(``c`` is the contract size.) The fee is paid in the account's currency (positive
paid, negative a rebate). Amounts are added as exact decimals of the float values
given (``Decimal(repr(x))``), so what is recorded is never rounded silently.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from hedgekeeper.errors import BadData
from hedgekeeper.portfolio.instruments import Instrument, InstrumentKind
from hedgekeeper.portfolio.positions import Balance, Position, account_of
from hedgekeeper.portfolio.values import Money


def _credit(balances: list[Balance], venue: str, currency: str, amount: float) -> None:
    """Add ``amount`` of ``currency`` to the venue's balance, creating it if absent."""
    if amount == 0.0:
        return
    delta = Decimal(repr(float(amount)))
    for index, balance in enumerate(balances):
        if balance.venue == venue and balance.money.currency == currency:
            balances[index] = Balance(venue, Money(balance.money.amount + delta, currency))
            return
    balances.append(Balance(venue, Money(delta, currency)))


def apply_cash_flow(balances: Sequence[Balance], venue: str, currency: str, amount: float) -> tuple[Balance, ...]:
    """Return the balances after receiving ``amount`` of ``currency`` at ``venue`` (negative: paid).

    Funding payments, deposits and withdrawals are cash flows; the amount is added as
    the exact decimal of the float given.

    >>> from hedgekeeper.portfolio.values import Money
    >>> balances = apply_cash_flow((Balance("binance", Money(Decimal("100.00"), "USDT")),), "binance", "USDT", -0.25)
    >>> str(balances[0].money)
    '99.75 USDT'
    """
    new_balances = list(balances)
    _credit(new_balances, venue, currency, amount)
    return tuple(new_balances)


def _realised_pnl(instrument: Instrument, closed_contracts: float, entry: float, price: float) -> float:
    """Return the P&L of closing ``closed_contracts`` (signed as the position was) at ``price``.

    In USD for linear contracts, in coin for inverse ones.
    """
    size = float(instrument.contract_size)
    if instrument.is_inverse:
        return closed_contracts * size * (1.0 / entry - 1.0 / price)
    return closed_contracts * size * (price - entry)


def _average_entry(instrument: Instrument, old: float, entry: float, added: float, price: float) -> float:
    """Return the entry price after adding ``added`` contracts at ``price`` to ``old`` at ``entry``."""
    total = old + added
    if instrument.is_inverse:  # equal USD face per contract: the harmonic mean by face
        return total / (old / entry + added / price)
    return (old * entry + added * price) / total


def _trade_contract(
    instrument: Instrument, held: Position | None, size: float, price: float
) -> tuple[Position | None, float]:
    """Return the futures position after the trade and the P&L it realises."""
    if held is None or held.size_contracts == 0.0:
        return Position(instrument.instrument_id, size, price), 0.0
    old, entry = held.size_contracts, float(held.entry_price_usd)  # type: ignore[arg-type]
    new = old + size
    if old * size > 0.0:  # adding to the position
        return Position(instrument.instrument_id, new, _average_entry(instrument, old, entry, size, price)), 0.0
    closed = -size if abs(size) <= abs(old) else old
    pnl = _realised_pnl(instrument, closed, entry, price)
    if new == 0.0:
        return None, pnl
    new_entry = entry if old * new > 0.0 else price  # reduced, or flipped at the fill price
    return Position(instrument.instrument_id, new, new_entry), pnl


def apply_fill(
    positions: Sequence[Position],
    balances: Sequence[Balance],
    instrument: Instrument,
    size_contracts: float,
    price: float,
    fee: float = 0.0,
) -> tuple[tuple[Position, ...], tuple[Balance, ...]]:
    """Return the positions and balances after a fill.

    Parameters
    ----------
    positions, balances : the book before the fill
    instrument : the instrument traded
    size_contracts : float, signed: > 0 bought, < 0 sold
    price : float > 0, in the instrument's quote currency (coin for inverse options,
        USD per coin otherwise)
    fee : float, paid in the account's currency (negative for a rebate)

    Raises
    ------
    BadData
        If the size or fee is not finite or the price is not a positive finite number.

    Examples
    --------
    Buy 0.5 BTC of a USDT perpetual at 100,000, then sell 0.2 at 101,000:

    >>> from hedgekeeper.portfolio.instruments import Settlement
    >>> perp = Instrument(instrument_id="BTCUSDT", venue="binance", kind=InstrumentKind.PERPETUAL,
    ...     settlement=Settlement.LINEAR, underlying="BTC", settlement_currency="USDT",
    ...     contract_size=Decimal(1), tick_size=Decimal("0.1"), lot_size=Decimal("0.001"),
    ...     min_size=Decimal("0.001"))
    >>> positions, balances = apply_fill((), (), perp, 0.5, 100_000.0, fee=20.0)
    >>> positions, balances = apply_fill(positions, balances, perp, -0.2, 101_000.0, fee=8.08)
    >>> positions[0], str(balances[0].money)
    (Position(instrument_id='BTCUSDT', size_contracts=0.3, entry_price_usd=100000.0), '171.92 USDT')
    """
    if not (abs(size_contracts) < float("inf") and abs(fee) < float("inf") and 0.0 < price < float("inf")):
        raise BadData(
            f"fill of {instrument.instrument_id}: size {size_contracts!r}, price {price!r} and fee {fee!r} "
            "must be finite, price > 0"
        )
    account = account_of(instrument)
    new_positions = list(positions)
    new_balances = list(balances)
    index = next((i for i, p in enumerate(new_positions) if p.instrument_id == instrument.instrument_id), None)
    held = None if index is None else new_positions[index]
    coin = size_contracts * float(instrument.contract_size)
    if instrument.kind is InstrumentKind.SPOT:
        _credit(new_balances, instrument.venue, instrument.underlying, coin)
        _credit(new_balances, instrument.venue, instrument.settlement_currency, -coin * price)
        updated = held
    elif instrument.is_option:
        _credit(new_balances, account.venue, account.currency, -coin * price)
        total = size_contracts + (0.0 if held is None else held.size_contracts)
        updated = Position(instrument.instrument_id, total) if total != 0.0 else None
    else:
        updated, pnl = _trade_contract(instrument, held, size_contracts, price)
        _credit(new_balances, account.venue, account.currency, pnl)
    _credit(new_balances, account.venue, account.currency, -fee)
    if instrument.kind is not InstrumentKind.SPOT:
        if index is None and updated is not None:
            new_positions.append(updated)
        elif index is not None:
            new_positions[index : index + 1] = [] if updated is None else [updated]
    return tuple(new_positions), tuple(new_balances)

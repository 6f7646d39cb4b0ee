"""An account's ledger against hand-computed values and the portfolio's own bookkeeping (``portfolio/fills.py``)."""

from __future__ import annotations

import math
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from hedgekeeper.portfolio.fills import apply_fill
from hedgekeeper.venues.simulated.accounts import Holding, Ledger

from venues.simulated.builders import inverse_perpetual, linear_perpetual

D = Decimal
LINEAR = linear_perpetual()
INVERSE = inverse_perpetual()


def test_flipping_a_position_realises_the_closed_part_and_enters_the_rest_at_the_fill_price() -> None:
    ledger = Ledger("main", {"USDC": D(1_000)})
    assert ledger.apply_fill(LINEAR, D(2), D(100), D(1)) == 0
    assert ledger.apply_fill(LINEAR, D(-3), D(110), D("1.5")) == D(20)
    assert ledger.positions[LINEAR.instrument_id] == Holding(D(-1), D(110))
    assert ledger.balances["USDC"] == D(1_000) - 1 + 20 - D("1.5")
    assert ledger.apply_fill(LINEAR, D(1), D(105), D(0)) == D(5)
    assert LINEAR.instrument_id not in ledger.positions


def test_equity_adds_unrealised_pnl_at_the_mark_and_funding_moves_the_balance() -> None:
    ledger = Ledger("main", {"BTC": D(1)})
    ledger.apply_fill(INVERSE, D(-1_000), D(50_000), D(0))  # 10,000 USD of face short
    # A short gains as the price falls: -10,000 (1/50,000 - 1/40,000) = +0.05 BTC.
    assert ledger.equity("BTC", [INVERSE], {INVERSE.instrument_id: D(40_000)}) == D(1) + D("0.05")
    assert ledger.pay_funding(INVERSE, D("0.001"), D(40_000)) == D("-0.00025")
    assert ledger.balances["BTC"] == D("1.00025")
    assert ledger.pay_funding(LINEAR, D("0.001"), D(40_000)) == 0  # no position, nothing paid


fills = st.lists(st.tuples(st.integers(-20, 20).filter(bool), st.integers(90, 110), st.integers(0, 5)),
                 min_size=1, max_size=20)


@given(st.sampled_from([LINEAR, INVERSE]), fills)
def test_ledger_agrees_with_the_portfolio_bookkeeping(instrument, trades: list[tuple[int, int, int]]) -> None:
    ledger = Ledger("main")
    positions, balances = (), ()
    for size, price, fee_cents in trades:
        price_usd = price * 1_000
        fee = D(fee_cents) / 100_000
        ledger.apply_fill(instrument, D(size), D(price_usd), fee)
        positions, balances = apply_fill(positions, balances, instrument, float(size), float(price_usd), float(fee))
    currency = instrument.settlement_currency
    expected_cash = float(balances[0].money.amount) if balances else 0.0
    assert math.isclose(float(ledger.balances.get(currency, D(0))), expected_cash, rel_tol=1e-9, abs_tol=1e-12)
    expected = {p.instrument_id: (p.size_contracts, p.entry_price_usd) for p in positions}
    assert set(ledger.positions) == set(expected)
    for instrument_id, held in ledger.positions.items():
        size, entry = expected[instrument_id]
        assert float(held.size_contracts) == size and math.isclose(float(held.entry_usd), entry, rel_tol=1e-12)

"""Margin of positions and working orders against the venues' published examples."""

from __future__ import annotations

from decimal import Decimal

import pytest

from hedgekeeper.errors import ConfigError
from hedgekeeper.portfolio.instruments import Instrument, InstrumentKind, Settlement
from hedgekeeper.portfolio.margin import MarginModel
from hedgekeeper.venues.simulated.margin import ExchangeMargin

from venues.simulated.builders import inverse_perpetual, linear_perpetual

D = Decimal
LINEAR = linear_perpetual()
INVERSE = inverse_perpetual()
MARGIN = ExchangeMargin(MarginModel(), [LINEAR, INVERSE])


def test_inverse_position_pays_deribits_rate_on_its_size_in_coin() -> None:
    # Deribit: 25 BTC needs 2% + 25 * 0.005% = 2.125% initial; maintenance 1% + the same growth.
    assert MARGIN.position_margin(INVERSE, D(250_000), D(100_000)) == (D("0.53125"), D("0.28125"))


def test_linear_position_pays_binances_tier_on_its_notional() -> None:
    # 100,000 USD is in tier 2: 1% - 100 initial, 0.5% - 50 maintenance.
    assert MARGIN.position_margin(LINEAR, D(-1), D(100_000)) == (D(900), D(450))


def test_working_orders_count_on_the_side_that_grows_the_position_most() -> None:
    # Long 1 with 2 bought and 4 sold in orders: the larger of |1 + 2| and |1 - 4| is 3 BTC.
    initial, maintenance = MARGIN.requirement(LINEAR, D(1), D(2), D(4), D(10_000))
    assert initial == MARGIN.position_margin(LINEAR, D(3), D(10_000))[0]
    assert maintenance == MARGIN.position_margin(LINEAR, D(1), D(10_000))[1]
    # Orders that only reduce the position need nothing more.
    assert MARGIN.requirement(LINEAR, D(5), D(0), D(3), D(10_000)) == MARGIN.position_margin(LINEAR, D(5), D(10_000))


def test_an_underlying_without_rates_is_a_config_error_naming_the_table() -> None:
    sol = Instrument(instrument_id="SOL_USDC-PERPETUAL", venue="deribit", kind=InstrumentKind.PERPETUAL,
                     settlement=Settlement.LINEAR, underlying="SOL", settlement_currency="USDC",
                     contract_size=D(1), tick_size=D("0.01"), lot_size=D("0.1"), min_size=D("0.1"))
    with pytest.raises(ConfigError, match=r"add \[margin.linear_futures.SOL\]"):
        ExchangeMargin(MarginModel(), [sol])

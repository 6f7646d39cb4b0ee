"""Initial and maintenance margin of an account at the simulated exchange, from ``portfolio/margin.py``'s rates.

Per instrument, at the mark: inverse contracts use Deribit's coin rates on the
position in coin (USD face over the mark), linear ones Binance's USD tiers on the
notional. Working orders count as Deribit counts them: the initial margin of an
instrument is that of the larger of its position plus every working buy and its
position minus every working sell, so an order that only reduces a position needs
no margin. Maintenance margin is on positions alone. Fees are not reserved.

Examples
--------
A 25-BTC inverse position (2,500,000 USD of face at 100,000) needs Deribit's 2.125%
initial and 1.125% maintenance margin:

>>> from hedgekeeper.portfolio.instruments import example_instruments
>>> from hedgekeeper.portfolio.margin import MarginModel
>>> perpetual = example_instruments()[0]
>>> margin = ExchangeMargin(MarginModel(), [perpetual])
>>> margin.requirement(perpetual, Decimal(-250_000), Decimal(0), Decimal(0), Decimal(100_000))
(Decimal('0.53125'), Decimal('0.28125'))
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal

from hedgekeeper.portfolio.instruments import Instrument
from hedgekeeper.portfolio.margin import MarginModel, MarginSchedule, inverse_future_margin_coin, tiered_margin_usd


class ExchangeMargin:
    """Margin requirements of positions and working orders, in each instrument's settlement currency.

    Parameters
    ----------
    model : MarginModel, the rates
    instruments : the instruments traded; each underlying's schedule is read once

    Raises
    ------
    ConfigError
        If the model has no rates for an instrument's underlying and settlement.
    """

    def __init__(self, model: MarginModel, instruments: Iterable[Instrument]) -> None:
        self._schedules: dict[str, MarginSchedule] = {
            instrument.instrument_id: model.schedule(
                instrument.underlying, inverse_futures=instrument.is_inverse, linear_futures=not instrument.is_inverse
            )
            for instrument in instruments
        }

    def position_margin(
        self, instrument: Instrument, size_contracts: Decimal, mark_usd: Decimal
    ) -> tuple[Decimal, Decimal]:
        """Return the (initial, maintenance) margin of ``size_contracts`` (either sign) at ``mark_usd``."""
        schedule = self._schedules[instrument.instrument_id]
        face = abs(size_contracts) * instrument.contract_size
        if instrument.is_inverse:
            initial, maintenance = inverse_future_margin_coin(float(face / mark_usd), schedule.inverse_futures)
        else:
            initial, maintenance = tiered_margin_usd(float(face * mark_usd), schedule)
        return Decimal(repr(float(initial))), Decimal(repr(float(maintenance)))

    def requirement(
        self,
        instrument: Instrument,
        position_contracts: Decimal,
        working_buys: Decimal,
        working_sells: Decimal,
        mark_usd: Decimal,
    ) -> tuple[Decimal, Decimal]:
        """Return the (initial, maintenance) margin of a position and its working orders' remaining contracts."""
        exposure = max(abs(position_contracts + working_buys), abs(position_contracts - working_sells))
        initial, _ = self.position_margin(instrument, exposure, mark_usd)
        _, maintenance = self.position_margin(instrument, position_contracts, mark_usd)
        return initial, maintenance

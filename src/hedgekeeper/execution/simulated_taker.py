"""Fill market orders against the simulated market: walk the book, or cross an option's spread.

The simplest honest execution model, used by backtests until the venues of
``venues/`` take over: an order takes liquidity at once.

- Instruments with an order book (perpetuals, futures, spot) walk its levels
  (``book_walk.walk_levels``); what the book cannot fill is left unfilled and
  logged. Inverse contracts are ``contract_size`` USD of face each, so their coin
  size is face over price.
- Options without a book trade at their model price at the mark vol moved by half
  the configured bid-ask spread in vol, against the trader.

The taker fee of the venue applies to the notional, converted to the account's
currency. The slippage recorded is the cost against the mid (or model) price.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass

from hedgekeeper.execution.book_walk import walk_levels
from hedgekeeper.execution.fees import FeeSchedule
from hedgekeeper.execution.fill_record import FillRecord
from hedgekeeper.market.order_book import OrderBook
from hedgekeeper.portfolio.instruments import Instrument

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class TakerFill:
    """A priced fill, before it is booked.

    Attributes
    ----------
    record : FillRecord for the records (USD figures)
    price : float, the fill price in the instrument's quote currency
    fee : float, the fee in the instrument's account currency
    """

    record: FillRecord
    price: float
    fee: float


@dataclass(frozen=True)
class SimulatedTaker:
    """Take liquidity from the simulated market.

    Parameters
    ----------
    fees : FeeSchedule of every venue traded
    """

    fees: FeeSchedule

    def take_book(self, instrument: Instrument, size_contracts: float, book: OrderBook, now_ns: int) -> TakerFill | None:
        """Fill ``size_contracts`` (signed) against ``book``; None when the book is empty on that side."""
        mid = book.mid_usd
        levels = book.levels(1 if size_contracts > 0 else -1)
        if mid is None or not levels:
            logger.warning("no liquidity for %s %+g: the book is empty", instrument.instrument_id, size_contracts)
            return None
        contract = float(instrument.contract_size)
        coin = abs(size_contracts) * contract / (mid if instrument.is_inverse and not instrument.is_option else 1.0)
        walk = walk_levels(levels, coin)
        if walk.filled_coin < coin:
            logger.warning("book of %s filled %.8f of %.8f coin", instrument.instrument_id, walk.filled_coin, coin)
        if walk.filled_coin <= 0.0:
            return None
        filled_contracts = math.copysign(size_contracts * walk.filled_coin / coin, size_contracts)
        price = walk.average_price_usd
        fee_usd = self.fees.taker_fee_usd(instrument.venue, walk.filled_coin, price)
        fee = fee_usd / price if instrument.is_inverse else fee_usd
        signed_coin = math.copysign(walk.filled_coin, size_contracts)
        return TakerFill(
            record=FillRecord(
                ts_ns=now_ns, instrument_id=instrument.instrument_id, venue=instrument.venue,
                size_contracts=filled_contracts, price_usd=price, mid_usd=mid,
                notional_usd=walk.filled_coin * price, fee_usd=fee_usd, slippage_usd=(price - mid) * signed_coin,
            ),
            price=price,
            fee=fee,
        )

    def execute(self, instrument: Instrument, size_contracts: float, book: OrderBook, now_ns: int
                ) -> list[TakerFill]:
        """Take ``book`` at once for ``size_contracts`` (signed): the ``BookExecutor`` of backtests without venues."""
        fill = self.take_book(instrument, size_contracts, book, now_ns)
        return [] if fill is None else [fill]

    def poll(self, now_ns: int) -> list[TakerFill]:
        """Return no late fills: everything fills at once."""
        return []

    def working(self, underlying: str) -> bool:
        """Return False: nothing is ever left working."""
        return False

    def close(self) -> None:
        """Nothing to release: fills are computed in place."""

    def take_option(
        self,
        instrument: Instrument,
        size_contracts: float,
        model_price_usd: float,
        crossed_price_usd: float,
        spot_usd: float,
        now_ns: int,
    ) -> TakerFill:
        """Fill an option at ``crossed_price_usd`` (per coin, the model price at the vol crossed).

        ``model_price_usd`` is the mid used for slippage; both are USD per coin of
        notional, converted to coin for an inverse option at ``spot_usd``.
        """
        coin = size_contracts * float(instrument.contract_size)
        fee_usd = self.fees.taker_fee_usd(instrument.venue, coin, spot_usd)
        price = crossed_price_usd / spot_usd if instrument.is_inverse else crossed_price_usd
        return TakerFill(
            record=FillRecord(
                ts_ns=now_ns, instrument_id=instrument.instrument_id, venue=instrument.venue,
                size_contracts=size_contracts, price_usd=crossed_price_usd, mid_usd=model_price_usd,
                notional_usd=abs(coin) * crossed_price_usd, fee_usd=fee_usd,
                slippage_usd=(crossed_price_usd - model_price_usd) * coin,
            ),
            price=price,
            fee=fee_usd / spot_usd if instrument.is_inverse else fee_usd,
        )

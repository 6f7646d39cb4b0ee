"""A pool deployed on a chain as a route of the smart order router.

``ChainPoolRoute`` is ``routed_executor.PoolRoute`` for ``chain.venue.ChainPoolVenue``:
at every routing round it reads the pool's reserves on chain into the exact Python
model (``venues/amm/constant_product.py``), so the router costs a swap on the
integers the contract will use, and it adds one swap's gas in USD (the venue's
estimate: the last swap's gas at the node's gas price, priced by the oracle) as
the pool's fixed cost. A leg's limit is the model's average price for the leg,
``tolerance_bps`` worse: the swap's maximum in or minimum out, so a pool moved
against us between the quote and the transaction (a sandwich) reverts the swap
rather than fill it.
"""

from __future__ import annotations

from dataclasses import dataclass

from hedgekeeper.chain.venue import ChainPoolVenue
from hedgekeeper.execution.liquidity import LiquiditySource
from hedgekeeper.execution.pool_source import pool_source
from hedgekeeper.execution.routing import RouteLeg
from hedgekeeper.portfolio.instruments import Instrument
from hedgekeeper.venues.amm.pool_quote import quote_pool
from hedgekeeper.venues.orders import Side


@dataclass(frozen=True)
class ChainPoolRoute:
    """A coin/USD pool on a chain, traded through its ``ChainPoolVenue``.

    Parameters
    ----------
    venue : ChainPoolVenue, whose pool is read on chain at each round
    max_coin : float, the largest swap offered to the router, coin
    tolerance_bps : float >= 0, how far beyond the quoted average price a swap may fill, bps
    """

    venue: ChainPoolVenue
    max_coin: float
    tolerance_bps: float = 10.0

    @property
    def instrument(self) -> Instrument:
        """Return the pool's instrument."""
        return self.venue.instrument

    def mid_usd(self) -> float | None:
        """Return the pool's marginal price on chain before fees, USD per coin."""
        return self.venue.mid_usd()

    def source(self, side: Side) -> LiquiditySource:
        """Return the pool's exact quote on its current reserves against its own mid, one swap's gas as fixed cost."""
        model = self.venue.pool_model()
        mid = self.venue.mid_usd()
        return pool_source(self.instrument.instrument_id, self.venue.name, model, self.venue.tokens,
                           reference_mid_usd=mid, gas_cost_usd=self.venue.gas_estimate_usd(), max_coin=self.max_coin)

    def limit_price_usd(self, leg: RouteLeg, side: Side) -> float:
        """Return the leg's average price on the pool as it stands, ``tolerance_bps`` worse, USD per coin."""
        quote = quote_pool(self.venue.pool_model(), self.venue.tokens, side, float(leg.size_coin))
        return quote.average_price_usd * (1.0 + side.sign * self.tolerance_bps * 1e-4)


__all__ = ["ChainPoolRoute"]

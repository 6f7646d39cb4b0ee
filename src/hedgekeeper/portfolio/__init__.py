"""Instruments, positions, the portfolio's aggregated Greeks, margin and distance to liquidation.

- ``values``: exact ``Price``, ``Quantity``, ``Money`` carrying their precision.
- ``instruments``: instruments with venue metadata, and the registry.
- ``positions``: positions, balances, margin accounts.
- ``market``: the market snapshot per underlying; ACT/365 time from ns timestamps.
- ``margin``: venue standard margin (Deribit inverse, Binance-style linear tiers).
- ``book``: one underlying's positions as arrays, valued in one vectorized pass.
- ``portfolio``: the portfolio, revalued incrementally; scenarios; liquidation distance.
- ``risk``: the reporting view (delta coin/USD, gamma per 1%, vega per vol point, ...).
- ``liquidation``: the bracketing and brentq search for the liquidation move.
- ``config``: the TOML book file.
"""

from hedgekeeper.portfolio.instruments import Instrument, InstrumentKind, InstrumentRegistry, Settlement
from hedgekeeper.portfolio.liquidation import LiquidationDistance, LiquidationSide, LiquidationStatus
from hedgekeeper.portfolio.margin import MarginModel
from hedgekeeper.portfolio.market import MarketSnapshot, UnderlyingMarket
from hedgekeeper.portfolio.portfolio import Portfolio
from hedgekeeper.portfolio.positions import Account, Balance, Position
from hedgekeeper.portfolio.risk import AccountRisk, PortfolioRisk, UnderlyingRisk
from hedgekeeper.portfolio.values import Money, Price, Quantity

__all__ = [
    "Account",
    "AccountRisk",
    "Balance",
    "Instrument",
    "InstrumentKind",
    "InstrumentRegistry",
    "LiquidationDistance",
    "LiquidationSide",
    "LiquidationStatus",
    "MarginModel",
    "MarketSnapshot",
    "Money",
    "Portfolio",
    "PortfolioRisk",
    "Position",
    "Price",
    "Quantity",
    "Settlement",
    "UnderlyingMarket",
    "UnderlyingRisk",
]

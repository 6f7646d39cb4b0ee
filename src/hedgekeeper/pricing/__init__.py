"""Option pricing: pure functions on NumPy arrays, no I/O and no state.

- ``black_scholes``: European options on a spot coin (USD rate, coin yield).
- ``black76``: European options on a forward or futures price.
- ``inverse``: coin-settled options priced in coin, premium-adjusted delta.
- ``implied_vol``: implied volatility for all three.
- ``svi`` and ``surface``: volatility smiles and the surface across expiries.

Units everywhere: prices and strikes in USD per coin (coin for inverse premiums),
time in ACT/365 calendar years, volatilities and rates as annualised decimals.
"""

from hedgekeeper.pricing._evaluate import OptionGreeks
from hedgekeeper.pricing.black76 import black76_greeks, black76_price
from hedgekeeper.pricing.black_scholes import black_scholes_greeks, black_scholes_price
from hedgekeeper.pricing.implied_vol import (
    ImpliedVolReason,
    implied_vol_black76,
    implied_vol_black_scholes,
    implied_vol_inverse,
)
from hedgekeeper.pricing.inverse import inverse_greeks, inverse_price

__all__ = [
    "ImpliedVolReason",
    "OptionGreeks",
    "black76_greeks",
    "black76_price",
    "black_scholes_greeks",
    "black_scholes_price",
    "implied_vol_black76",
    "implied_vol_black_scholes",
    "implied_vol_inverse",
    "inverse_greeks",
    "inverse_price",
]

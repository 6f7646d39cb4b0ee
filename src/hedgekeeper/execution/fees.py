"""Venue fees: maker and taker rates per venue, as a validated configuration.

Rates are decimals of the notional traded (0.0005 is 5 bps); a negative maker rate
is a rebate. The fee of a fill is ``rate * |size_coin| * price_usd`` in USD,
converted by the caller to the account's currency.
"""

from __future__ import annotations

import pydantic

from hedgekeeper.config import StrictModel
from hedgekeeper.errors import ConfigError


class VenueFees(StrictModel):
    """One venue's fee rates, decimals of notional."""

    taker: float = pydantic.Field(ge=0.0, lt=0.01)
    maker: float = pydantic.Field(gt=-0.01, lt=0.01)


class FeeSchedule(StrictModel):
    """Fee rates by venue name.

    Examples
    --------
    >>> fees = FeeSchedule(venues={"binance": VenueFees(taker=0.0005, maker=0.0002)})
    >>> fees.taker_fee_usd("binance", size_coin=-2.0, price_usd=100_000.0)
    100.0
    """

    venues: dict[str, VenueFees]

    def rates(self, venue: str) -> VenueFees:
        """Return ``venue``'s rates.

        Raises
        ------
        ConfigError
            If the venue has no fee rates configured.
        """
        try:
            return self.venues[venue]
        except KeyError:
            raise ConfigError(f"no fees configured for venue {venue!r} (have {sorted(self.venues)})") from None

    def taker_fee_usd(self, venue: str, size_coin: float, price_usd: float) -> float:
        """Return the taker fee of a fill, USD."""
        return self.rates(venue).taker * abs(size_coin) * price_usd

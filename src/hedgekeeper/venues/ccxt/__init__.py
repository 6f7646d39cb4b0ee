"""Real exchanges through ccxt's asynchronous client: Deribit, Binance USD-M, OKX, Bybit.

``config.py`` (what to connect to), ``client.py`` (transport, rate limits, retries),
``dialects.py`` (what differs between exchanges, as data), ``parsing.py`` (pure
conversions to our records), ``lookups.py`` (finding an order by client id),
``errors.py`` (ccxt's exceptions to ours) and ``venue.py`` (the ``Venue``).
"""

from hedgekeeper.venues.ccxt.config import CcxtVenueConfig
from hedgekeeper.venues.ccxt.venue import CcxtVenue, create_ccxt_venue

__all__ = ["CcxtVenue", "CcxtVenueConfig", "create_ccxt_venue"]

"""The exception hierarchy: every error hedgekeeper raises descends from one root.

Three families, named for what went wrong:

- ``VenueRejected``: the venue refused; never retried.
- ``VenueUnavailable``: the call failed; a retry with backoff may help.
- ``BadData``: input rejected at the edge (a NaN price, a crossed book, a stale
  oracle, a quote outside no-arbitrage bounds).

Configuration and lookup errors sit beside them. Messages carry the numbers.
"""

from __future__ import annotations


class HedgekeeperError(Exception):
    """Root of every error raised by hedgekeeper."""


class ConfigError(HedgekeeperError):
    """A configuration file is malformed or a field is invalid; the message names the field."""


class UnknownInstrument(HedgekeeperError, KeyError):
    """An instrument id is not in the registry."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else ""


class BadData(HedgekeeperError, ValueError):
    """Input data rejected at the edge: NaN, non-positive price, crossed book, stale."""


class ArbitrageViolation(BadData):
    """A quote lies outside its no-arbitrage bounds, so it carries no implied volatility."""


class VenueRejected(HedgekeeperError):
    """The venue refused the request; retrying the same request cannot help."""


class InvalidOrder(VenueRejected):
    """The order breaks the instrument's rules: tick size, lot size, minimum size, post-only crossing."""


class InsufficientMargin(VenueRejected):
    """The account's free margin cannot carry the order."""


class OrderNotFound(VenueRejected):
    """No order with that id exists on the venue."""


class SafetyLimitBreached(VenueRejected):
    """Our own safety limits refused the order before it left: size, notional, price collar, kill switch."""


class VenueUnavailable(HedgekeeperError):
    """The venue could not be reached or timed out; a retry with backoff may help."""


class RequestTimeout(VenueUnavailable):
    """The request got no answer in time: it may or may not have reached the venue."""


class RateLimited(VenueUnavailable):
    """The venue asked us to slow down."""


class InvalidOrderTransition(HedgekeeperError):
    """An order event that its current state does not allow; the message names the order, state and event."""

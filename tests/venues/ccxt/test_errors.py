"""ccxt's exceptions to ours, checked against ccxt's own hierarchy.

Independent truth: ccxt's ``error_hierarchy`` (``ccxt/base/errors.py``) puts the
venue's refusals under ``ExchangeError`` and failures a retry may cure under
``OperationFailed``; every class must land in the matching family of ours.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import ccxt
import pytest
from ccxt.base.errors import error_hierarchy

from hedgekeeper.errors import (
    InsufficientMargin,
    InvalidOrder,
    OrderNotFound,
    RateLimited,
    RequestTimeout,
    VenueRejected,
    VenueUnavailable,
)
from hedgekeeper.venues.ccxt.errors import our_error_class, translate


def _names(tree: Mapping[str, Any]) -> Iterator[str]:
    for name, children in tree.items():
        yield name
        yield from _names(children)


@pytest.mark.parametrize(("family", "ours"), [("ExchangeError", VenueRejected), ("OperationFailed", VenueUnavailable)])
def test_every_ccxt_error_lands_in_our_family_of_the_same_meaning(family: str, ours: type) -> None:
    names = list(_names(error_hierarchy["BaseError"][family]))
    assert len(names) > 10
    for name in names:
        assert issubclass(our_error_class(getattr(ccxt, name)(name)), ours), name


@pytest.mark.parametrize(("ccxt_class", "ours"), [
    (ccxt.OrderNotFound, OrderNotFound), (ccxt.InsufficientFunds, InsufficientMargin),
    (ccxt.InvalidOrder, InvalidOrder), (ccxt.DuplicateOrderId, InvalidOrder),
    (ccxt.RateLimitExceeded, RateLimited), (ccxt.DDoSProtection, RateLimited),
    (ccxt.RequestTimeout, RequestTimeout), (ccxt.ExchangeNotAvailable, VenueUnavailable),
    (ccxt.OnMaintenance, VenueUnavailable), (ccxt.AuthenticationError, VenueRejected),
    (ccxt.BadSymbol, VenueRejected), (ccxt.BaseError, VenueRejected),
])
def test_named_ccxt_errors_map_to_the_specific_class(ccxt_class: type, ours: type) -> None:
    assert our_error_class(ccxt_class("x")) is ours


def test_translated_error_names_the_action_and_keeps_the_venues_answer() -> None:
    error = translate(ccxt.InsufficientFunds('deribit {"error":{"message":"not_enough_funds","code":10009}}'),
                      "deribit create_order BTC-PERPETUAL hk-1")
    assert isinstance(error, InsufficientMargin)
    assert str(error).startswith("deribit create_order BTC-PERPETUAL hk-1: InsufficientFunds: deribit {")
    assert "10009" in str(error)

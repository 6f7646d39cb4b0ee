"""Option quotes: bid and ask vols around the mark, wider with vol, empty bids below zero."""

from __future__ import annotations

import numpy as np

from hedgekeeper.market.simulators.option_quotes import OptionQuoteParameters, option_quote_vols

PARAMETERS = OptionQuoteParameters(base_spread_vol=0.01, spread_per_vol=0.02)


def test_quotes_straddle_the_mark_and_widen_with_vol() -> None:
    vols = np.linspace(0.0, 3.0, 31)
    bid, ask = option_quote_vols(0.8, vols, PARAMETERS)
    np.testing.assert_allclose(0.5 * (bid + ask), 0.8)
    np.testing.assert_allclose(ask - bid, 0.01 + 0.02 * vols)
    assert np.all(np.diff(ask - bid) > 0.0)


def test_bid_that_would_not_be_positive_is_empty() -> None:
    bid, ask = option_quote_vols(np.array([0.004, 0.006]), 0.0, PARAMETERS)
    assert np.isnan(bid[0]) and bid[1] > 0.0 and np.all(ask > 0.0)

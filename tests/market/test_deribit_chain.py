"""Tests of the Deribit book-summary parser and the out-of-the-money smiles built from it."""

from __future__ import annotations

import csv
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from hedgekeeper.errors import BadData
from hedgekeeper.market.deribit_chain import (
    NS_PER_YEAR,
    out_of_the_money_smiles,
    parse_book_summary_row,
    parse_instrument_name,
)

SNAPSHOT_MS = "1710223032940"  # 2024-03-12 05:57:12.940 UTC


def row(
    name: str, forward: str = "73726.02", mark_iv: str = "80.0", **fields: str
) -> dict[str, str]:
    """Return a book-summary row with every field the parser reads."""
    return {
        "instrument_name": name,
        "creation_timestamp": SNAPSHOT_MS,
        "underlying_price": forward,
        "mark_iv": mark_iv,
        "mark_price": "0.01",
        "bid_price": "",
        "ask_price": "",
        "open_interest": "0.0",
    } | fields


def test_instrument_name_gives_expiry_at_0800_utc_strike_and_type() -> None:
    expiry_ns, strike, is_call = parse_instrument_name("BTC-29MAR24-60000-P")
    assert expiry_ns == 1_711_699_200 * 1_000_000_000  # 2024-03-29 08:00:00 UTC
    assert (strike, is_call) == (60_000.0, False)


@pytest.mark.parametrize(
    "name", ["BTC-29MAR24-60000", "BTC-29XYZ24-60000-C", "BTC-29MAR24-60000-X"]
)
def test_malformed_instrument_name_is_rejected(name: str) -> None:
    with pytest.raises(BadData, match="instrument name"):
        parse_instrument_name(name)


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"mark_iv": "0.0"}, "mark_iv = 0.0"),
        ({"mark_iv": "nan"}, "mark_iv = nan"),
        ({"underlying_price": "-1"}, "underlying_price = -1.0"),
        ({"underlying_price": "abc"}, "underlying_price = 'abc' is not a number"),
    ],
)
def test_bad_row_is_rejected_naming_instrument_and_field(
    fields: dict[str, str], message: str
) -> None:
    with pytest.raises(BadData, match=f"BTC-29MAR24-60000-P: {message}"):
        parse_book_summary_row(row("BTC-29MAR24-60000-P") | fields)


def test_smile_takes_the_out_of_the_money_option_and_drops_stale_forwards() -> None:
    rows = [
        row("BTC-29MAR24-70000-C", mark_iv="90"),
        row("BTC-29MAR24-70000-P", mark_iv="88", bid_price="0.02", ask_price="0.021"),
        row("BTC-29MAR24-80000-P", mark_iv="84"),
        row("BTC-29MAR24-80000-C", mark_iv="85", ask_price="0.02"),
        row("BTC-29MAR24-77000-P", forward="73159.5", mark_iv="73.82"),  # stale: 0.8% off
        row("BTC-12MAR24-70000-C", mark_iv="95"),
    ]
    smiles = out_of_the_money_smiles(parse_book_summary_row(r) for r in rows)
    assert [round(s.t_years * 365, 2) for s in smiles] == [0.09, 17.09]
    smile = smiles[1]
    assert smile.forward == 73726.02
    np.testing.assert_array_equal(smile.strikes, [70_000.0, 80_000.0])
    np.testing.assert_array_equal(smile.is_call, [False, True])
    np.testing.assert_array_equal(smile.mark_vols, [0.88, 0.85])
    np.testing.assert_array_equal(smile.bid_prices_coin, [0.02, np.nan])
    np.testing.assert_array_equal(smile.ask_prices_coin, [0.021, 0.02])


def test_recorded_chain_matches_its_source_description(dataset: Callable[[str], Path]) -> None:
    folder = dataset("deribit-btc-book-summary-2024-03-12")
    with open(folder / "deribit_options.csv", newline="") as file:
        summaries = [parse_book_summary_row(r) for r in csv.DictReader(file)]
    # SOURCE.md: 1198 rows, all with a mark IV, 787 with a bid, 920 with an ask, 12 expiries.
    assert len(summaries) == 1198
    assert sum(s.bid_price_coin is not None for s in summaries) == 787
    assert sum(s.ask_price_coin is not None for s in summaries) == 920
    smiles = out_of_the_money_smiles(summaries)
    assert len(smiles) == 12
    assert smiles[0].t_years * NS_PER_YEAR == pytest.approx(
        parse_instrument_name("BTC-12MAR24-1-C")[0] - 1_710_223_032_959_000_000
    )
    for smile in smiles:
        listed = {
            (s.strike, s.is_call)
            for s in summaries
            if s.expiry_ns == smile.expiry_ns and abs(s.forward / smile.forward - 1) <= 2e-3
        }
        assert np.all(np.diff(smile.strikes) > 0)
        # The out-of-the-money option wherever both a call and a put are listed.
        for strike, is_call in zip(smile.strikes, smile.is_call, strict=True):
            if {(strike, True), (strike, False)} <= listed:
                assert is_call == (strike >= smile.forward)

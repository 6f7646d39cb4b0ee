"""The TOML book file: the example loads; every kind of bad input is a clear error naming it."""

from __future__ import annotations

import copy
import tomllib
from pathlib import Path
from typing import Any

import pytest

from hedgekeeper.errors import BadData, ConfigError, UnknownInstrument
from hedgekeeper.portfolio.config import load_book, parse_book
from hedgekeeper.portfolio.positions import Account

EXAMPLE = Path(__file__).parents[2] / "examples" / "portfolio.toml"
DOCUMENT = tomllib.loads(EXAMPLE.read_text())


def _edited(**edits: Any) -> dict[str, Any]:
    document = copy.deepcopy(DOCUMENT)
    for path, value in edits.items():
        *parents, last = path.split("__")
        node: Any = document
        for part in parents:
            node = node[int(part)] if part.isdigit() else node[part]
        if value is None:
            del node[last]
        else:
            node[last] = value
    return document


def test_example_book_loads_and_values() -> None:
    book = load_book(EXAMPLE)
    assert len(book.registry) == 18 and len(book.positions) == 18
    assert book.profile is not None and set(book.profile) == {"BTC", "ETH"}
    portfolio = book.portfolio()
    assert portfolio.underlyings == ("BTC", "ETH")
    assert Account("deribit", "BTC") in portfolio.accounts and Account("binance", "USDT") in portfolio.accounts
    risk = portfolio.risk()
    assert 0 < risk.maintenance_margin_usd < risk.initial_margin_usd < risk.equity_usd
    assert str(book.balances[0].money) == "18.74215630 BTC"


def test_bad_field_names_its_path() -> None:
    document = _edited(positions__3__size_contracts="lots")
    with pytest.raises(ConfigError, match=r"book.toml: invalid configuration: positions\[3\].size_contracts: Input"):
        parse_book(document, source="book.toml")


def test_unknown_and_missing_fields_are_named() -> None:
    with pytest.raises(ConfigError, match=r"instruments\[0\].tick: Extra inputs are not permitted"):
        parse_book(_edited(instruments__0__tick="0.5"))
    with pytest.raises(ConfigError, match=r"market.BTC.spot_usd: Field required"):
        parse_book(_edited(market__BTC__spot_usd=None))
    with pytest.raises(ConfigError, match=r"as_of: Input should have timezone info"):
        parse_book(_edited(as_of="2025-06-13T08:00:00"))
    with pytest.raises(ConfigError, match=r"instruments\[2\].option_type: Input should be 'call' or 'put'"):
        parse_book(_edited(instruments__2__option_type="straddle"))


def test_inconsistent_instrument_names_its_index() -> None:
    with pytest.raises(ConfigError, match=r"instruments\[2\]: instrument 'BTC-27JUN25-110000-C.DERIBIT': strike"):
        parse_book(_edited(instruments__2__strike_usd=None))


def test_unknown_instrument_in_a_position_is_named_with_close_matches() -> None:
    with pytest.raises(
        UnknownInstrument,
        match=r"positions\[7\].instrument: unknown instrument 'BTC-PERPETUAL'; close matches: 'BTC-PERPETUAL.DERIBIT'",
    ):
        parse_book(_edited(positions__7__instrument="BTC-PERPETUAL"))
    document = _edited()
    document["market"]["ETH"]["option_vols"]["ETH-27JUN25-2900-C"] = 0.5
    with pytest.raises(
        UnknownInstrument,
        match=r"market.ETH.option_vols: unknown instrument 'ETH-27JUN25-2900-C'; close matches: 'ETH-27JUN25-2800-C",
    ):
        parse_book(document)


def test_position_that_does_not_fit_its_instrument_is_named() -> None:
    with pytest.raises(ConfigError, match=r"positions\[0\].size_contracts: -25.05 is not a whole number of lots"):
        parse_book(_edited(positions__0__size_contracts=-25.05))
    with pytest.raises(ConfigError, match=r"positions\[7\]: entry_price_usd is required for perpetual"):
        parse_book(_edited(positions__7__entry_price_usd=None))
    with pytest.raises(ConfigError, match=r"positions\[0\].size_contracts: Input should be a finite number"):
        parse_book(_edited(positions__0__size_contracts=float("nan")))


@pytest.mark.parametrize("spot_usd", [float("nan"), -105_000.0, 0.0])
def test_bad_market_data_is_bad_data_naming_the_underlying(spot_usd: float) -> None:
    with pytest.raises(BadData, match=r"book.toml: market.BTC: BTC: spot_usd must be finite and > 0"):
        parse_book(_edited(market__BTC__spot_usd=spot_usd), source="book.toml")


def test_bad_option_vol_is_bad_data_naming_the_option() -> None:
    document = _edited()
    document["market"]["ETH"]["option_vols"]["ETH-27JUN25-2800-C.DERIBIT"] = float("nan")
    with pytest.raises(BadData, match=r"market.ETH: ETH-27JUN25-2800-C.DERIBIT: implied vol must be finite"):
        parse_book(document)


def test_missing_forward_surfaces_when_the_portfolio_is_built() -> None:
    document = _edited()
    del document["market"]["BTC"]["forwards_usd"]["2025-09-26T08:00:00Z"]
    with pytest.raises(BadData, match="BTC: no forward for expiry 2025-09-26T08:00:00Z and no basis_rate"):
        parse_book(document).portfolio()


def test_malformed_or_missing_file_is_a_config_error(tmp_path: Path) -> None:
    broken = tmp_path / "broken.toml"
    broken.write_text("as_of = 2025-06-13T08:00:00Z\n[[positions]\n")
    with pytest.raises(ConfigError, match=r"broken.toml: malformed TOML: .*line 2"):
        load_book(broken)
    with pytest.raises(ConfigError, match="absent.toml: no such file"):
        load_book(tmp_path / "absent.toml")


def test_margin_table_overrides_defaults() -> None:
    document = _edited(margin={"inverse_futures": {"BTC": {"maintenance_base": 0.02}}})
    model = parse_book(document).margin_model
    assert model.inverse_futures["BTC"].maintenance_base == 0.02
    assert model.inverse_futures["ETH"].increase_per_coin == 0.000005

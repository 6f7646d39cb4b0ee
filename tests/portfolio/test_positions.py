"""Positions and balances: their accounts, their exposure, the checks against the instrument."""

from __future__ import annotations

import pytest

from hedgekeeper.errors import ConfigError
from hedgekeeper.portfolio.positions import Account, Position, account_of, check_position, exposure
from portfolio.book_builders import balance, inverse_future, inverse_option, linear_future, spot


def test_accounts_are_venue_and_collateral_currency() -> None:
    assert account_of(inverse_option(100_000.0, True)) == Account("deribit", "BTC")
    assert account_of(linear_future(underlying="ETH")) == Account("binance", "USDT")
    assert account_of(spot()) == Account("binance", "BTC")
    assert balance("deribit", "USDC", "1").account.is_usd
    assert str(Account("deribit", "ETH")) == "deribit ETH"


def test_exposure_is_usd_face_for_inverse_futures_and_coin_otherwise() -> None:
    future = inverse_future()
    assert exposure(Position(future.instrument_id, -150, 100_000.0), future) == -1_500.0
    option = inverse_option(100_000.0, False)
    assert exposure(Position(option.instrument_id, 2.5), option) == 2.5


def test_futures_need_an_entry_price_and_options_refuse_one() -> None:
    future, option = linear_future(), inverse_option(100_000.0, True)
    with pytest.raises(ConfigError, match="entry_price_usd is required for perpetual"):
        check_position(Position(future.instrument_id, 1.0), future)
    with pytest.raises(ConfigError, match="applies to futures and perpetuals only"):
        check_position(Position(option.instrument_id, 1.0, 0.05), option)
    with pytest.raises(ConfigError, match="entry_price_usd must be finite and > 0"):
        check_position(Position(future.instrument_id, 1.0, -5.0), future)
    with pytest.raises(ConfigError, match="size_contracts must be finite"):
        check_position(Position(option.instrument_id, float("nan")), option)
    check_position(Position(future.instrument_id, -2.5, 101_000.0), future)

"""The ccxt venue configuration: each bad field is an error naming it; secrets stay in the environment."""

from __future__ import annotations

from pathlib import Path

import pytest

from hedgekeeper.config import validate, validate_table
from hedgekeeper.errors import ConfigError
from hedgekeeper.venues.ccxt.config import CcxtVenueConfig, read_credentials

VALID = {"exchange": "deribit", "sandbox": True, "market_ids": ["BTC-PERPETUAL"],
         "api_key_env": "DERIBIT_KEY", "api_secret_env": "DERIBIT_SECRET"}


@pytest.mark.parametrize(("change", "message"), [
    ({"sandbox": None}, "venue.sandbox"),
    ({"exchange": "kraken"}, "venue.exchange"),
    ({"market_ids": []}, "venue.market_ids"),
    ({"request_timeout_s": 0.0}, "venue.request_timeout_s"),
    ({"max_retries": -1}, "venue.max_retries"),
    ({"backoff_initial_s": 2.0, "backoff_max_s": 1.0}, "backoff_max_s"),
    ({"market_ids": ["BTC-PERPETUAL", "BTC-PERPETUAL"]}, "duplicates"),
    ({"api_password_env": "DERIBIT_PASSPHRASE"}, "api_password_env is required for okx"),
    ({"api_secret": "s3cr3t"}, "venue.api_secret"),
])
def test_bad_field_is_a_config_error_naming_it(change: dict, message: str) -> None:
    data = {key: value for key, value in {**VALID, **change}.items() if value is not None}
    with pytest.raises(ConfigError, match=message.replace(".", r"\.")):
        validate(CcxtVenueConfig, data, prefix="venue")


def test_okx_requires_its_passphrase_variable() -> None:
    with pytest.raises(ConfigError, match="api_password_env is required for okx"):
        validate(CcxtVenueConfig, {**VALID, "exchange": "okx"}, prefix="venue")


def test_toml_table_loads_with_defaults_for_retries(tmp_path: Path) -> None:
    path = tmp_path / "venue.toml"
    path.write_text('[venue]\nexchange = "okx"\nsandbox = true\nmarket_ids = ["BTC-USDT-SWAP"]\n'
                    'api_key_env = "OKX_KEY"\napi_secret_env = "OKX_SECRET"\napi_password_env = "OKX_PASSPHRASE"\n')
    config = validate_table(CcxtVenueConfig, path, prefix="venue", what="venue settings")
    assert (config.exchange, config.market_ids, config.max_retries, config.rate_limit) == (
        "okx", ("BTC-USDT-SWAP",), 3, True)


def test_credentials_come_from_the_named_variables_and_never_show() -> None:
    config = validate(CcxtVenueConfig, VALID)
    credentials = read_credentials(config, {"DERIBIT_KEY": "key-1", "DERIBIT_SECRET": "secret-1"})
    assert (credentials.api_key, credentials.secret, credentials.password) == ("key-1", "secret-1", None)
    assert "secret-1" not in repr(credentials) and "key-1" not in repr(credentials)


def test_missing_credentials_name_the_variables_not_their_values() -> None:
    config = validate(CcxtVenueConfig, VALID)
    with pytest.raises(ConfigError, match="DERIBIT_KEY \\(api_key_env\\), DERIBIT_SECRET \\(api_secret_env\\)"):
        read_credentials(config, {"DERIBIT_SECRET": ""})

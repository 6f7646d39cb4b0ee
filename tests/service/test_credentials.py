"""Secrets come from the environment or owner-only files, and never show in a repr, a log or the store."""

from __future__ import annotations

from pathlib import Path

import pytest

from hedgekeeper.errors import ConfigError
from hedgekeeper.service.credentials import api_token, read_key_file, venue_environment
from hedgekeeper.venues.ccxt.config import CcxtVenueConfig

VENUE = CcxtVenueConfig(exchange="deribit", sandbox=True, market_ids=("BTC-PERPETUAL",),
                        api_key_env="DERIBIT_KEY", api_secret_env="DERIBIT_SECRET")


def _key_file(folder: Path, mode: int, text: str = 'api_key = "k-123"\napi_secret = "s-456"\n') -> Path:
    path = folder / "deribit.toml"
    path.write_text(text)
    path.chmod(mode)
    return path


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604, 0o660])
def test_a_key_file_others_may_read_is_refused_with_the_fix(tmp_path: Path, mode: int) -> None:
    path = _key_file(tmp_path, mode)
    with pytest.raises(ConfigError, match=rf"mode {mode:04o}, readable by group or others; run: chmod 600"):
        read_key_file(path)


def test_an_owner_only_key_file_gives_the_venue_its_credentials_hidden(tmp_path: Path) -> None:
    path = _key_file(tmp_path, 0o600)
    keys = read_key_file(path)
    assert keys["api_secret"].get_secret_value() == "s-456"
    assert "s-456" not in repr(keys) and "s-456" not in str(keys)
    assert venue_environment(VENUE, str(path)) == {"DERIBIT_KEY": "k-123", "DERIBIT_SECRET": "s-456"}
    assert venue_environment(VENUE, None, {"DERIBIT_KEY": "e"}) == {"DERIBIT_KEY": "e"}


@pytest.mark.parametrize(("text", "message"), [
    ('api_key = "k"\n', "api_key and api_secret must be non-empty strings"),
    ('api_key = "k"\napi_secret = "s"\npassword = "p"\n', "unknown keys ['password']"),
    ("api_key = \n", "malformed TOML"),
])
def test_a_bad_key_file_is_refused_without_showing_values(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message.replace("[", r"\[").replace("]", r"\]")) as error:
        read_key_file(_key_file(tmp_path, 0o600, text))
    assert '"k"' not in str(error.value)


def test_the_api_token_comes_from_the_environment_then_a_file_then_a_new_owner_only_file(tmp_path: Path) -> None:
    token, source = api_token("TOKEN_VAR", tmp_path / "token", {"TOKEN_VAR": "from-env"})
    assert (token.get_secret_value(), source) == ("from-env", "environment variable TOKEN_VAR")
    created, source = api_token("TOKEN_VAR", tmp_path / "token", {})
    assert "new random token" in source and len(created.get_secret_value()) >= 32
    assert (tmp_path / "token").stat().st_mode & 0o777 == 0o600
    again, _ = api_token("TOKEN_VAR", tmp_path / "token", {})
    assert again.get_secret_value() == created.get_secret_value()
    (tmp_path / "token").chmod(0o644)
    with pytest.raises(ConfigError, match="readable by group or others"):
        api_token("TOKEN_VAR", tmp_path / "token", {})

"""What differs between exchanges, checked against each venue's published client-id rules.

Independent truths: Deribit labels are up to 64 characters; Binance's
``newClientOrderId`` matches ``^[.A-Z:/a-z0-9_-]{1,36}$``; OKX's ``clOrdId`` is up
to 32 letters and digits; Bybit's ``orderLinkId`` is up to 36 letters, digits,
dashes and underscores.
"""

from __future__ import annotations

import pytest

from hedgekeeper.errors import ConfigError
from hedgekeeper.venues.base import Capability, Support
from hedgekeeper.venues.ccxt.dialects import DIALECTS, dialect_of


@pytest.mark.parametrize(("exchange_id", "accepted", "refused"), [
    ("deribit", ["hk-0001", "x" * 64, "rebalance 7/BTC"], ["", "x" * 65, "hk\n1"]),
    ("binanceusdm", ["hk-0001", "a.b:c/d_e", "x" * 36], ["x" * 37, "hk 1", "hk#1"]),
    ("okx", ["hk0001", "x" * 32, "123"], ["hk-0001", "x" * 33, "hk_1"]),
    ("bybit", ["hk-0001", "hk_1", "x" * 36], ["x" * 37, "hk.1", "hk:1"]),
])
def test_client_order_ids_follow_the_venues_rules(exchange_id: str, accepted: list[str], refused: list[str]) -> None:
    dialect = DIALECTS[exchange_id]
    assert [dialect.check_client_order_id(one) for one in accepted] == [None] * len(accepted)
    assert all(exchange_id in str(dialect.check_client_order_id(one)) for one in refused)


def test_every_dialect_states_every_capability() -> None:
    for dialect in DIALECTS.values():
        assert set(dialect.capabilities) == set(Capability), dialect.exchange_id
        marks = dialect.capabilities[Capability.MARK_STREAM] is not Support.ABSENT
        assert marks == (dialect.implied_vol_unit is not None), dialect.exchange_id


def test_unknown_exchange_lists_the_supported_ones() -> None:
    with pytest.raises(ConfigError, match="'kraken' is not supported; choose one of \\['binanceusdm', 'bybit'"):
        dialect_of("kraken")

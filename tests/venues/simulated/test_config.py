"""The simulated exchange's configuration: defaults and errors naming the field."""

from __future__ import annotations

import pytest

from hedgekeeper.config import validate
from hedgekeeper.errors import ConfigError
from hedgekeeper.venues.simulated.config import SimulatedExchangeConfig


def test_defaults_are_no_latency_no_protection_and_the_main_account() -> None:
    config = validate(SimulatedExchangeConfig, {"name": "deribit"})
    assert (config.account, config.order_latency_ns, config.cancel_latency_ns) == ("main", 0, 0)
    assert config.market_protection_bps is None and config.balances == {}


@pytest.mark.parametrize(
    ("table", "field"),
    [
        ({"name": "deribit", "order_latency_ns": -5}, "venues.simulated.order_latency_ns"),
        ({"name": "deribit", "market_protection_bps": 0}, "venues.simulated.market_protection_bps"),
        ({"name": "deribit", "balances": {"BTC": "lots"}}, "venues.simulated.balances.BTC"),
        ({"name": "deribit", "latency": 5}, "venues.simulated.latency"),
        ({"name": ""}, "venues.simulated.name"),
    ],
)
def test_bad_field_is_a_config_error_naming_it(table: dict, field: str) -> None:
    with pytest.raises(ConfigError, match=field):
        validate(SimulatedExchangeConfig, table, prefix="venues.simulated")

"""Simulation configuration: a bad field is a ConfigError naming it."""

from __future__ import annotations

import tomllib
from collections.abc import Callable
from typing import Any

import pytest

from hedgekeeper.config import validate
from hedgekeeper.errors import ConfigError
from hedgekeeper.market.simulators import config as config_module
from hedgekeeper.market.simulators.config import SimulationConfig

from market.simulators.configs import raw_config


def _set(path: tuple[str | int, ...], value: Any) -> Callable[[dict[str, Any]], None]:
    def edit(data: dict[str, Any]) -> None:
        target = data
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value
    return edit


BAD_FIELDS = [
    ("gbm", _set(("model", "vol"), -0.2),
     "model.gbm.vol: Input should be greater than or equal to 0"),
    ("gbm", _set(("duration_s",), 0.5),
     "duration_s: Value error, duration_s 0.5 holds no step of 1.0 s (zero steps)"),
    ("gbm", _set(("duration_s",), 10.5),
     "duration_s: Value error, duration_s 10.5 is not a whole number of steps"),
    ("gbm", _set(("step_s",), 0.0), "step_s: Input should be greater than 0"),
    ("gbm", _set(("step_s",), 1e-12),
     "step_s: Value error, step_s 1e-12 is shorter than one nanosecond"),
    ("heston", _set(("model", "correlation"), 1.5),
     "model.heston.correlation: Input should be less than 1"),
    ("heston", _set(("model", "vol_of_variance"), 0.0),
     "model.heston.vol_of_variance: Input should be greater than 0"),
    ("heston", _set(("model", "kind"), "sabr"),
     "model: Input tag 'sabr' found using 'kind' does not match"),
    ("merton", _set(("model", "jumps", "vol_log"), -0.1),
     "model.merton.jumps.vol_log: Input should be greater than or equal to 0"),
    ("regime_switching", _set(("model", "initial_regime"), "panic"),
     "model.regime_switching.initial_regime: Value error, 'panic' is not one of the regimes"),
    ("heston", _set(("scenarios", 0, "drop_fraction"), 1.2),
     "scenarios[0].flash_crash.drop_fraction: Input should be less than 1"),
    ("heston", _set(("options", "surface", "calm_eta"), 1.9),
     "options.surface.calm_eta: Value error, eta (1 + |rho|) = 2.28 exceeds 2.0"),
    ("heston", _set(("venues", 0, "book", "level_count"), 0),
     "venues[0].book.level_count: Input should be greater than or equal to 1"),
    ("heston", _set(("venues", 1, "stream"), "BTC/USD"),
     "venues, options.instruments and oracles repeat the streams ['BTC/USD']"),
    ("heston", _set(("oracles", 0, "heartbeat_s"), 0.0),
     "oracles[0].heartbeat_s: Input should be greater than 0"),
    ("heston", _set(("seed",), -1), "seed: Input should be greater than or equal to 0"),
    ("heston", _set(("spot_usd",), float("nan")), "spot_usd: Input should be a finite number"),
    ("heston", _set(("volatility",), 0.5), "volatility: Extra inputs are not permitted"),
]


@pytest.mark.parametrize(("model", "edit", "message"), BAD_FIELDS,
                         ids=[case[2].split(":")[0] for case in BAD_FIELDS])
def test_bad_field_is_a_config_error_naming_it(
    model: str, edit: Callable[[dict[str, Any]], None], message: str
) -> None:
    data = raw_config(model)
    edit(data)
    with pytest.raises(ConfigError) as error:
        validate(SimulationConfig, data)
    assert message in str(error.value)


@pytest.mark.parametrize("model", ["gbm", "heston", "merton", "regime_switching"])
def test_every_model_kind_validates(model: str) -> None:
    config = validate(SimulationConfig, raw_config(model, duration_s=7_200.0, step_s=0.5))
    assert config.model.kind == model
    assert config.step_ns == 500_000_000 and config.step_count == 14_400


def test_documented_toml_example_is_a_valid_configuration() -> None:
    doc = config_module.__doc__
    example = doc[doc.index("::") + 2:doc.index("Load it with")]
    config = validate(SimulationConfig, tomllib.loads(example))
    assert config.model.kind == "heston" and config.step_count == 86_400
    assert config.venues[0].book.tick_size_usd == 0.5 and config.scenarios[0].kind == "flash_crash"

"""Shared checks: numbers in range, Greeks by name."""

from __future__ import annotations

import math

import numpy as np
import pytest

from hedgekeeper.planner import MalformedPlanRequest
from hedgekeeper.planner.validation import as_greek, require_number
from hedgekeeper.policy.decision import Greek


def test_numbers_of_every_numeric_type_become_floats() -> None:
    assert require_number(np.float32(1.5), "x") == 1.5
    assert require_number(np.int64(2), "x", minimum=0.0, strict=True) == 2.0
    assert require_number(math.inf, "x", allow_infinite=True) == math.inf


@pytest.mark.parametrize(
    ("value", "limits", "problem"),
    [
        (True, {}, "x must be a number, got True"),
        (None, {}, "x must be a number, got None"),
        (math.inf, {}, "x must be a finite number, got inf"),
        (math.nan, {"allow_infinite": True}, "x must be a number, got nan"),
        (0.0, {"minimum": 0.0, "strict": True}, "x must be > 0, got 0.0"),
        (-0.5, {"minimum": 0.0}, "x must be >= 0, got -0.5"),
    ],
)
def test_bad_number_is_named_with_its_value(value: object, limits: dict, problem: str) -> None:
    with pytest.raises(MalformedPlanRequest, match=problem):
        require_number(value, "x", **limits)


def test_greek_accepts_members_and_values() -> None:
    assert as_greek(Greek.WEIGHT, "x") is Greek.WEIGHT
    assert as_greek("vega_usd_per_vol_pt", "x") is Greek.VEGA_USD_PER_VOL_PT

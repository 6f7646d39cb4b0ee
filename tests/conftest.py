"""Shared fixtures (the recorded-data directory, skipped with a reason when absent) and settings.

Property tests run derandomized by default, so that a run is reproducible on any
machine (CI included) and no timing deadline makes them flaky on a loaded one;
``HYPOTHESIS_PROFILE=explore`` draws fresh random examples when hunting for bugs.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import settings

from hedgekeeper.market.data_dir import dataset_path

settings.register_profile("reproducible", derandomize=True, deadline=None)
settings.register_profile("explore", deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "reproducible"))


@pytest.fixture(scope="session")
def dataset() -> Callable[[str], Path]:
    """Return a function mapping a data-set name to its folder, skipping the test if absent.

    Session-scoped, so module-scoped fixtures that read a data set once can use it.
    """

    def _get(name: str) -> Path:
        try:
            return dataset_path(name)
        except FileNotFoundError as error:
            pytest.skip(str(error))

    return _get

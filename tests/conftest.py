"""Shared fixtures: the recorded-data directory, skipped with a reason when absent."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from hedgekeeper.market.data_dir import dataset_path


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

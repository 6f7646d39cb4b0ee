"""Locate the directory of recorded market data.

The recorded data is never copied into the repository; it is read in place from
a configurable directory: the ``HEDGEKEEPER_DATA_DIR`` environment variable when
set, else ``../shared/data`` beside the checkout.
"""

from __future__ import annotations

import os
from pathlib import Path

ENV_VAR = "HEDGEKEEPER_DATA_DIR"

_REPO_ROOT = Path(__file__).resolve().parents[3]


def data_dir() -> Path:
    """Return the configured data directory (it may not exist; see ``require_dataset``)."""
    configured = os.environ.get(ENV_VAR)
    if configured:
        return Path(configured).expanduser()
    return _REPO_ROOT.parent / "shared" / "data"


def dataset_path(name: str) -> Path:
    """Return the folder of one recorded data set, e.g. ``"deribit-dvol-daily"``.

    Raises
    ------
    FileNotFoundError
        If the folder is absent, with the directory searched and how to configure it.
    """
    path = data_dir() / name
    if not path.is_dir():
        raise FileNotFoundError(
            f"recorded data set {name!r} not found under {data_dir()} "
            f"(set {ENV_VAR} to the folder that holds it)"
        )
    return path

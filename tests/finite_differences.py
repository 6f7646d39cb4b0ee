"""Finite-difference estimates of derivatives: the independent truth for Greeks."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np


def central_difference(
    function: Callable[[np.ndarray], np.ndarray], x: np.ndarray, step: np.ndarray | float
) -> np.ndarray:
    """Return (f(x + h) - f(x - h)) / 2h, the O(h^2) central estimate of f'(x)."""
    return (function(x + step) - function(x - step)) / (2.0 * step)


def second_difference(
    function: Callable[[np.ndarray], np.ndarray], x: np.ndarray, step: np.ndarray | float
) -> np.ndarray:
    """Return (f(x + h) - 2 f(x) + f(x - h)) / h^2, the O(h^2) central estimate of f''(x)."""
    return (function(x + step) - 2.0 * function(x) + function(x - step)) / step**2

"""Labels for the ML gate: would waiting ``h`` steps have been worth more than hedging now?

A rule fires at step ``t``: the book's delta ``d_t`` (coin) is outside its band
``[lower, upper]``. Hedging now trades the excess ``x = d_t - clip(d_t, lower, upper)``
to the band's edge; waiting keeps it. Until ``t + h`` both books have the same
gamma, so they differ only by the constant ``x`` coin of exposure. With ``lambda``
the cost per USD traded, ``S`` the spot (USD per coin), ``d`` the delta path under
the hedge held at ``t`` and ``dist(y)`` how far ``y`` lies outside the band:

- hedge now:  ``C_now  = lambda S_t |x| + lambda S_{t+h} |dist(d_{t+h} - x)|``
- wait h:     ``C_wait = lambda S_{t+h} |dist(d_{t+h})| + (gamma / 2) x^2 sum_s (S_{s+1} - S_s)^2``

the second term of ``C_wait`` being the certainty-equivalent cost of carrying ``x``
coin for ``h`` steps (its realized P&L variance times half the absolute risk
aversion ``gamma``, per USD). Label ``"value"``: 1 ("defer") when ``C_wait < C_now``.
Label ``"persisted"``: 1 when the deviation did *not* persist, i.e. ``d_{t+h}`` is
back inside the band. Both read the path after ``t``: training data only.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

LabelKind = Literal["value", "persisted"]


def _outside(value: NDArray[np.float64], lower: NDArray[np.float64], upper: NDArray[np.float64]) -> NDArray[np.float64]:
    return value - np.clip(value, lower, upper)


def defer_labels(
    step: ArrayLike,
    hedge_coin: ArrayLike,
    lower_coin: ArrayLike,
    upper_coin: ArrayLike,
    book_delta_coin: ArrayLike,
    spot_usd: ArrayLike,
    horizon_steps: int,
    cost_fraction: float,
    risk_aversion_per_usd: float,
    kind: LabelKind = "value",
) -> tuple[NDArray[np.int8], NDArray[np.float64], NDArray[np.bool_]]:
    """Return, for each decision, whether deferring ``horizon_steps`` would have been better.

    Parameters
    ----------
    step : int array (n,), the step index of each decision on the path
    hedge_coin : array (n,), the hedge held at the decision, coin; the book's delta
        is ``book_delta_coin[step] + hedge_coin``
    lower_coin, upper_coin : arrays (n,), the band at the decision, coin
    book_delta_coin : array (T,), the delta of the unhedged book along the path, coin
    spot_usd : array (T,), USD per coin
    horizon_steps : int, ``h`` >= 1
    cost_fraction : float, ``lambda``, decimal per USD traded
    risk_aversion_per_usd : float, ``gamma``, per USD
    kind : "value" (cost plus risk penalty) or "persisted" (the deviation went away)

    Returns
    -------
    labels : int8 array (n,), 1 to defer, 0 to hedge now (0 where not ``known``)
    gain_usd : float array (n,), ``C_now - C_wait`` (USD; > 0 favours deferring)
    known : bool array (n,), whether ``step + h`` lies on the path

    Examples
    --------
    A spike that comes back: delta 1.5 coin outside a +-1 band, back to 0.2 after h.

    >>> labels, gain, known = defer_labels([0], [0.0], [-1.0], [1.0], [1.5, 0.2], [100.0, 100.0],
    ...                                    1, 0.001, 1e-4)
    >>> int(labels[0]), round(float(gain[0]), 4), bool(known[0])
    (1, 0.05, True)
    """
    steps = np.asarray(step, dtype=np.int64)
    hedge = np.asarray(hedge_coin, dtype=np.float64)
    lower = np.asarray(lower_coin, dtype=np.float64)
    upper = np.asarray(upper_coin, dtype=np.float64)
    book = np.asarray(book_delta_coin, dtype=np.float64)
    spot = np.asarray(spot_usd, dtype=np.float64)
    if horizon_steps < 1:
        raise ValueError(f"horizon_steps must be >= 1, got {horizon_steps}")
    known = steps + horizon_steps < len(spot)
    later = np.minimum(steps + horizon_steps, len(spot) - 1)
    now_delta = book[steps] + hedge
    excess = _outside(now_delta, lower, upper)
    later_delta = book[later] + hedge
    cost_now = cost_fraction * (spot[steps] * np.abs(excess) + spot[later] * np.abs(_outside(later_delta - excess, lower, upper)))
    squared_moves = np.concatenate(([0.0], np.cumsum(np.diff(spot) ** 2)))
    carried_variance = excess**2 * (squared_moves[later] - squared_moves[steps])
    cost_wait = cost_fraction * spot[later] * np.abs(_outside(later_delta, lower, upper)) + 0.5 * risk_aversion_per_usd * carried_variance
    gain = cost_now - cost_wait
    if kind == "value":
        labels = gain > 0.0
    elif kind == "persisted":
        labels = _outside(later_delta, lower, upper) == 0.0
    else:
        raise ValueError(f"kind must be 'value' or 'persisted', got {kind!r}")
    return (labels & known).astype(np.int8), np.where(known, gain, 0.0), known

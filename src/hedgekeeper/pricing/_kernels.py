"""Numba kernels of the generalised Black model, shared by every European pricer.

One model covers Black-Scholes, Black-76 and (through a change of numeraire) the
inverse options: an underlying ``x`` whose forward is ``f = x * exp(b t)`` for a
cost of carry ``b``, discounted at rate ``r`` (Haug, *The Complete Guide to Option
Pricing Formulas*, 2nd ed., section 1.1.6). With ``D = exp(-r t)``, ``g = exp(b t)``,
``w = +1`` for calls and ``-1`` for puts, ``N`` and ``n`` the normal cdf and pdf::

    d1 = (ln(f / k) + v^2 t / 2) / (v sqrt(t)),   d2 = d1 - v sqrt(t)
    price = D w (f N(w d1) - k N(w d2))
    delta = D g w N(w d1)                      d price / d x
    gamma = D g n(d1) / (x v sqrt(t))          d delta / d x
    vega  = D f n(d1) sqrt(t)                  d price / d v
    theta = r price - D f n(d1) v / (2 sqrt(t)) - b f D w N(w d1)     d price / d(calendar time)
    rho   = -t price  (+ t f D w N(w d1) when the carry moves with r, as in Black-Scholes)
    vanna = -D g n(d1) d2 / v                  d delta / d v
    volga = vega d1 d2 / v                     d vega / d v

The price is evaluated as the out-of-the-money option's value plus the intrinsic
value, which keeps full relative accuracy of the time value deep in the money.
At ``t = 0`` or ``v = 0`` the option is worth its discounted intrinsic value on the
forward and ``N(w d1) = N(w d2)`` becomes a step (one half exactly at the money);
gamma, vega, vanna and volga are zero there.

``price_kernel_*`` and ``greeks_kernel_*`` are the same loops compiled serial and
parallel; callers pick by size (``PARALLEL_FROM``).

Arguments arrive flat and contiguous, each either of the full length or of length
one (a broadcast scalar); invalid entries (non-finite, ``x <= 0``, ``k <= 0``,
``t < 0``, ``v < 0``) give NaN and are counted, so that the caller can refuse them
without a second pass over valid data.
"""

from __future__ import annotations

import math

import numba as nb
import numpy as np

_INV_SQRT_2 = 0.7071067811865476
_INV_SQRT_2PI = 0.3989422804014327

_JIT = {"cache": True, "nogil": True, "error_model": "numpy"}


@nb.njit(inline="always", **_JIT)
def _at(values: np.ndarray, i: int) -> float:
    return values[0] if values.shape[0] == 1 else values[i]


@nb.njit(inline="always", **_JIT)
def _normal_cdf(z: float) -> float:
    return 0.5 * math.erfc(-z * _INV_SQRT_2)


@nb.njit(inline="always", **_JIT)
def _is_valid(x: float, k: float, t: float, v: float, b: float, r: float) -> bool:
    # Written so that NaN fails every comparison.
    return (
        x > 0.0 and k > 0.0 and t >= 0.0 and v >= 0.0
        and x < math.inf and k < math.inf and t < math.inf and v < math.inf
        and abs(b) < math.inf and abs(r) < math.inf
    )


@nb.njit(inline="always", **_JIT)
def _terms(x, k, t, v, b, w):
    """Return f, N(w d1), n(d1), d1, d2, v sqrt(t) and the undiscounted price of one option.

    The price is the out-of-the-money side's value, computed from the normal tails,
    plus the intrinsic value when the option is in the money (put-call parity): the
    direct ``f N(d1) - k N(d2)`` of a deep in-the-money option would lose the time
    value to rounding of the intrinsic.
    """
    f = x * math.exp(b * t)
    vol_sqrt_t = v * math.sqrt(t)
    intrinsic = max(w * (f - k), 0.0)
    if vol_sqrt_t > 0.0:
        d1 = math.log(f / k) / vol_sqrt_t + 0.5 * vol_sqrt_t
        d2 = d1 - vol_sqrt_t
        otm = -1.0 if f > k else 1.0
        tail1 = _normal_cdf(otm * d1)
        time_value = otm * (f * tail1 - k * _normal_cdf(otm * d2))
        n1 = tail1 if otm == w else 1.0 - tail1
        return f, n1, _INV_SQRT_2PI * math.exp(-0.5 * d1 * d1), d1, d2, vol_sqrt_t, intrinsic + time_value
    moneyness = w * (f - k)
    step = 1.0 if moneyness > 0.0 else (0.5 if moneyness == 0.0 else 0.0)
    return f, step, 0.0, 0.0, 0.0, 0.0, intrinsic


def _price_loop(x, k, t, v, b, r, is_call, price):
    """Fill ``price`` with the generalised Black price; return the count of invalid entries."""
    invalid = 0
    for i in nb.prange(price.shape[0]):
        xi, ki, ti, vi, bi, ri = _at(x, i), _at(k, i), _at(t, i), _at(v, i), _at(b, i), _at(r, i)
        if not _is_valid(xi, ki, ti, vi, bi, ri):
            price[i] = math.nan
            invalid += 1
            continue
        w = 1.0 if _at(is_call, i) else -1.0
        value = _terms(xi, ki, ti, vi, bi, w)[6]
        price[i] = math.exp(-ri * ti) * value
    return invalid


def _greeks_loop(x, k, t, v, b, r, is_call, carry_follows_rate, out):
    """Fill the rows of ``out`` (8, n) with price and Greeks; return the count of invalid entries.

    Rows: price, delta, gamma, vega, theta, rho, vanna, volga (units in the module docstring).
    """
    invalid = 0
    for i in nb.prange(out.shape[1]):
        xi, ki, ti, vi, bi, ri = _at(x, i), _at(k, i), _at(t, i), _at(v, i), _at(b, i), _at(r, i)
        if not _is_valid(xi, ki, ti, vi, bi, ri):
            for row in range(8):
                out[row, i] = math.nan
            invalid += 1
            continue
        w = 1.0 if _at(is_call, i) else -1.0
        f, n1, pdf, d1, d2, vol_sqrt_t, value = _terms(xi, ki, ti, vi, bi, w)
        discount = math.exp(-ri * ti)
        growth = f / xi
        price = discount * value
        forward_delta = discount * w * n1
        out[0, i] = price
        out[1, i] = forward_delta * growth
        out[5, i] = -ti * price + (ti * f * forward_delta if carry_follows_rate else 0.0)
        out[4, i] = ri * price - bi * f * forward_delta
        if pdf > 0.0:
            sqrt_t = vol_sqrt_t / vi
            vega = discount * f * pdf * sqrt_t
            out[2, i] = discount * growth * pdf / (xi * vol_sqrt_t)
            out[3, i] = vega
            out[4, i] -= 0.5 * discount * f * pdf * vi / sqrt_t
            out[6, i] = -discount * growth * pdf * d2 / vi
            out[7, i] = vega * d1 * d2 / vi
        else:
            out[2, i] = 0.0
            out[3, i] = 0.0
            out[6, i] = 0.0
            out[7, i] = 0.0
    return invalid


# Each loop compiled twice: threads pay off from a few thousand options; below that,
# waking them costs more than the work (microseconds against nanoseconds per option).
PARALLEL_FROM = 4096
price_kernel_serial = nb.njit(**_JIT)(_price_loop)
price_kernel_parallel = nb.njit(parallel=True, **_JIT)(_price_loop)
greeks_kernel_serial = nb.njit(**_JIT)(_greeks_loop)
greeks_kernel_parallel = nb.njit(parallel=True, **_JIT)(_greeks_loop)

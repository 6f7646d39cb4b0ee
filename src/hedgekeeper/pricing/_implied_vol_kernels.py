"""Numba kernels of implied volatility: Peter Jäckel's "Let's Be Rational".

Everything here works on the *normalised* Black function of an out-of-the-money
call (``x = ln(F/K) <= 0``, ``s = vol sqrt(t)``)::

    b(x, s) = Phi(x/s + s/2) exp(x/2) - Phi(x/s - s/2) exp(-x/2)

evaluated in four regions (asymptotic expansion, small-``s`` expansion, plain
``Phi`` and Cody's ``erfcx``) so that it keeps full relative accuracy deep in the
tails. The inverse starts from a rational-cubic guess on four branches of ``b``
and takes two Householder(3) steps on a transformed objective, which reaches
machine precision (P. Jäckel, "Let's Be Rational", Wilmott 2015, 47-53).

Ported to Numba from ``py_lets_be_rational`` 1.0.1 (MIT licence, copyright 2017
Gammon Capital LLC), itself a port of Jäckel's reference implementation, whose
notice follows. Two porting slips of that package are fixed here (the iteration
of the upper branch and its finite-second-derivative test).

    Copyright © 2013-2014 Peter Jäckel.

    Permission to use, copy, modify, and distribute this software is freely granted,
    provided that this notice is preserved.

    WARRANTY DISCLAIMER
    The Software is provided "as is" without warranty of any kind, either express or
    implied, including without limitation any implied warranties of condition,
    uninterrupted use, merchantability, fitness for a particular purpose, or
    non-infringement.
"""

from __future__ import annotations

import math
import sys
from enum import IntEnum

import numba as nb
import numpy as np

_JIT = {"cache": True, "nogil": True, "error_model": "numpy", "fastmath": False}

_DBL_EPSILON = sys.float_info.epsilon
_DBL_MIN = sys.float_info.min
_DBL_MAX = sys.float_info.max
_SQRT_DBL_MIN = math.sqrt(_DBL_MIN)
_SQRT_DBL_MAX = math.sqrt(_DBL_MAX)
_ONE_OVER_SQRT_TWO = 0.7071067811865475244008443621048490392848359376887
_ONE_OVER_SQRT_TWO_PI = 0.3989422804014326779399460599343818684758586311649
_TWO_PI = 6.283185307179586476925286766559005768394338798750
_SQRT_PI_OVER_TWO = 1.253314137315500251207882642405522626503493370305
_SQRT_THREE = 1.732050807568877293527446341505872366942805253810
_SQRT_ONE_OVER_THREE = 0.577350269189625764509148780501957455647601751270
_TWO_PI_OVER_SQRT_TWENTY_SEVEN = 1.209199576156145233729385505094770488189377498728
_PI_OVER_SIX = 0.523598775598298873077107230546583814032861566563

# Region thresholds of the normalised Black function: h = x/s below -10 uses the
# asymptotic expansion, t = s/2 below 2 eps^(1/16) ~ 0.21 the small-t expansion.
_ASYMPTOTIC_EXPANSION_THRESHOLD = -10.0
_SMALL_T_EXPANSION_THRESHOLD = 2.0 * _DBL_EPSILON ** (1.0 / 16.0)

_HOUSEHOLDER_ITERATIONS = 2

# Objectives of the Householder iteration, one per branch of the initial guess.
_LOWER = 0  # g(s) = 1/ln(b(s)) - 1/ln(beta)
_MIDDLE = 1  # g(s) = b(s) - beta
_UPPER = 2  # g(s) = ln(b_max - beta) - ln(b_max - b(s))

# Information rule (see ``implied_vol``): the vol must be resolved to this much by
# a price uncertain by this many units in the last place.
VOL_RESOLUTION = 1e-9
PRICE_UNCERTAINTY_ULPS = 8.0
# Prices within this relative distance (4 ulps) of a no-arbitrage bound are at the
# bound within rounding: they carry no information but are no arbitrage either.
_BOUND_TOLERANCE = 4.0 * _DBL_EPSILON


class ImpliedVolReason(IntEnum):
    """Why an implied volatility is NaN: one int8 code per quote, 0 when it is not.

    Checked in this order; a quote gets the first code that applies.
    """

    OK = 0
    """The quote carries information; the vol is the solution."""
    NOT_FINITE = 1
    """An input is NaN or infinite."""
    NON_POSITIVE_TIME = 2
    """``t_years <= 0``: the option has expired."""
    NON_POSITIVE_FORWARD = 3
    """``forward <= 0`` (or the spot for Black-Scholes)."""
    NON_POSITIVE_STRIKE = 4
    """``strike <= 0``."""
    NON_POSITIVE_DISCOUNT = 5
    """``discount <= 0``."""
    NON_POSITIVE_PRICE = 6
    """``price <= 0``: no option with time left is worth nothing."""
    ABOVE_UPPER_BOUND = 7
    """``price > discount * forward`` for a call, ``discount * strike`` for a put, by > 4 ulps."""
    BELOW_INTRINSIC = 8
    """``price < discount * max(±(forward - strike), 0)`` by more than 4 ulps of the price."""
    NO_INFORMATION = 9
    """A valid quote whose float64 price does not pin the vol down to ``VOL_RESOLUTION``."""


# ----------------------------------------------------------------------------------
# Special functions
# ----------------------------------------------------------------------------------


@nb.njit(**_JIT)
def _erfcx(x: float) -> float:
    """Return exp(x^2) erfc(x) (W. J. Cody, Math. Comp. 1969, 631-638; the ERFCX of CALERF)."""
    y = abs(x)
    if y <= 0.46875:
        ysq = y * y if y > 1.11e-16 else 0.0
        numerator = (
            ((0.185777706184603153 * ysq + 3.1611237438705656) * ysq + 113.864154151050156) * ysq
            + 377.485237685302021
        ) * ysq + 3209.37758913846947
        denominator = (
            ((ysq + 23.6012909523441209) * ysq + 244.024637934444173) * ysq + 1282.61652607737228
        ) * ysq + 2844.23683343917062
        return math.exp(ysq) * (1.0 - x * numerator / denominator)
    if y <= 4.0:
        numerator = (
            (
                (
                    (
                        (
                            (
                                (2.15311535474403846e-8 * y + 0.564188496988670089) * y
                                + 8.88314979438837594
                            )
                            * y
                            + 66.1191906371416295
                        )
                        * y
                        + 298.635138197400131
                    )
                    * y
                    + 881.95222124176909
                )
                * y
                + 1712.04761263407058
            )
            * y
            + 2051.07837782607147
        ) * y + 1230.33935479799725
        denominator = (
            (
                (
                    (
                        (
                            ((y + 15.7449261107098347) * y + 117.693950891312499) * y
                            + 537.181101862009858
                        )
                        * y
                        + 1621.38957456669019
                    )
                    * y
                    + 3290.79923573345963
                )
                * y
                + 4362.61909014324716
            )
            * y
            + 3439.36767414372164
        ) * y + 1230.33935480374942
        result = numerator / denominator
    elif y >= 2.53e307:
        result = 0.0
    elif y >= 6.71e7:
        result = 0.56418958354775628695 / y
    else:
        ysq = 1.0 / (y * y)
        numerator = (
            (
                ((0.0163153871373020978 * ysq + 0.305326634961232344) * ysq + 0.360344899949804439)
                * ysq
                + 0.125781726111229246
            )
            * ysq
            + 0.0160837851487422766
        ) * ysq + 6.58749161529837803e-4
        denominator = (
            (((ysq + 2.56852019228982242) * ysq + 1.87295284992346047) * ysq + 0.527905102951428412)
            * ysq
            + 0.0605183413124413191
        ) * ysq + 0.00233520497626869185
        result = (0.56418958354775628695 - ysq * numerator / denominator) / y
    if x >= 0.0:
        return result
    if x < -26.628:
        return 1.79e308
    # erfcx(-y) = 2 exp(y^2) - erfcx(y), with exp(y^2) split to keep its accuracy.
    truncated = math.trunc(x * 16.0) / 16.0
    return (
        2.0 * math.exp(truncated * truncated) * math.exp((x - truncated) * (x + truncated)) - result
    )


@nb.njit(**_JIT)
def _norm_cdf(z: float) -> float:
    return 0.5 * math.erfc(-z * _ONE_OVER_SQRT_TWO)


@nb.njit(**_JIT)
def _norm_pdf(z: float) -> float:
    return _ONE_OVER_SQRT_TWO_PI * math.exp(-0.5 * z * z)


@nb.njit(**_JIT)
def _inverse_norm_cdf(u: float) -> float:
    """Return Phi^-1(u) (Wichura's AS241, Appl. Statist. 1988, relative accuracy 1e-16)."""
    if u <= 0.0:
        return math.log(u)
    if u >= 1.0:
        return math.log(1.0 - u)
    q = u - 0.5
    if abs(q) <= 0.425:
        r = 0.180625 - q * q
        return (
            q
            * (
                (
                    (
                        (
                            (
                                (
                                    (2.5090809287301226727e3 * r + 3.3430575583588128105e4) * r
                                    + 6.7265770927008700853e4
                                )
                                * r
                                + 4.5921953931549871457e4
                            )
                            * r
                            + 1.3731693765509461125e4
                        )
                        * r
                        + 1.9715909503065514427e3
                    )
                    * r
                    + 1.3314166789178437745e2
                )
                * r
                + 3.3871328727963666080e0
            )
            / (
                (
                    (
                        (
                            (
                                (
                                    (5.2264952788528545610e3 * r + 2.8729085735721942674e4) * r
                                    + 3.9307895800092710610e4
                                )
                                * r
                                + 2.1213794301586595867e4
                            )
                            * r
                            + 5.3941960214247511077e3
                        )
                        * r
                        + 6.8718700749205790830e2
                    )
                    * r
                    + 4.2313330701600911252e1
                )
                * r
                + 1.0
            )
        )
    r = math.sqrt(-math.log(u if q < 0.0 else 1.0 - u))
    if r < 5.0:
        r -= 1.6
        value = (
            (
                (
                    (
                        (
                            (
                                (7.74545014278341407640e-4 * r + 2.27238449892691845833e-2) * r
                                + 2.41780725177450611770e-1
                            )
                            * r
                            + 1.27045825245236838258e0
                        )
                        * r
                        + 3.64784832476320460504e0
                    )
                    * r
                    + 5.76949722146069140550e0
                )
                * r
                + 4.63033784615654529590e0
            )
            * r
            + 1.42343711074968357734e0
        ) / (
            (
                (
                    (
                        (
                            (
                                (1.05075007164441684324e-9 * r + 5.47593808499534494600e-4) * r
                                + 1.51986665636164571966e-2
                            )
                            * r
                            + 1.48103976427480074590e-1
                        )
                        * r
                        + 6.89767334985100004550e-1
                    )
                    * r
                    + 1.67638483018380384940e0
                )
                * r
                + 2.05319162663775882187e0
            )
            * r
            + 1.0
        )
    else:
        r -= 5.0
        value = (
            (
                (
                    (
                        (
                            (
                                (2.01033439929228813265e-7 * r + 2.71155556874348757815e-5) * r
                                + 1.24266094738807843860e-3
                            )
                            * r
                            + 2.65321895265761230930e-2
                        )
                        * r
                        + 2.96560571828504891230e-1
                    )
                    * r
                    + 1.78482653991729133580e0
                )
                * r
                + 5.46378491116411436990e0
            )
            * r
            + 6.65790464350110377720e0
        ) / (
            (
                (
                    (
                        (
                            (
                                (2.04426310338993978564e-15 * r + 1.42151175831644588870e-7) * r
                                + 1.84631831751005468180e-5
                            )
                            * r
                            + 7.86869131145613259100e-4
                        )
                        * r
                        + 1.48753612908506148525e-2
                    )
                    * r
                    + 1.36929880922735805310e-1
                )
                * r
                + 5.99832206555887937690e-1
            )
            * r
            + 1.0
        )
    return -value if q < 0.0 else value


# ----------------------------------------------------------------------------------
# The normalised Black function of an out-of-the-money call (x <= 0) and its vega
# ----------------------------------------------------------------------------------


@nb.njit(**_JIT)
def _asymptotic_expansion_factor(h: float, t: float) -> float:
    # b/b' = (t/r) A(h, t) with A expanded to 17th order in q = (h/r)^2, e = (t/h)^2,
    # r = (h+t)(h-t) (Abramowitz and Stegun 26.2.12); accurate for h <= -10.
    e = (t / h) * (t / h)
    r = (h + t) * (h - t)
    q = (h / r) * (h / r)
    # Generated by Jäckel; kept verbatim so that it can be checked against his code.
    # fmt: off
    expansion = (2.0+q*(-6.0E0-2.0*e+3.0*q*(1.0E1+e*(2.0E1+2.0*e)+5.0*q*(-1.4E1+e*(-7.0E1+e*(-4.2E1-2.0*e))+7.0*q*(1.8E1+e*(1.68E2+e*(2.52E2+e*(7.2E1+2.0*e)))+9.0*q*(-2.2E1+e*(-3.3E2+e*(-9.24E2+e*(-6.6E2+e*(-1.1E2-2.0*e))))+1.1E1*q*(2.6E1+e*(5.72E2+e*(2.574E3+e*(3.432E3+e*(1.43E3+e*(1.56E2+2.0*e)))))+1.3E1*q*(-3.0E1+e*(-9.1E2+e*(-6.006E3+e*(-1.287E4+e*(-1.001E4+e*(-2.73E3+e*(-2.1E2-2.0*e))))))+1.5E1*q*(3.4E1+e*(1.36E3+e*(1.2376E4+e*(3.8896E4+e*(4.862E4+e*(2.4752E4+e*(4.76E3+e*(2.72E2+2.0*e)))))))+1.7E1*q*(-3.8E1+e*(-1.938E3+e*(-2.3256E4+e*(-1.00776E5+e*(-1.84756E5+e*(-1.51164E5+e*(-5.4264E4+e*(-7.752E3+e*(-3.42E2-2.0*e))))))))+1.9E1*q*(4.2E1+e*(2.66E3+e*(4.0698E4+e*(2.3256E5+e*(5.8786E5+e*(7.05432E5+e*(4.0698E5+e*(1.08528E5+e*(1.197E4+e*(4.2E2+2.0*e)))))))))+2.1E1*q*(-4.6E1+e*(-3.542E3+e*(-6.7298E4+e*(-4.90314E5+e*(-1.63438E6+e*(-2.704156E6+e*(-2.288132E6+e*(-9.80628E5+e*(-2.01894E5+e*(-1.771E4+e*(-5.06E2-2.0*e))))))))))+2.3E1*q*(5.0E1+e*(4.6E3+e*(1.0626E5+e*(9.614E5+e*(4.08595E6+e*(8.9148E6+e*(1.04006E7+e*(6.53752E6+e*(2.16315E6+e*(3.542E5+e*(2.53E4+e*(6.0E2+2.0*e)))))))))))+2.5E1*q*(-5.4E1+e*(-5.85E3+e*(-1.6146E5+e*(-1.77606E6+e*(-9.37365E6+e*(-2.607579E7+e*(-4.01166E7+e*(-3.476772E7+e*(-1.687257E7+e*(-4.44015E6+e*(-5.9202E5+e*(-3.51E4+e*(-7.02E2-2.0*e))))))))))))+2.7E1*q*(5.8E1+e*(7.308E3+e*(2.3751E5+e*(3.12156E6+e*(2.003001E7+e*(6.919458E7+e*(1.3572783E8+e*(1.5511752E8+e*(1.0379187E8+e*(4.006002E7+e*(8.58429E6+e*(9.5004E5+e*(4.7502E4+e*(8.12E2+2.0*e)))))))))))))+2.9E1*q*(-6.2E1+e*(-8.99E3+e*(-3.39822E5+e*(-5.25915E6+e*(-4.032015E7+e*(-1.6934463E8+e*(-4.1250615E8+e*(-6.0108039E8+e*(-5.3036505E8+e*(-2.8224105E8+e*(-8.870433E7+e*(-1.577745E7+e*(-1.472562E6+e*(-6.293E4+e*(-9.3E2-2.0*e))))))))))))))+3.1E1*q*(6.6E1+e*(1.0912E4+e*(4.74672E5+e*(8.544096E6+e*(7.71342E7+e*(3.8707344E8+e*(1.14633288E9+e*(2.07431664E9+e*(2.33360622E9+e*(1.6376184E9+e*(7.0963464E8+e*(1.8512208E8+e*(2.7768312E7+e*(2.215136E6+e*(8.184E4+e*(1.056E3+2.0*e)))))))))))))))+3.3E1*(-7.0E1+e*(-1.309E4+e*(-6.49264E5+e*(-1.344904E7+e*(-1.4121492E8+e*(-8.344518E8+e*(-2.9526756E9+e*(-6.49588632E9+e*(-9.0751353E9+e*(-8.1198579E9+e*(-4.6399188E9+e*(-1.6689036E9+e*(-3.67158792E8+e*(-4.707164E7+e*(-3.24632E6+e*(-1.0472E5+e*(-1.19E3-2.0*e)))))))))))))))))*q)))))))))))))))))
    # fmt: on
    return (t / r) * expansion


@nb.njit(**_JIT)
def _small_t_expansion_factor(h: float, t: float) -> float:
    # b/b' = Y(h+t) - Y(h-t), Y(z) = Phi(z)/phi(z), expanded to 12th order in t, with
    # a = 1 + h Y(h) and Y(h) = sqrt(pi/2) erfcx(-h/sqrt(2)); accurate for t < 0.21.
    a = 1.0 + h * _SQRT_PI_OVER_TWO * _erfcx(-_ONE_OVER_SQRT_TWO * h)
    w = t * t
    h2 = h * h
    # Generated by Jäckel; kept verbatim so that it can be checked against his code.
    # fmt: off
    expansion = 2*t*(a+w*((-1+3*a+a*h2)/6+w*((-7+15*a+h2*(-1+10*a+a*h2))/120+w*((-57+105*a+h2*(-18+105*a+h2*(-1+21*a+a*h2)))/5040+w*((-561+945*a+h2*(-285+1260*a+h2*(-33+378*a+h2*(-1+36*a+a*h2))))/362880+w*((-6555+10395*a+h2*(-4680+17325*a+h2*(-840+6930*a+h2*(-52+990*a+h2*(-1+55*a+a*h2)))))/39916800+((-89055+135135*a+h2*(-82845+270270*a+h2*(-20370+135135*a+h2*(-1926+25740*a+h2*(-75+2145*a+h2*(-1+78*a+a*h2))))))*w)/6227020800.0))))))
    # fmt: on
    return expansion


@nb.njit(**_JIT)
def _erfcx_factor(h: float, t: float) -> float:
    # b/b' = Y(h+t) - Y(h-t) with Y(z) = sqrt(pi/2) erfcx(-z/sqrt(2)): two rational
    # functions and no exponential, where Phi itself would lose digits (Cody 1969).
    return _SQRT_PI_OVER_TWO * (
        _erfcx(-_ONE_OVER_SQRT_TWO * (h + t)) - _erfcx(-_ONE_OVER_SQRT_TWO * (h - t))
    )


@nb.njit(**_JIT)
def normalised_vega(x: float, s: float) -> float:
    """Return db/ds = exp(-(x^2/s^2 + s^2/4)/2) / sqrt(2 pi)."""
    if x == 0.0:
        return _ONE_OVER_SQRT_TWO_PI * math.exp(-0.125 * s * s)
    if s <= abs(x) * _SQRT_DBL_MIN:
        return 0.0
    return _ONE_OVER_SQRT_TWO_PI * math.exp(-0.5 * ((x / s) * (x / s) + 0.25 * s * s))


@nb.njit(**_JIT)
def normalised_black_and_vega(x: float, s: float) -> tuple[float, float]:
    """Return b(x, s) for x <= 0 to full relative accuracy, and db/ds (Jäckel's four regions).

    With h = x/s and t = s/2 the vega is b' = exp(-(h^2+t^2)/2)/sqrt(2 pi). Away from
    the money b is b' times b/b', which comes from an asymptotic expansion (h < -10),
    a small-t expansion (t < 0.21) or erfcx; near the money (h + t > 0.85) the plain
    formula with Phi keeps its digits.
    """
    vega = normalised_vega(x, s)
    if s <= 0.0:
        return 0.0, vega
    # The region tests are on h and t, written without dividing by s.
    if x < s * _ASYMPTOTIC_EXPANSION_THRESHOLD and 0.5 * s * s + x < s * (
        _SMALL_T_EXPANSION_THRESHOLD + _ASYMPTOTIC_EXPANSION_THRESHOLD
    ):
        factor = _asymptotic_expansion_factor(x / s, 0.5 * s)
    elif 0.5 * s < _SMALL_T_EXPANSION_THRESHOLD:
        factor = _small_t_expansion_factor(x / s, 0.5 * s)
    elif x + 0.5 * s * s > s * 0.85:
        b_max = math.exp(0.5 * x)
        b = _norm_cdf(x / s + 0.5 * s) * b_max - _norm_cdf(x / s - 0.5 * s) / b_max
        return max(b, 0.0), vega
    else:
        factor = _erfcx_factor(x / s, 0.5 * s)
    return max(vega * factor, 0.0), vega


# ----------------------------------------------------------------------------------
# Rational cubic interpolation (Delbourgo and Gregory, SIAM J. Sci. Stat. Comput. 1985)
# ----------------------------------------------------------------------------------

_MINIMUM_CONTROL = -(1.0 - math.sqrt(_DBL_EPSILON))
_MAXIMUM_CONTROL = 2.0 / (_DBL_EPSILON * _DBL_EPSILON)


@nb.njit(**_JIT)
def _rational_cubic_interpolation(
    x: float, x_l: float, x_r: float, y_l: float, y_r: float, d_l: float, d_r: float, r: float
) -> float:
    h = x_r - x_l
    if abs(h) <= 0.0:
        return 0.5 * (y_l + y_r)
    t = (x - x_l) / h
    if r >= _MAXIMUM_CONTROL:  # linear, without over- or underflow
        return y_r * t + y_l * (1.0 - t)
    omt = 1.0 - t
    t2 = t * t
    omt2 = omt * omt
    return (
        y_r * t2 * t
        + (r * y_r - h * d_r) * t2 * omt
        + (r * y_l + h * d_l) * t * omt2
        + y_l * omt2 * omt
    ) / (1.0 + (r - 3.0) * t * omt)


@nb.njit(**_JIT)
def _minimum_control_parameter(d_l: float, d_r: float, slope: float, prefer_shape: bool) -> float:
    monotonic = d_l * slope >= 0.0 and d_r * slope >= 0.0
    convex = d_l <= slope <= d_r
    concave = d_l >= slope >= d_r
    if not (monotonic or convex or concave):
        return _MINIMUM_CONTROL
    r1 = -_DBL_MAX
    r2 = -_DBL_MAX
    if monotonic:
        if abs(slope) >= _DBL_MIN:
            r1 = (d_r + d_l) / slope
        elif prefer_shape:
            r1 = _MAXIMUM_CONTROL
    if convex or concave:
        if abs(slope - d_l) >= _DBL_MIN and abs(d_r - slope) >= _DBL_MIN:
            r2 = max(abs((d_r - d_l) / (d_r - slope)), abs((d_r - d_l) / (slope - d_l)))
        elif prefer_shape:
            r2 = _MAXIMUM_CONTROL
    elif monotonic and prefer_shape:
        r2 = _MAXIMUM_CONTROL
    return max(_MINIMUM_CONTROL, max(r1, r2))


@nb.njit(**_JIT)
def _convex_control_parameter(
    x_l: float,
    x_r: float,
    y_l: float,
    y_r: float,
    d_l: float,
    d_r: float,
    second_derivative: float,
    at_right_side: bool,
    prefer_shape: bool,
) -> float:
    """Return the control parameter fitting the second derivative at one end, kept convex."""
    h = x_r - x_l
    slope = (y_r - y_l) / h
    numerator = 0.5 * h * second_derivative + (d_r - d_l)
    denominator = d_r - slope if at_right_side else slope - d_l
    if abs(numerator) < _DBL_MIN:
        r = 0.0
    elif abs(denominator) < _DBL_MIN:
        r = _MAXIMUM_CONTROL if numerator > 0.0 else _MINIMUM_CONTROL
    else:
        r = numerator / denominator
    return max(r, _minimum_control_parameter(d_l, d_r, slope, prefer_shape))


# ----------------------------------------------------------------------------------
# The inverse: a rational guess on four branches, then Householder(3) steps
# ----------------------------------------------------------------------------------


@nb.njit(**_JIT)
def _lower_map(x: float, s: float) -> tuple[float, float, float]:
    """Return f = 2 pi |x| Phi(-z)^3 / sqrt(27), z = |x| / (sqrt(3) s), with df/db and d2f/db2."""
    ax = abs(x)
    z = _SQRT_ONE_OVER_THREE * ax / s
    y = z * z
    s2 = s * s
    cdf_over_pdf = _SQRT_PI_OVER_TWO * _erfcx(_ONE_OVER_SQRT_TWO * z)  # Phi(-z)/phi(z)
    cdf = _norm_pdf(z) * cdf_over_pdf
    growth = math.exp(y + 0.125 * s2)
    fpp = (
        _PI_OVER_SIX
        * y
        / (s2 * s)
        * cdf
        * (8.0 * _SQRT_THREE * s * ax + (3.0 * s2 * (s2 - 8.0) - 8.0 * x * x) * cdf_over_pdf)
        * growth
        * growth
    )
    fp = _TWO_PI * y * cdf * cdf * growth
    f = _TWO_PI_OVER_SQRT_TWENTY_SEVEN * ax * cdf * cdf * cdf
    return f, fp, fpp


@nb.njit(**_JIT)
def _inverse_lower_map(x: float, f: float) -> float:
    cube_root = (f / (_TWO_PI_OVER_SQRT_TWENTY_SEVEN * abs(x))) ** (1.0 / 3.0)
    return abs(x / (_SQRT_THREE * _inverse_norm_cdf(cube_root)))


@nb.njit(**_JIT)
def _upper_map(x: float, s: float) -> tuple[float, float, float]:
    """Return f = Phi(-s/2) with df/db and d2f/db2."""
    w = (x / s) * (x / s)
    fp = -0.5 * math.exp(0.5 * w)
    fpp = _SQRT_PI_OVER_TWO * math.exp(w + 0.125 * s * s) * w / s
    return _norm_cdf(-0.5 * s), fp, fpp


@nb.njit(**_JIT)
def _initial_guess(beta: float, x: float, b_max: float) -> tuple[float, float, float, int]:
    """Return the rational guess of s, its bracket (left, right) and the objective to iterate on.

    The branches are split at s_c = sqrt(2|x|) (the inflexion point of b) and at the
    points s_l, s_h where the tangent there meets 0 and b_max.
    """
    s_c = math.sqrt(-2.0 * x)
    # At s_c, h = -t: b_c = b_max (1 - erfcx(sqrt(-x))) / 2 and b'(s_c) = b_max / sqrt(2 pi).
    b_c = 0.5 * b_max * (1.0 - _erfcx(math.sqrt(-x)))
    v_c = _ONE_OVER_SQRT_TWO_PI * b_max
    if beta < b_c:
        s_l = s_c - b_c / v_c
        b_l, v_l = normalised_black_and_vega(x, s_l)
        if beta < b_l:
            f_l, fp_l, fpp_l = _lower_map(x, s_l)
            r_ll = _convex_control_parameter(0.0, b_l, 0.0, f_l, 1.0, fp_l, fpp_l, True, True)
            f = _rational_cubic_interpolation(beta, 0.0, b_l, 0.0, f_l, 1.0, fp_l, r_ll)
            if not f > 0.0:  # round-off for extreme |x|: quadratic with f(0) = 0, f'(0) = 1
                t = beta / b_l
                f = (f_l * t + b_l * (1.0 - t)) * t
            return _inverse_lower_map(x, f), _DBL_MIN, s_l, _LOWER
        r_lm = _convex_control_parameter(b_l, b_c, s_l, s_c, 1.0 / v_l, 1.0 / v_c, 0.0, True, False)
        s = _rational_cubic_interpolation(beta, b_l, b_c, s_l, s_c, 1.0 / v_l, 1.0 / v_c, r_lm)
        return s, s_l, s_c, _MIDDLE
    s_h = s_c + (b_max - b_c) / v_c if v_c > _DBL_MIN else s_c
    b_h, v_h = normalised_black_and_vega(x, s_h)
    if beta <= b_h:
        r_hm = _convex_control_parameter(
            b_c, b_h, s_c, s_h, 1.0 / v_c, 1.0 / v_h, 0.0, False, False
        )
        s = _rational_cubic_interpolation(beta, b_c, b_h, s_c, s_h, 1.0 / v_c, 1.0 / v_h, r_hm)
        return s, s_c, s_h, _MIDDLE
    f_h, fp_h, fpp_h = _upper_map(x, s_h)
    f = math.nan
    if -_SQRT_DBL_MAX < fpp_h < _SQRT_DBL_MAX:
        r_hh = _convex_control_parameter(b_h, b_max, f_h, 0.0, fp_h, -0.5, fpp_h, False, True)
        f = _rational_cubic_interpolation(beta, b_h, b_max, f_h, 0.0, fp_h, -0.5, r_hh)
    if not f > 0.0:  # quadratic with f(b_h), f(b_max) = 0 and f'(b_max) = -1/2
        h = b_max - b_h
        t = (beta - b_h) / h
        f = (f_h * (1.0 - t) + 0.5 * h * t) * (1.0 - t)
    # Near b_max iterate on ln(b_max - b); below half of it b - beta behaves better.
    return -2.0 * _inverse_norm_cdf(f), s_h, _DBL_MAX, _UPPER if beta > 0.5 * b_max else _MIDDLE


@nb.njit(**_JIT)
def _householder_step(
    objective: int, beta: float, x: float, s: float, b: float, bp: float, b_max: float
) -> float:
    """Return the Householder(3) step for g(s) = 0, or NaN where b or b' under- or overflowed.

    With newton = -g/g', halley = g''/g', hh3 = g'''/g' the step is
    newton (1 + halley newton / 2) / (1 + newton (halley + hh3 newton / 6)).
    """
    h_over_s = x / (s * s)
    b_halley = s * (h_over_s * h_over_s - 0.25)  # b''/b' = x^2/s^3 - s/4
    b_hh3 = b_halley * b_halley - 3.0 * h_over_s * h_over_s - 0.25  # b'''/b'
    if objective == _LOWER:
        if b <= 0.0 or bp <= 0.0:
            return math.nan
        ln_b = math.log(b)
        ln_beta = math.log(beta)
        bpob = bp / b
        inverse_ln_b = 1.0 / ln_b
        newton = (ln_beta - ln_b) * ln_b / (ln_beta * bpob)
        halley = b_halley - bpob * (1.0 + 2.0 * inverse_ln_b)
        hh3 = (
            b_hh3
            + 2.0 * bpob * bpob * (1.0 + 3.0 * inverse_ln_b * (1.0 + inverse_ln_b))
            - 3.0 * b_halley * bpob * (1.0 + 2.0 * inverse_ln_b)
        )
    elif objective == _UPPER:
        if b >= b_max or bp <= _DBL_MIN:
            return math.nan
        b_max_minus_b = b_max - b
        gp = bp / b_max_minus_b
        newton = -math.log((b_max - beta) / b_max_minus_b) / gp
        halley = b_halley + gp
        hh3 = b_hh3 + gp * (2.0 * gp + 3.0 * b_halley)
    else:
        if bp <= 0.0:
            return math.nan
        newton = (beta - b) / bp
        halley = b_halley
        hh3 = b_hh3
    return newton * (1.0 + 0.5 * halley * newton) / (1.0 + newton * (halley + hh3 * newton / 6.0))


@nb.njit(**_JIT)
def normalised_implied_vol(beta: float, x: float, b_max: float) -> float:
    """Return s with b(x, s) = beta for 0 < beta < b_max = exp(x/2), x <= 0.

    Falls back to bisection inside the bracket when a step leaves it, under- or
    overflows, or keeps reversing (only for extreme |x|).
    """
    s, s_left, s_right, objective = _initial_guess(beta, x, b_max)
    ds = -_DBL_MAX
    ds_previous = 0.0
    reversals = 0
    for iteration in range(_HOUSEHOLDER_ITERATIONS):
        if not abs(ds) > _DBL_EPSILON * s:
            break
        if ds * ds_previous < 0.0:
            reversals += 1
        if iteration > 0 and (reversals == 3 or not s_left < s < s_right):
            s = 0.5 * (s_left + s_right)
            if s_right - s_left <= _DBL_EPSILON * s:
                break
            reversals = 0
            ds = 0.0
        ds_previous = ds
        b, bp = normalised_black_and_vega(x, s)
        if b > beta and s < s_right:
            s_right = s
        elif b < beta and s > s_left:
            s_left = s
        ds = _householder_step(objective, beta, x, s, b, bp, b_max)
        if math.isnan(ds):
            ds = 0.5 * (s_left + s_right) - s
        ds = max(-0.5 * s, ds)
        s += ds
    return s


# ----------------------------------------------------------------------------------
# From a quote in USD to a vol, with the reason it has none
# ----------------------------------------------------------------------------------


@nb.njit(**_JIT)
def _check_quote(
    price: float, forward: float, strike: float, t_years: float, discount: float
) -> int:
    """Return the first reason code that applies to the inputs alone (bounds aside)."""
    if not (
        math.isfinite(price)
        and math.isfinite(forward)
        and math.isfinite(strike)
        and math.isfinite(t_years)
        and math.isfinite(discount)
    ):
        return ImpliedVolReason.NOT_FINITE
    if t_years <= 0.0:
        return ImpliedVolReason.NON_POSITIVE_TIME
    if forward <= 0.0:
        return ImpliedVolReason.NON_POSITIVE_FORWARD
    if strike <= 0.0:
        return ImpliedVolReason.NON_POSITIVE_STRIKE
    if discount <= 0.0:
        return ImpliedVolReason.NON_POSITIVE_DISCOUNT
    if price <= 0.0:
        return ImpliedVolReason.NON_POSITIVE_PRICE
    return ImpliedVolReason.OK


@nb.njit(**_JIT)
def implied_vol_one(
    price: float, forward: float, strike: float, t_years: float, is_call: bool, discount: float
) -> tuple[float, int]:
    """Return (vol, reason) for one Black-76 quote in USD; vol is NaN unless reason is OK."""
    reason = _check_quote(price, forward, strike, t_years, discount)
    if reason != ImpliedVolReason.OK:
        return math.nan, reason
    undiscounted = price / discount
    intrinsic = max(forward - strike, 0.0) if is_call else max(strike - forward, 0.0)
    # Within rounding of either bound the vol is unknown but the quote is no arbitrage.
    if undiscounted > (forward if is_call else strike) * (1.0 + _BOUND_TOLERANCE):
        return math.nan, ImpliedVolReason.ABOVE_UPPER_BOUND
    # The time value is the out-of-the-money option's price (put-call parity), which
    # is an out-of-the-money call at x = -|ln(F/K)| (reciprocal-strike symmetry).
    time_value = undiscounted - intrinsic
    if time_value < -_BOUND_TOLERANCE * undiscounted:
        return math.nan, ImpliedVolReason.BELOW_INTRINSIC
    sqrt_forward_strike = math.sqrt(forward) * math.sqrt(strike)
    beta = time_value / sqrt_forward_strike
    x = -abs(math.log(forward / strike))
    b_max = math.exp(0.5 * x)
    if not _DBL_MIN <= beta < b_max:
        return math.nan, ImpliedVolReason.NO_INFORMATION
    s = normalised_implied_vol(beta, x, b_max)
    sqrt_t = math.sqrt(t_years)
    # Information: PRICE_UNCERTAINTY_ULPS of the price move the vol by <= VOL_RESOLUTION.
    price_uncertainty = PRICE_UNCERTAINTY_ULPS * _DBL_EPSILON * undiscounted / sqrt_forward_strike
    if not normalised_vega(x, s) * sqrt_t * VOL_RESOLUTION >= price_uncertainty:
        return math.nan, ImpliedVolReason.NO_INFORMATION
    return s / sqrt_t, ImpliedVolReason.OK


@nb.njit(inline="always", **_JIT)
def _at(values: np.ndarray, i: int) -> float | bool:
    return values[0] if values.shape[0] == 1 else values[i]


@nb.njit(parallel=True, **_JIT)
def implied_vol_kernel(
    price: np.ndarray,
    forward: np.ndarray,
    strike: np.ndarray,
    t_years: np.ndarray,
    is_call: np.ndarray,
    discount: np.ndarray,
    vol: np.ndarray,
    reason: np.ndarray,
) -> None:
    """Fill ``vol`` and ``reason`` (int8); inputs are flat, of the full length or of length one."""
    for i in nb.prange(vol.shape[0]):
        vol_i, reason_i = implied_vol_one(
            _at(price, i),
            _at(forward, i),
            _at(strike, i),
            _at(t_years, i),
            _at(is_call, i),
            _at(discount, i),
        )
        vol[i] = vol_i
        reason[i] = reason_i

# pragma version ~=0.4.3
"""
@title Fixed-point Black-Scholes math
@notice Natural log, exponential, square root, the standard normal CDF and the
        Black-Scholes spot delta, all on signed 18-decimal fixed point
        (10**18 is 1.0). Pure functions; a module imported by vault.vy.
@dev Accuracy (tested in tests/chain/test_bs_math.py against Python's math):
     ln to about 1e-16 relative, exp to 1e-12 relative (1e-18 absolute for
     tiny results), sqrt exact (rounded down); norm_cdf to about 1e-16
     absolute (Hart's 1968 rational approximation, as written by G. West,
     "Better approximations to cumulative normal functions", 2005); so delta
     agrees with hedgekeeper.pricing to 1e-6 relative, with an absolute floor
     of about 1e-15 where the delta is itself that small.
"""

ONE: constant(int256) = 10**18
TWO: constant(int256) = 2 * 10**18
LN2: constant(int256) = 693147180559945309  # ln 2, 1e18
SQRT2: constant(int256) = 1414213562373095048  # sqrt 2, 1e18
SQRT_2PI: constant(int256) = 2506628274631000502  # sqrt(2 pi), 1e18
EXP_MIN: constant(int256) = -42 * 10**18  # exp below this is under 1e-18: returns 0
EXP_MAX: constant(int256) = 130 * 10**18  # exp above this would overflow int256
CDF_TAIL: constant(int256) = 37 * 10**18  # |x| beyond: N(x) is 0 or 1 to 1e-18
CDF_SPLIT: constant(int256) = 7071067811865470000  # Hart's switch to the continued fraction
SECONDS_PER_YEAR: constant(uint256) = 365 * 86400  # ACT/365


@internal
@pure
def ln(x: int256) -> int256:
    """
    @notice Return ln(x), 1e18 fixed point, for x > 0 in 1e18 fixed point.
    @dev x = m 2**k with m in [1/sqrt2, sqrt2), then ln m = 2 atanh(z),
         z = (m - 1) / (m + 1), |z| < 0.172, summed until the terms vanish.
    """
    assert x > 0, "bs_math: ln of a non-positive number"
    m: int256 = x
    sign: int256 = 1
    if x < ONE:
        m = ONE * ONE // x
        sign = -1
    k: int256 = 0
    for s: uint256 in [128, 64, 32, 16, 8, 4, 2, 1]:
        if m >= ONE << s:
            m = m >> s
            k += convert(s, int256)
    if m > SQRT2:
        m = m // 2
        k += 1
    # From here m < 1.5e18 and |z| < 0.18e18: no product can overflow.
    z: int256 = unsafe_div(unsafe_mul(m - ONE, ONE), unsafe_add(m, ONE))
    z2: int256 = unsafe_div(unsafe_mul(z, z), ONE)
    term: int256 = z
    total: int256 = z
    for i: int256 in range(1, 20):
        term = unsafe_div(unsafe_mul(term, z2), ONE)
        if term == 0:
            break
        total = unsafe_add(total, unsafe_div(term, unsafe_add(unsafe_mul(2, i), 1)))
    return sign * (2 * total + k * LN2)


@internal
@pure
def exp(x: int256) -> int256:
    """
    @notice Return e**x, 1e18 fixed point, for x in 1e18 fixed point (x < 130).
    @dev x = k ln2 + r, |r| <= ln2 / 2; Taylor series of e**r, then shifted by k.
         Returns 0 below x = -42 (e**x < 1e-18).
    """
    if x < EXP_MIN:
        return 0
    assert x < EXP_MAX, "bs_math: exp overflow"
    k: int256 = 0
    if x >= 0:
        k = (x + LN2 // 2) // LN2
    else:
        k = -((-x + LN2 // 2) // LN2)
    r: int256 = x - k * LN2
    # |r| <= 0.35e18 and the terms shrink: no product can overflow.
    term: int256 = ONE
    total: int256 = ONE
    for i: int256 in range(1, 24):
        term = unsafe_div(unsafe_mul(term, r), unsafe_mul(i, ONE))
        if term == 0:
            break
        total = unsafe_add(total, term)
    if k >= 0:
        return total << convert(k, uint256)
    return total >> convert(-k, uint256)


@internal
@pure
def sqrt(x: int256) -> int256:
    """
    @notice Return sqrt(x), 1e18 fixed point, rounded down, for x >= 0 in 1e18 fixed point.
    """
    assert x >= 0, "bs_math: sqrt of a negative number"
    return convert(isqrt(convert(x, uint256) * 10**18), int256)


@internal
@pure
def norm_cdf(x: int256) -> int256:
    """
    @notice Return N(x), the standard normal CDF, 1e18 fixed point, for x in 1e18.
    @dev Hart (1968) as written by West (2005): exp(-x^2/2) P(|x|) / Q(|x|) for
         |x| < 7.07, a continued fraction beyond; the lower tail is computed
         directly, so small probabilities keep their relative accuracy.
    """
    xa: int256 = abs(x)
    tail: int256 = 0
    if xa <= CDF_TAIL:
        e: int256 = self.exp(-(xa * xa // ONE) // 2)
        if xa < CDF_SPLIT:
            num: int256 = 35262496599891100
            num = unsafe_add(unsafe_div(unsafe_mul(num, xa), ONE), 700383064443688000)
            num = unsafe_add(unsafe_div(unsafe_mul(num, xa), ONE), 6373962203531650000)
            num = unsafe_add(unsafe_div(unsafe_mul(num, xa), ONE), 33912866078383000000)
            num = unsafe_add(unsafe_div(unsafe_mul(num, xa), ONE), 112079291497871000000)
            num = unsafe_add(unsafe_div(unsafe_mul(num, xa), ONE), 221213596169931000000)
            num = unsafe_add(unsafe_div(unsafe_mul(num, xa), ONE), 220206867912376000000)
            den: int256 = 88388347648318400
            den = unsafe_add(unsafe_div(unsafe_mul(den, xa), ONE), 1755667163182640000)
            den = unsafe_add(unsafe_div(unsafe_mul(den, xa), ONE), 16064177579207000000)
            den = unsafe_add(unsafe_div(unsafe_mul(den, xa), ONE), 86780732202946100000)
            den = unsafe_add(unsafe_div(unsafe_mul(den, xa), ONE), 296564248779674000000)
            den = unsafe_add(unsafe_div(unsafe_mul(den, xa), ONE), 637333633378831000000)
            den = unsafe_add(unsafe_div(unsafe_mul(den, xa), ONE), 793826512519948000000)
            den = unsafe_add(unsafe_div(unsafe_mul(den, xa), ONE), 440413735824752000000)
            tail = unsafe_div(unsafe_mul(e, num), den)
        else:
            b: int256 = xa + 650000000000000000
            b = xa + 4 * ONE * ONE // b
            b = xa + 3 * ONE * ONE // b
            b = xa + 2 * ONE * ONE // b
            b = xa + ONE * ONE // b
            tail = e * ONE // b * ONE // SQRT_2PI
    if x > 0:
        return ONE - tail
    return tail


@internal
@pure
def year_fraction(seconds: uint256) -> int256:
    """
    @notice Return seconds as ACT/365 calendar years, 1e18 fixed point.
    """
    return convert(seconds * 10**18 // SECONDS_PER_YEAR, int256)


@internal
@pure
def delta(spot: int256, strike: int256, t_years: int256, vol: int256, is_call: bool) -> int256:
    """
    @notice Return the Black-Scholes spot delta of one option, coin per coin, 1e18.
    @dev Zero rates (crypto carry is left out): call N(d1), put -N(-d1),
         d1 = ln(S/K) / (vol sqrt t) + vol sqrt t / 2. At expiry (t <= 0) or zero
         vol: the step 1 / 0.5 / 0 for calls (puts minus 1), as hedgekeeper.pricing.
    @param spot USD per coin, 1e18, > 0
    @param strike USD per coin, 1e18, > 0
    @param t_years time to expiry, ACT/365 years, 1e18
    @param vol annualised volatility, 1e18 (8e17 is 80%)
    @param is_call True for a call, False for a put
    """
    assert spot > 0 and strike > 0, "bs_math: spot and strike must be positive"
    assert vol >= 0, "bs_math: negative vol"
    vol_sqrt_t: int256 = 0
    if t_years > 0:
        vol_sqrt_t = vol * self.sqrt(t_years) // ONE
    if vol_sqrt_t == 0:
        step: int256 = 0
        if spot > strike:
            step = ONE
        elif spot == strike:
            step = ONE // 2
        if is_call:
            return step
        return step - ONE
    d1: int256 = self.ln(spot * ONE // strike) * ONE // vol_sqrt_t + vol_sqrt_t // 2
    if is_call:
        return self.norm_cdf(d1)
    return -self.norm_cdf(-d1)

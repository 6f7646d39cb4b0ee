# pragma version ~=0.4.3
"""
@title Test harness exposing bs_math's internal functions, many points per call
"""

import bs_math

N: constant(uint256) = 128


@external
@pure
def ln(xs: DynArray[int256, N]) -> DynArray[int256, N]:
    out: DynArray[int256, N] = []
    for x: int256 in xs:
        out.append(bs_math.ln(x))
    return out


@external
@pure
def exp(xs: DynArray[int256, N]) -> DynArray[int256, N]:
    out: DynArray[int256, N] = []
    for x: int256 in xs:
        out.append(bs_math.exp(x))
    return out


@external
@pure
def sqrt(xs: DynArray[int256, N]) -> DynArray[int256, N]:
    out: DynArray[int256, N] = []
    for x: int256 in xs:
        out.append(bs_math.sqrt(x))
    return out


@external
@pure
def norm_cdf(xs: DynArray[int256, N]) -> DynArray[int256, N]:
    out: DynArray[int256, N] = []
    for x: int256 in xs:
        out.append(bs_math.norm_cdf(x))
    return out


@external
@pure
def delta(spots: DynArray[int256, N], strikes: DynArray[int256, N], t_years: DynArray[int256, N], vols: DynArray[int256, N], is_call: DynArray[bool, N]) -> DynArray[int256, N]:
    out: DynArray[int256, N] = []
    for i: uint256 in range(len(spots), bound=N):
        out.append(bs_math.delta(spots[i], strikes[i], t_years[i], vols[i], is_call[i]))
    return out


@external
@pure
def year_fraction(seconds: uint256) -> int256:
    return bs_math.year_fraction(seconds)


@external
@view
def now() -> uint256:
    return block.timestamp

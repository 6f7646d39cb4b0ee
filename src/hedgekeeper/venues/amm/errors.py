"""The AMM errors: where the pool contract would revert, we raise, naming the check and the numbers.

All are ``BadData`` (so ``ValueError``): the inputs, or the pool state they were
applied to, are refused at the edge and never reach a plan.
"""

from __future__ import annotations

from hedgekeeper.errors import BadData


class AmmError(BadData):
    """The pool contract would revert on these inputs: a bad argument, pool state or price limit."""


class IntegerOutOfRange(AmmError):
    """An integer leaves its Solidity type (uint256, uint160, uint128, int256, ...) or divides by zero."""


class InsufficientLiquidity(AmmError):
    """The pool cannot deliver the amount asked for: it would run out of reserves or hit its price limit."""

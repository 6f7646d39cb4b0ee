"""What every AMM pool offers a router: exact-input and exact-output swaps, and its mid price.

Pools are immutable: a swap returns a ``SwapResult`` whose ``pool`` is the pool
after the trade, so a caller can chain trades or keep the state it started from.

Units: amounts are integers in token base units (wei for an 18-decimal token,
1e-6 USDC for USDC); ``zero_for_one`` means token0 is paid in and token1 paid
out; prices are token1 base units per token0 base unit.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Generic, Protocol, Self, TypeVar

PoolT = TypeVar("PoolT")


@dataclass(frozen=True, slots=True)
class SwapResult(Generic[PoolT]):
    """A swap's amounts and the pool it leaves behind.

    Attributes
    ----------
    amount_in : int, base units of the input token paid, fee included
    amount_out : int, base units of the output token received
    fee : int, base units of the input token kept by the pool as fee (part of ``amount_in``)
    pool : the pool after the swap
    """

    amount_in: int
    amount_out: int
    fee: int
    pool: PoolT


class AmmPool(Protocol):
    """A pool that quotes and executes swaps on its own integer arithmetic."""

    @property
    def fee_pips(self) -> int:
        """Return the swap fee in hundredths of a bip (3000 is 0.30%)."""
        ...

    def swap_exact_input(self, amount_in: int, zero_for_one: bool) -> SwapResult[Self]:
        """Return the result of paying in exactly ``amount_in`` (base units of the input token)."""
        ...

    def swap_exact_output(self, amount_out: int, zero_for_one: bool) -> SwapResult[Self]:
        """Return the result of asking for exactly ``amount_out`` (base units of the output token).

        A pool that cannot deliver it all may deliver less (``amount_out`` tells)
        or raise ``InsufficientLiquidity``; each pool documents which.
        """
        ...

    def mid_price_raw(self) -> float:
        """Return the marginal price before fees, token1 base units per token0 base unit."""
        ...

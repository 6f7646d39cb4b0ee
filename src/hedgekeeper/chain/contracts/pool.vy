# pragma version ~=0.4.3
"""
@title Constant-product AMM pool (Uniswap v2 math)
@notice x * y = k between token0 and token1, the fee taken from the input.
        All amounts are in the tokens' base units (WETH 18 decimals, USDC 6).
        Quotes are UniswapV2Library's integer formulas with the fee in bps:
          amount_out = in * (10000 - fee) * r_out / (r_in * 10000 + in * (10000 - fee))
          amount_in  = r_in * out * 10000 / ((r_out - out) * (10000 - fee)) + 1
        (hedgekeeper.venues.amm.constant_product with fee_pips = 100 * fee_bps).
@dev Swaps pull the input with transferFrom, so the caller approves the pool first.
"""

from ethereum.ercs import IERC20

event Swap:
    sender: indexed(address)
    recipient: indexed(address)
    zero_for_one: bool
    amount_in: uint256
    amount_out: uint256
    reserve0: uint256
    reserve1: uint256

event Sync:
    reserve0: uint256
    reserve1: uint256

event LiquidityAdded:
    provider: indexed(address)
    amount0: uint256
    amount1: uint256
    shares: uint256

BPS: constant(uint256) = 10000
MAX_RESERVE: constant(uint256) = 2**112 - 1  # UniswapV2Pair stores reserves as uint112

token0: public(address)
token1: public(address)
fee_bps: public(uint256)
reserve0: public(uint256)
reserve1: public(uint256)
total_shares: public(uint256)
shares: public(HashMap[address, uint256])


@deploy
def __init__(token0: address, token1: address, fee_bps: uint256):
    """
    @param token0 the first token (its reserve is reserve0)
    @param token1 the second token
    @param fee_bps the swap fee in basis points of the input (30 is 0.30%), below 10000
    """
    assert token0 != token1, "pool: identical tokens"
    assert fee_bps < BPS, "pool: fee must be below 100%"
    self.token0 = token0
    self.token1 = token1
    self.fee_bps = fee_bps


@internal
@view
def _reserves(zero_for_one: bool) -> (uint256, uint256):
    if zero_for_one:
        return self.reserve0, self.reserve1
    return self.reserve1, self.reserve0


@internal
@view
def _amount_out(amount_in: uint256, zero_for_one: bool) -> uint256:
    assert amount_in > 0, "pool: insufficient input amount"
    reserve_in: uint256 = 0
    reserve_out: uint256 = 0
    reserve_in, reserve_out = self._reserves(zero_for_one)
    assert reserve_in > 0 and reserve_out > 0, "pool: insufficient liquidity"
    with_fee: uint256 = amount_in * (BPS - self.fee_bps)
    return with_fee * reserve_out // (reserve_in * BPS + with_fee)


@internal
@view
def _amount_in(amount_out: uint256, zero_for_one: bool) -> uint256:
    assert amount_out > 0, "pool: insufficient output amount"
    reserve_in: uint256 = 0
    reserve_out: uint256 = 0
    reserve_in, reserve_out = self._reserves(zero_for_one)
    assert reserve_in > 0 and amount_out < reserve_out, "pool: insufficient liquidity"
    return reserve_in * amount_out * BPS // ((reserve_out - amount_out) * (BPS - self.fee_bps)) + 1


@external
@view
def get_amount_out(amount_in: uint256, zero_for_one: bool) -> uint256:
    """
    @notice Return the output (base units) for exactly amount_in of token0 (zero_for_one) or token1.
    """
    return self._amount_out(amount_in, zero_for_one)


@external
@view
def get_amount_in(amount_out: uint256, zero_for_one: bool) -> uint256:
    """
    @notice Return the least input (base units) that buys exactly amount_out of the other token.
    """
    return self._amount_in(amount_out, zero_for_one)


@internal
def _settle(zero_for_one: bool, amount_in: uint256, amount_out: uint256, recipient: address):
    token_in: address = self.token0
    token_out: address = self.token1
    if zero_for_one:
        self.reserve0 += amount_in
        self.reserve1 -= amount_out
    else:
        token_in = self.token1
        token_out = self.token0
        self.reserve1 += amount_in
        self.reserve0 -= amount_out
    assert self.reserve0 <= MAX_RESERVE and self.reserve1 <= MAX_RESERVE, "pool: reserve overflow"
    assert extcall IERC20(token_in).transferFrom(msg.sender, self, amount_in, default_return_value=True)
    assert extcall IERC20(token_out).transfer(recipient, amount_out, default_return_value=True)
    log Swap(sender=msg.sender, recipient=recipient, zero_for_one=zero_for_one, amount_in=amount_in, amount_out=amount_out, reserve0=self.reserve0, reserve1=self.reserve1)


@external
@nonreentrant
def swap_exact_in(zero_for_one: bool, amount_in: uint256, min_out: uint256, recipient: address) -> uint256:
    """
    @notice Sell exactly amount_in (base units) of token0 (zero_for_one) or token1; pay recipient.
    @param min_out the least output accepted (base units); below it the swap reverts
    @return the output paid, base units of the other token
    """
    amount_out: uint256 = self._amount_out(amount_in, zero_for_one)
    assert amount_out > 0, "pool: insufficient output amount"
    assert amount_out >= min_out, "slippage: output below minimum"
    self._settle(zero_for_one, amount_in, amount_out, recipient)
    return amount_out


@external
@nonreentrant
def swap_exact_out(zero_for_one: bool, amount_out: uint256, max_in: uint256, recipient: address) -> uint256:
    """
    @notice Buy exactly amount_out (base units) of the other token for token0 (zero_for_one) or token1.
    @param max_in the most input accepted (base units); above it the swap reverts
    @return the input paid, base units
    """
    amount_in: uint256 = self._amount_in(amount_out, zero_for_one)
    assert amount_in <= max_in, "slippage: input above maximum"
    self._settle(zero_for_one, amount_in, amount_out, recipient)
    return amount_in


@external
@nonreentrant
def add_liquidity(amount0: uint256, amount1: uint256) -> uint256:
    """
    @notice Deposit amount0 of token0 and amount1 of token1 (base units) for pool shares.
    @dev The first deposit sets the price and mints sqrt(amount0 * amount1) shares;
         later ones mint in proportion to the smaller of the two contributions.
    @return the shares minted
    """
    assert amount0 > 0 and amount1 > 0, "pool: zero deposit"
    minted: uint256 = 0
    if self.total_shares == 0:
        minted = isqrt(amount0 * amount1)
    else:
        minted = min(amount0 * self.total_shares // self.reserve0, amount1 * self.total_shares // self.reserve1)
    assert minted > 0, "pool: deposit too small"
    self.total_shares += minted
    self.shares[msg.sender] += minted
    self.reserve0 += amount0
    self.reserve1 += amount1
    assert self.reserve0 <= MAX_RESERVE and self.reserve1 <= MAX_RESERVE, "pool: reserve overflow"
    assert extcall IERC20(self.token0).transferFrom(msg.sender, self, amount0, default_return_value=True)
    assert extcall IERC20(self.token1).transferFrom(msg.sender, self, amount1, default_return_value=True)
    log LiquidityAdded(provider=msg.sender, amount0=amount0, amount1=amount1, shares=minted)
    log Sync(reserve0=self.reserve0, reserve1=self.reserve1)
    return minted

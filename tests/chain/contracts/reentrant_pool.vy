# pragma version ~=0.4.3
"""
@title A hostile pool: its swap calls back into the vault's rebalance
@notice Records whether the re-entry was attempted, whether it succeeded, and the
        revert data it got (empty for Vyper's reentrancy lock, which has no reason).
"""

token0: public(address)
token1: public(address)
target: public(address)
reentry_attempted: public(bool)
reentry_succeeded: public(bool)
reentry_revert_data: public(Bytes[256])


@deploy
def __init__(token0: address, token1: address):
    self.token0 = token0
    self.token1 = token1


@external
def set_target(vault: address):
    self.target = vault


@internal
def _reenter():
    self.reentry_attempted = True
    trade: int256 = 10**18
    success: bool = False
    response: Bytes[256] = b""
    success, response = raw_call(
        self.target,
        abi_encode(trade, max_value(uint256), method_id=method_id("rebalance(int256,uint256)")),
        max_outsize=256,
        revert_on_failure=False,
    )
    self.reentry_succeeded = success
    self.reentry_revert_data = response


@external
def swap_exact_out(zero_for_one: bool, amount_out: uint256, max_in: uint256, recipient: address) -> uint256:
    self._reenter()
    return 0


@external
def swap_exact_in(zero_for_one: bool, amount_in: uint256, min_out: uint256, recipient: address) -> uint256:
    self._reenter()
    return 0

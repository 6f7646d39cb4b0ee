# pragma version ~=0.4.3
"""
@title Batch rebalancer
@notice Rebalances many vaults in one transaction on behalf of the caller (the
        keeper), skipping, never reverting on, a vault that no longer needs it or
        whose rebalance reverts. Each vault must trust this contract
        (vault.set_batcher) and checks the caller's keeper rights itself; beyond
        its outer band anyone may call and the vault pays the ripcord reward to
        the caller.

        rebalance_many(vaults: DynArray[address, 64]) -> DynArray[bool, 64]
            done[i] is True when vaults[i] was rebalanced (the vault itself emits
            Rebalanced). Emits Skipped(vault, keeper, reason) for each vault
            skipped: reason 1 = in band, 2 = reverted (paused, stale oracle,
            cooldown, slippage, not a keeper, ...).

        check_many(vaults: DynArray[address, 64]) -> DynArray[VaultCheck, 64]
            every vault's check() in one call: (vault, needs_rebalance,
            beyond_outer_band, delta_deviation_1e18, trade_risk_asset_1e18,
            oracle_age_s), units as vault.vy's check().
"""

interface Vault:
    def check() -> (bool, bool, int256, int256, uint256): view

struct VaultCheck:
    vault: address
    needs_rebalance: bool
    beyond_outer_band: bool
    delta_deviation_1e18: int256
    trade_risk_asset_1e18: int256
    oracle_age_s: uint256

MAX_VAULTS: constant(uint256) = 64
SKIPPED_IN_BAND: constant(uint8) = 1
SKIPPED_REVERTED: constant(uint8) = 2

event Skipped:
    vault: indexed(address)
    keeper: indexed(address)
    reason: uint8


@external
def rebalance_many(vaults: DynArray[address, MAX_VAULTS]) -> DynArray[bool, MAX_VAULTS]:
    """
    @notice Rebalance each vault on the caller's behalf; skip those in band or reverting.
    @return done flags, one per vault, in order
    """
    done: DynArray[bool, MAX_VAULTS] = []
    for vault: address in vaults:
        success: bool = False
        response: Bytes[32] = b""
        success, response = raw_call(
            vault,
            abi_encode(msg.sender, method_id=method_id("rebalance_from_batcher(address)")),
            max_outsize=32,
            revert_on_failure=False,
        )
        if not success:
            log Skipped(vault=vault, keeper=msg.sender, reason=SKIPPED_REVERTED)
            done.append(False)
        elif len(response) == 32 and convert(response, bool):
            done.append(True)
        else:
            log Skipped(vault=vault, keeper=msg.sender, reason=SKIPPED_IN_BAND)
            done.append(False)
    return done


@external
@view
def check_many(vaults: DynArray[address, MAX_VAULTS]) -> DynArray[VaultCheck, MAX_VAULTS]:
    """
    @notice Return each vault's check() (units as vault.vy's), in order, in one call.
    """
    checks: DynArray[VaultCheck, MAX_VAULTS] = []
    for vault: address in vaults:
        needs: bool = False
        beyond: bool = False
        deviation: int256 = 0
        trade: int256 = 0
        age: uint256 = 0
        needs, beyond, deviation, trade, age = staticcall Vault(vault).check()
        checks.append(VaultCheck(vault=vault, needs_rebalance=needs, beyond_outer_band=beyond, delta_deviation_1e18=deviation, trade_risk_asset_1e18=trade, oracle_age_s=age))
    return checks

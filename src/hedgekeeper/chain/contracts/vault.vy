# pragma version ~=0.4.3
"""
@title Self-guarding options vault
@notice Holds a USD stablecoin (collateral) and a risk asset, has written a book of
        European options on the risk asset, and keeps its net delta inside bands
        around a target by trading the risk asset against a constant-product pool.

        Units: "_1e18" values are signed or unsigned 18-decimal fixed point (10**18
        is 1.0): deltas and trades in coin (units of the risk asset), prices in USD
        per coin, vol as a decimal (8e17 is 80%). Token amounts without the suffix
        are base units of the token (USDC 6 decimals, WETH 18). The oracle answer
        has the oracle's decimals (8). Times are unix seconds; ACT/365 years.

        Net delta (coin) = risk-asset balance - sum over the book of
                           size * Black-Scholes delta(oracle price, strike, expiry, implied vol)
        with zero rates; an option at or past its expiry counts zero (settled).
        deviation = net delta - target_delta_1e18.
        In band: |deviation| <= inner_band_1e18. Beyond the outer (emergency)
        band: |deviation| > outer_band_1e18.

        External interface (stable; the keeper is written against it):

        check() -> (bool needs_rebalance, bool beyond_outer_band,
                    int256 delta_deviation_1e18, int256 trade_risk_asset_1e18,
                    uint256 oracle_age_s)
            needs_rebalance: |deviation| > inner band (the band only: paused,
                cooldown and oracle age are reported by their own getters).
            beyond_outer_band: |deviation| > outer band (anyone may rebalance, for
                the ripcord reward).
            delta_deviation_1e18: net delta - target, coin.
            trade_risk_asset_1e18: the trade to send now: -deviation clipped to
                max_trade_1e18; > 0 buys the risk asset, < 0 sells it; 0 when in band.
            oracle_age_s: block.timestamp - the oracle's updatedAt.

        rebalance(trade_risk_asset_1e18: int256, min_out_or_max_in: uint256) -> uint256
            Trade against the pool: a buy (> 0) buys exactly that much risk asset
            paying at most min_out_or_max_in stablecoin (base units); a sell (< 0)
            sells exactly that much receiving at least min_out_or_max_in. Returns
            the stablecoin paid or received (base units). Reverts when paused, the
            oracle is older than max_oracle_age_s, within cooldown_s of the last
            rebalance, in band, the caller is no keeper inside the outer band, the
            trade goes the wrong way, would leave the delta beyond the inner band
            on the other side of the target, is a ripcord (beyond the outer band)
            smaller than min(|deviation| - inner band, max_trade_1e18), or exceeds
            max_trade_1e18, or the pool price is worse than the oracle price by
            more than max_slippage_bps. Beyond the outer band pays the caller
            ripcord_reward (stablecoin base units, as far as the vault holds it).

        rebalance_from_batcher(keeper: address) -> bool
            The batcher only (batcher()), on behalf of keeper: trades the check()
            trade with the oracle slippage bound; returns False, without
            reverting, when the vault is in band.

        Views: delta() / delta_at(spot_1e18) -> int256 net delta (coin, 1e18);
        option_delta(index, spot_1e18) -> int256 one option's delta per coin held
        long; oracle_price() -> (uint256 price_1e18, uint256 age_s); and a public
        getter for every parameter below.
"""

import bs_math

interface Token:
    def decimals() -> uint8: view
    def balanceOf(owner: address) -> uint256: view
    def approve(spender: address, amount: uint256) -> bool: nonpayable
    def transfer(receiver: address, amount: uint256) -> bool: nonpayable

interface Aggregator:
    def decimals() -> uint8: view
    def latestRoundData() -> (uint80, int256, uint256, uint256, uint80): view

interface Pool:
    def token0() -> address: view
    def token1() -> address: view
    def swap_exact_in(zero_for_one: bool, amount_in: uint256, min_out: uint256, recipient: address) -> uint256: nonpayable
    def swap_exact_out(zero_for_one: bool, amount_out: uint256, max_in: uint256, recipient: address) -> uint256: nonpayable

event Rebalanced:
    keeper: indexed(address)
    trade_risk_asset_1e18: int256
    stable_amount: uint256
    price_1e18: uint256
    delta_before_1e18: int256
    delta_after_1e18: int256
    reward: uint256
    emergency: bool

event OptionAdded:
    index: uint256
    strike_1e18: uint256
    expiry_ts: uint256
    size_1e18: uint256
    is_call: bool

event OptionsCleared:
    count: uint256

event BandSet:
    target_delta_1e18: int256
    inner_band_1e18: uint256
    outer_band_1e18: uint256

event ImpliedVolSet:
    implied_vol_1e18: uint256

event LimitsSet:
    max_slippage_bps: uint256
    max_oracle_age_s: uint256
    cooldown_s: uint256
    max_trade_1e18: uint256
    ripcord_reward: uint256

event KeeperSet:
    keeper: indexed(address)
    allowed: bool

event BatcherSet:
    batcher: indexed(address)

event Paused:
    paused: bool

event OwnershipTransferred:
    previous_owner: indexed(address)
    new_owner: indexed(address)

MAX_OPTIONS: constant(uint256) = 8
BPS: constant(uint256) = 10000
ONE: constant(int256) = 10**18

# Parameters are packed into three storage words so that a rebalance reads few
# cold slots (2100 gas each); every field keeps its public getter.
#   _limits: implied_vol_1e18 (64 bits) | max_slippage_bps (16) | max_oracle_age_s (32)
#            | cooldown_s (32) | last_rebalance_ts (40) | option_count (8) | paused (1)
#   _band:   target_delta_1e18 + 2**95 (96) | inner_band_1e18 (80) | outer_band_1e18 (80)
#   _sizes:  max_trade_1e18 (128) | ripcord_reward (128)
#   _options[i]: strike_1e18 (96) | expiry_ts (40) | size_1e18 (96) | is_call (1)
MASK_8: constant(uint256) = 2**8 - 1
MASK_16: constant(uint256) = 2**16 - 1
MASK_32: constant(uint256) = 2**32 - 1
MASK_40: constant(uint256) = 2**40 - 1
MASK_64: constant(uint256) = 2**64 - 1
MASK_80: constant(uint256) = 2**80 - 1
MASK_96: constant(uint256) = 2**96 - 1
MASK_128: constant(uint256) = 2**128 - 1
TARGET_OFFSET: constant(int256) = 2**95
LAST_SHIFT: constant(uint256) = 144
COUNT_SHIFT: constant(uint256) = 184
PAUSED_BIT: constant(uint256) = 2**192

stable: public(immutable(address))
risk_asset: public(immutable(address))
oracle: public(immutable(address))
pool: public(immutable(address))
risk_is_token0: public(immutable(bool))
stable_unit: public(immutable(uint256))  # 10**stable decimals
risk_unit: public(immutable(uint256))  # 10**risk-asset decimals
price_scale: immutable(uint256)  # 10**(18 - oracle decimals)

owner: public(address)
batcher: public(address)
keepers: public(HashMap[address, bool])
_limits: uint256
_band: uint256
_sizes: uint256
_options: uint256[MAX_OPTIONS]


@deploy
def __init__(
    stable_token: address,
    risk_token: address,
    price_oracle: address,
    amm_pool: address,
    implied_vol_1e18: uint256,
    target_delta_1e18: int256,
    inner_band_1e18: uint256,
    outer_band_1e18: uint256,
    max_slippage_bps: uint256,
    max_oracle_age_s: uint256,
    cooldown_s: uint256,
    max_trade_1e18: uint256,
    ripcord_reward: uint256,
):
    """
    @param stable_token the USD stablecoin (collateral, pays the ripcord reward)
    @param risk_token the risk asset the options are written on
    @param price_oracle a Chainlink-style aggregator of the risk asset in USD
    @param amm_pool a constant-product pool between the two tokens
    @param implied_vol_1e18 the vol the book's delta is computed with (8e17 is 80%), at most 1000%
    @param target_delta_1e18 the target net delta, coin, |target| < 2**95
    @param inner_band_1e18 half-width of the inner band around the target, coin, < 2**80
    @param outer_band_1e18 half-width of the outer (emergency) band, coin, >= inner, < 2**80
    @param max_slippage_bps the worst pool price accepted against the oracle price, bps, < 10000
    @param max_oracle_age_s the oldest oracle answer a rebalance accepts, seconds, < 2**32
    @param cooldown_s the least time between two rebalances, seconds, < 2**32
    @param max_trade_1e18 the largest trade one rebalance makes, coin, > 0, < 2**128
    @param ripcord_reward paid to whoever rebalances beyond the outer band, stablecoin base units, < 2**128
    """
    stable = stable_token
    risk_asset = risk_token
    oracle = price_oracle
    pool = amm_pool
    token0: address = staticcall Pool(amm_pool).token0()
    token1: address = staticcall Pool(amm_pool).token1()
    assert (token0 == risk_token and token1 == stable_token) or (token0 == stable_token and token1 == risk_token), "vault: pool does not trade the two tokens"
    risk_is_token0 = token0 == risk_token
    stable_unit = 10 ** convert(staticcall Token(stable_token).decimals(), uint256)
    risk_unit = 10 ** convert(staticcall Token(risk_token).decimals(), uint256)
    oracle_decimals: uint256 = convert(staticcall Aggregator(price_oracle).decimals(), uint256)
    assert oracle_decimals <= 18, "vault: oracle decimals above 18"
    price_scale = 10 ** (18 - oracle_decimals)
    self.owner = msg.sender
    self._set_band(target_delta_1e18, inner_band_1e18, outer_band_1e18)
    self._set_implied_vol(implied_vol_1e18)
    self._set_limits(max_slippage_bps, max_oracle_age_s, cooldown_s, max_trade_1e18, ripcord_reward)
    assert extcall Token(stable_token).approve(amm_pool, max_value(uint256), default_return_value=True)
    assert extcall Token(risk_token).approve(amm_pool, max_value(uint256), default_return_value=True)


# -------------------------------------------------------------- getters

@external
@view
def implied_vol_1e18() -> uint256:
    """
    @notice Return the implied vol the book's delta is computed with, 1e18 (8e17 is 80%).
    """
    return self._limits & MASK_64


@external
@view
def max_slippage_bps() -> uint256:
    """
    @notice Return the worst pool price a rebalance accepts against the oracle price, bps.
    """
    return (self._limits >> 64) & MASK_16


@external
@view
def max_oracle_age_s() -> uint256:
    """
    @notice Return the oldest oracle answer a rebalance accepts, seconds.
    """
    return (self._limits >> 80) & MASK_32


@external
@view
def cooldown_s() -> uint256:
    """
    @notice Return the least time between two rebalances, seconds.
    """
    return (self._limits >> 112) & MASK_32


@external
@view
def last_rebalance_ts() -> uint256:
    """
    @notice Return when the last rebalance happened, unix seconds (0: never).
    """
    return (self._limits >> LAST_SHIFT) & MASK_40


@external
@view
def option_count() -> uint256:
    """
    @notice Return the number of options in the book.
    """
    return (self._limits >> COUNT_SHIFT) & MASK_8


@external
@view
def paused() -> bool:
    """
    @notice Return whether the owner paused rebalancing.
    """
    return self._limits & PAUSED_BIT != 0


@external
@view
def target_delta_1e18() -> int256:
    """
    @notice Return the target net delta, coin, 1e18.
    """
    return convert(self._band & MASK_96, int256) - TARGET_OFFSET


@external
@view
def inner_band_1e18() -> uint256:
    """
    @notice Return the inner band's half-width around the target, coin, 1e18.
    """
    return (self._band >> 96) & MASK_80


@external
@view
def outer_band_1e18() -> uint256:
    """
    @notice Return the outer (emergency) band's half-width around the target, coin, 1e18.
    """
    return self._band >> 176


@external
@view
def max_trade_1e18() -> uint256:
    """
    @notice Return the largest trade one rebalance makes, coin, 1e18.
    """
    return self._sizes & MASK_128


@external
@view
def ripcord_reward() -> uint256:
    """
    @notice Return the reward for a rebalance beyond the outer band, stablecoin base units.
    """
    return self._sizes >> 128


@external
@view
def options(index: uint256) -> (uint256, uint256, uint256, bool):
    """
    @notice Return option index of the book: (strike_1e18 USD per coin, expiry_ts unix s, size_1e18 coin written, is_call).
    """
    assert index < (self._limits >> COUNT_SHIFT) & MASK_8, "vault: no such option"
    word: uint256 = self._options[index]
    return word & MASK_96, (word >> 96) & MASK_40, (word >> 136) & MASK_96, (word >> 232) & 1 == 1


# ---------------------------------------------------------------- risk

@internal
@view
def _oracle_price() -> (uint256, uint256):
    round_id: uint80 = 0
    answer: int256 = 0
    started_at: uint256 = 0
    updated_at: uint256 = 0
    answered_in_round: uint80 = 0
    round_id, answer, started_at, updated_at, answered_in_round = staticcall Aggregator(oracle).latestRoundData()
    assert answer > 0, "vault: oracle answer is not positive"
    assert answered_in_round >= round_id, "vault: oracle round is incomplete"
    age: uint256 = 0
    if block.timestamp > updated_at:
        age = block.timestamp - updated_at
    return convert(answer, uint256) * price_scale, age


@internal
@view
def _option_delta(word: uint256, spot_1e18: uint256, vol_1e18: uint256) -> int256:
    expiry_ts: uint256 = (word >> 96) & MASK_40
    if block.timestamp >= expiry_ts:
        return 0  # expired: settled, no longer part of the risk
    t_years: int256 = bs_math.year_fraction(expiry_ts - block.timestamp)
    return bs_math.delta(convert(spot_1e18, int256), convert(word & MASK_96, int256), t_years, convert(vol_1e18, int256), (word >> 232) & 1 == 1)


@internal
@view
def _delta(spot_1e18: uint256, limits: uint256) -> int256:
    held: uint256 = staticcall Token(risk_asset).balanceOf(self)
    net: int256 = convert(held * 10**18 // risk_unit, int256)
    count: uint256 = (limits >> COUNT_SHIFT) & MASK_8
    vol: uint256 = limits & MASK_64
    for i: uint256 in range(MAX_OPTIONS):
        if i >= count:
            break
        word: uint256 = self._options[i]
        net -= convert((word >> 136) & MASK_96, int256) * self._option_delta(word, spot_1e18, vol) // ONE
    return net


@internal
@pure
def _fix(deviation: int256, max_trade: uint256) -> int256:
    limit: int256 = convert(max_trade, int256)
    return max(-limit, min(limit, -deviation))


@external
@view
def oracle_price() -> (uint256, uint256):
    """
    @notice Return the oracle's latest price (USD per coin, 1e18) and its age (seconds).
    """
    return self._oracle_price()


@external
@view
def option_delta(index: uint256, spot_1e18: uint256) -> int256:
    """
    @notice Return the Black-Scholes delta of option index held long, coin per coin, 1e18, at spot_1e18 (USD per coin); 0 once expired.
    """
    limits: uint256 = self._limits
    assert index < (limits >> COUNT_SHIFT) & MASK_8, "vault: no such option"
    return self._option_delta(self._options[index], spot_1e18, limits & MASK_64)


@external
@view
def delta_at(spot_1e18: uint256) -> int256:
    """
    @notice Return the net delta (coin, 1e18) if the risk asset traded at spot_1e18 (USD per coin, 1e18).
    """
    return self._delta(spot_1e18, self._limits)


@external
@view
def delta() -> int256:
    """
    @notice Return the net delta at the oracle price, coin, 1e18.
    """
    price: uint256 = 0
    age: uint256 = 0
    price, age = self._oracle_price()
    return self._delta(price, self._limits)


@external
@view
def check() -> (bool, bool, int256, int256, uint256):
    """
    @notice Return (needs_rebalance, beyond_outer_band, delta_deviation_1e18,
            trade_risk_asset_1e18, oracle_age_s); see the contract's notice.
    """
    price: uint256 = 0
    age: uint256 = 0
    price, age = self._oracle_price()
    band: uint256 = self._band
    deviation: int256 = self._delta(price, self._limits) - (convert(band & MASK_96, int256) - TARGET_OFFSET)
    size: uint256 = convert(abs(deviation), uint256)
    needs: bool = size > (band >> 96) & MASK_80
    trade: int256 = 0
    if needs:
        trade = self._fix(deviation, self._sizes & MASK_128)
    return needs, size > band >> 176, deviation, trade, age


# ----------------------------------------------------------- rebalance

@internal
def _rebalance(keeper: address, requested: int256, limit: uint256, batched: bool) -> (bool, uint256):
    limits: uint256 = self._limits
    assert limits & PAUSED_BIT == 0, "vault: paused"
    price: uint256 = 0
    age: uint256 = 0
    price, age = self._oracle_price()
    assert age <= (limits >> 80) & MASK_32, "vault: stale oracle"
    band: uint256 = self._band
    delta_before: int256 = self._delta(price, limits)
    deviation: int256 = delta_before - (convert(band & MASK_96, int256) - TARGET_OFFSET)
    size: uint256 = convert(abs(deviation), uint256)
    inner: uint256 = (band >> 96) & MASK_80
    if size <= inner:
        assert batched, "vault: in band"
        return False, 0
    emergency: bool = size > band >> 176
    assert emergency or self.keepers[keeper], "vault: not a keeper (inside the outer band)"
    assert block.timestamp >= ((limits >> LAST_SHIFT) & MASK_40) + ((limits >> 112) & MASK_32), "vault: cooldown"

    sizes: uint256 = self._sizes
    max_trade: uint256 = sizes & MASK_128
    trade: int256 = requested
    if batched:
        trade = self._fix(deviation, max_trade)
    else:
        assert trade != 0 and (trade > 0) == (deviation < 0), "vault: trade goes the wrong way"
        assert convert(abs(trade), uint256) <= max_trade, "vault: trade above max_trade_1e18"
        # Landing past the target is fine as long as it stays inside the inner band
        # (the delta drifts between the keeper's check() and its transaction).
        assert convert(abs(trade), uint256) <= size + inner, "vault: trade overshoots the inner band"
        # A ripcord pays a reward, so it must do the whole job: back into the inner
        # band, or the largest trade allowed (no reward for dust trades).
        assert not emergency or convert(abs(trade), uint256) >= min(size - inner, max_trade), "vault: a ripcord trades at least min(deviation - inner band, max trade)"

    amount: uint256 = convert(abs(trade), uint256) * risk_unit // 10**18
    assert amount > 0, "vault: trade below one base unit"
    # The trade's value at the oracle price, stablecoin base units.
    value: uint256 = amount * price * stable_unit // (risk_unit * 10**18)
    slippage_bps: uint256 = (limits >> 64) & MASK_16
    stable_amount: uint256 = 0
    if trade > 0:
        max_in: uint256 = value * (BPS + slippage_bps) // BPS
        if not batched:
            max_in = min(max_in, limit)
        stable_amount = extcall Pool(pool).swap_exact_out(not risk_is_token0, amount, max_in, self)
    else:
        min_out: uint256 = (value * (BPS - slippage_bps) + BPS - 1) // BPS
        if not batched:
            min_out = max(min_out, limit)
        stable_amount = extcall Pool(pool).swap_exact_in(risk_is_token0, amount, min_out, self)

    self._limits = (limits & ~(MASK_40 << LAST_SHIFT)) | (block.timestamp << LAST_SHIFT)
    reward: uint256 = 0
    if emergency:
        reward = min(sizes >> 128, staticcall Token(stable).balanceOf(self))
        if reward > 0:
            assert extcall Token(stable).transfer(keeper, reward, default_return_value=True)
    delta_after: int256 = delta_before + convert(amount * 10**18 // risk_unit, int256) * (1 if trade > 0 else -1)
    log Rebalanced(keeper=keeper, trade_risk_asset_1e18=trade, stable_amount=stable_amount, price_1e18=price, delta_before_1e18=delta_before, delta_after_1e18=delta_after, reward=reward, emergency=emergency)
    return True, stable_amount


@external
@nonreentrant
def rebalance(trade_risk_asset_1e18: int256, min_out_or_max_in: uint256) -> uint256:
    """
    @notice Trade the risk asset against the pool back toward the target delta.
    @param trade_risk_asset_1e18 coin, 1e18: > 0 buys, < 0 sells; as check() returns it
    @param min_out_or_max_in stablecoin base units: the most paid for a buy, the least received for a sell
    @return the stablecoin paid or received, base units
    """
    done: bool = False
    stable_amount: uint256 = 0
    done, stable_amount = self._rebalance(msg.sender, trade_risk_asset_1e18, min_out_or_max_in, False)
    return stable_amount


@external
@nonreentrant
def rebalance_from_batcher(keeper: address) -> bool:
    """
    @notice Rebalance on behalf of keeper, for the batcher only; False when in band.
    @dev Trades check()'s trade, bounded by the oracle price and max_slippage_bps.
    """
    assert msg.sender == self.batcher and msg.sender != empty(address), "vault: only the batcher"
    done: bool = False
    stable_amount: uint256 = 0
    done, stable_amount = self._rebalance(keeper, 0, 0, True)
    return done


# -------------------------------------------------------------- owner

@internal
def _only_owner():
    assert msg.sender == self.owner, "vault: only the owner"


@internal
def _set_band(target_delta_1e18: int256, inner_band_1e18: uint256, outer_band_1e18: uint256):
    assert inner_band_1e18 <= outer_band_1e18, "vault: inner band wider than the outer band"
    assert outer_band_1e18 <= MASK_80, "vault: outer band above 2**80"
    assert target_delta_1e18 >= -TARGET_OFFSET and target_delta_1e18 < TARGET_OFFSET, "vault: target outside +-2**95"
    self._band = convert(target_delta_1e18 + TARGET_OFFSET, uint256) | (inner_band_1e18 << 96) | (outer_band_1e18 << 176)
    log BandSet(target_delta_1e18=target_delta_1e18, inner_band_1e18=inner_band_1e18, outer_band_1e18=outer_band_1e18)


@internal
def _set_implied_vol(implied_vol_1e18: uint256):
    assert implied_vol_1e18 > 0 and implied_vol_1e18 <= 10 * 10**18, "vault: implied vol outside (0, 1000%]"
    self._limits = (self._limits & ~MASK_64) | implied_vol_1e18
    log ImpliedVolSet(implied_vol_1e18=implied_vol_1e18)


@internal
def _set_limits(max_slippage_bps: uint256, max_oracle_age_s: uint256, cooldown_s: uint256, max_trade_1e18: uint256, ripcord_reward: uint256):
    assert max_slippage_bps < BPS, "vault: max slippage must be below 100%"
    assert max_oracle_age_s <= MASK_32 and cooldown_s <= MASK_32, "vault: age or cooldown above 2**32 s"
    assert max_trade_1e18 > 0 and max_trade_1e18 <= MASK_128, "vault: max trade outside (0, 2**128)"
    assert ripcord_reward <= MASK_128, "vault: reward above 2**128"
    kept: uint256 = self._limits & ~((MASK_16 << 64) | (MASK_32 << 80) | (MASK_32 << 112))
    self._limits = kept | (max_slippage_bps << 64) | (max_oracle_age_s << 80) | (cooldown_s << 112)
    self._sizes = max_trade_1e18 | (ripcord_reward << 128)
    log LimitsSet(max_slippage_bps=max_slippage_bps, max_oracle_age_s=max_oracle_age_s, cooldown_s=cooldown_s, max_trade_1e18=max_trade_1e18, ripcord_reward=ripcord_reward)


@external
def set_band(target_delta_1e18: int256, inner_band_1e18: uint256, outer_band_1e18: uint256):
    """
    @notice Set the target net delta and the inner and outer band half-widths, coin, 1e18; the owner only.
    """
    self._only_owner()
    self._set_band(target_delta_1e18, inner_band_1e18, outer_band_1e18)


@external
def set_implied_vol(implied_vol_1e18: uint256):
    """
    @notice Set the implied vol used for the book's delta, 1e18 (8e17 is 80%); the owner only.
    """
    self._only_owner()
    self._set_implied_vol(implied_vol_1e18)


@external
def set_limits(max_slippage_bps: uint256, max_oracle_age_s: uint256, cooldown_s: uint256, max_trade_1e18: uint256, ripcord_reward: uint256):
    """
    @notice Set the rebalance limits (bps, seconds, seconds, coin 1e18, stablecoin base units); the owner only.
    """
    self._only_owner()
    self._set_limits(max_slippage_bps, max_oracle_age_s, cooldown_s, max_trade_1e18, ripcord_reward)


@external
def add_option(strike_1e18: uint256, expiry_ts: uint256, size_1e18: uint256, is_call: bool) -> uint256:
    """
    @notice Add a written option to the book; the owner only.
    @param strike_1e18 USD per coin, 1e18, in (0, 2**96)
    @param expiry_ts unix seconds, < 2**40
    @param size_1e18 coin written, 1e18, < 2**96
    @param is_call True for a call, False for a put
    @return the option's index
    """
    self._only_owner()
    limits: uint256 = self._limits
    index: uint256 = (limits >> COUNT_SHIFT) & MASK_8
    assert index < MAX_OPTIONS, "vault: the book is full"
    assert strike_1e18 > 0 and strike_1e18 <= MASK_96, "vault: strike outside (0, 2**96)"
    assert size_1e18 <= MASK_96, "vault: size above 2**96"
    assert expiry_ts <= MASK_40, "vault: expiry above 2**40"
    call_bit: uint256 = 0
    if is_call:
        call_bit = 1
    self._options[index] = strike_1e18 | (expiry_ts << 96) | (size_1e18 << 136) | (call_bit << 232)
    self._limits = (limits & ~(MASK_8 << COUNT_SHIFT)) | ((index + 1) << COUNT_SHIFT)
    log OptionAdded(index=index, strike_1e18=strike_1e18, expiry_ts=expiry_ts, size_1e18=size_1e18, is_call=is_call)
    return index


@external
def clear_options():
    """
    @notice Empty the options book; the owner only.
    """
    self._only_owner()
    limits: uint256 = self._limits
    log OptionsCleared(count=(limits >> COUNT_SHIFT) & MASK_8)
    self._limits = limits & ~(MASK_8 << COUNT_SHIFT)


@external
def set_keeper(keeper: address, allowed: bool):
    """
    @notice Allow or disallow keeper to rebalance inside the outer band; the owner only.
    """
    self._only_owner()
    self.keepers[keeper] = allowed
    log KeeperSet(keeper=keeper, allowed=allowed)


@external
def set_batcher(batcher: address):
    """
    @notice Trust batcher to call rebalance_from_batcher on a keeper's behalf; the owner only.
    """
    self._only_owner()
    self.batcher = batcher
    log BatcherSet(batcher=batcher)


@external
def set_paused(paused: bool):
    """
    @notice Stop (True) or resume (False) rebalancing; the owner only.
    """
    self._only_owner()
    if paused:
        self._limits = self._limits | PAUSED_BIT
    else:
        self._limits = self._limits & ~PAUSED_BIT
    log Paused(paused=paused)


@external
def transfer_ownership(new_owner: address):
    """
    @notice Hand the owner role to new_owner; the owner only.
    """
    self._only_owner()
    log OwnershipTransferred(previous_owner=self.owner, new_owner=new_owner)
    self.owner = new_owner

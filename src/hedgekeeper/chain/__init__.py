"""On-chain risk keeping: Vyper contracts, compilation, backends, deployment and reading.

Contracts (``contracts/``, Vyper 0.4.3)
---------------------------------------
Units everywhere: ``_1e18`` is 18-decimal fixed point (10**18 is 1.0): deltas and
trades in coin of the risk asset, prices in USD per coin, vol as a decimal.
Token amounts without a suffix are the token's base units (USDC 6 decimals, WETH
18). Oracle answers carry the oracle's decimals (8). Times are unix seconds.

``vault.vy`` (keeper-facing interface, stable)::

    check() -> (bool needs_rebalance, bool beyond_outer_band,
                int256 delta_deviation_1e18, int256 trade_risk_asset_1e18,
                uint256 oracle_age_s)
        needs_rebalance    |net delta - target| > inner band (band only; see paused(),
                           last_rebalance_ts() + cooldown_s(), max_oracle_age_s())
        beyond_outer_band  |net delta - target| > outer band: anyone may rebalance
                           and earns ripcord_reward() (stablecoin base units)
        delta_deviation    net delta - target, coin
        trade_risk_asset   the trade to send now: -deviation clipped to
                           max_trade_1e18(); > 0 buys the risk asset; 0 in band
        oracle_age_s       block.timestamp - oracle updatedAt
    rebalance(trade_risk_asset_1e18: int256, min_out_or_max_in: uint256) -> uint256
        buy (> 0): exactly that much risk asset, paying at most min_out_or_max_in
        stablecoin base units; sell (< 0): receiving at least min_out_or_max_in.
        Returns the stablecoin paid or received (base units). Reverts ("vault: ...")
        when paused, oracle older than max_oracle_age_s, in cooldown, in band, the
        caller is not a keeper inside the outer band, the trade goes the wrong way,
        would end beyond the inner band on the other side of the target, is a
        ripcord smaller than min(|deviation| - inner band, max_trade_1e18), or
        exceeds max_trade_1e18; the pool reverts
        ("slippage: ...") when its price is worse than the oracle's by more than
        max_slippage_bps or than the caller's bound. Emits Rebalanced.
    rebalance_from_batcher(keeper: address) -> bool   (the batcher only)
    delta() -> int256, delta_at(spot_1e18) -> int256  net delta, coin
    option_delta(index, spot_1e18) -> int256          one option's delta, long
    oracle_price() -> (uint256 price_1e18, uint256 age_s)
    getters: owner, stable, risk_asset, oracle, pool, batcher, keepers(address),
        paused, last_rebalance_ts, implied_vol_1e18, target_delta_1e18,
        inner_band_1e18, outer_band_1e18, max_slippage_bps, max_oracle_age_s,
        cooldown_s, max_trade_1e18, ripcord_reward, option_count,
        options(i) -> (strike_1e18, expiry_ts, size_1e18, is_call),
        risk_is_token0, stable_unit, risk_unit
    owner: set_band, set_implied_vol, set_limits, add_option, clear_options,
        set_keeper, set_batcher, set_paused, transfer_ownership

``batcher.vy``::

    rebalance_many(vaults: DynArray[address, 64]) -> DynArray[bool, 64]
        rebalances each vault on the caller's behalf (keeper rights checked by the
        vault); never reverts for one vault: done[i] per vault (the vault emits
        Rebalanced); Skipped(vault, keeper, reason) with reason 1 = in band,
        2 = reverted.
    check_many(vaults: DynArray[address, 64]) -> DynArray[(address vault,
        bool, bool, int256, int256, uint256), 64]   every vault's check() in one call

``oracle.vy`` (Chainlink AggregatorV3Interface)::

    latestRoundData() / getRoundData(uint80) -> (uint80 roundId, int256 answer,
        uint256 startedAt, uint256 updatedAt, uint80 answeredInRound)
    decimals() -> uint8, description() -> String, version() -> uint256,
    latestAnswer(), latestTimestamp(), latestRound()
    submit(answer: int256) -> uint80      updater only, only when due
    is_update_due(answer) -> bool         deviation >= deviation_threshold_bps or
                                          age >= heartbeat_s (or no round yet)
    deviation_bps(answer) -> uint256; owner: set_updater, set_update_rule

``pool.vy``: constant product, fee in bps; get_amount_out / get_amount_in,
swap_exact_in / swap_exact_out (pull the input by transferFrom), add_liquidity,
reserve0 / reserve1. ``erc20.vy``: test token minted by its owner.

Python
------
``compile.compile_contract(name)`` (disk-cached ABI + bytecode);
``backends.connect(InProcessBackend() | RpcBackend(url=...)) -> Chain``;
``anvil.AnvilNode`` (start/stop a local anvil); ``deploy.deploy_system(config)``
and ``deploy.load_system_config(path)`` (``hedgekeeper chain deploy``),
``deploy.attach_system(chain, addresses)`` (handles from ``--json``'s addresses),
``deploy.contract_at(chain, "vault", address)``; ``reader.read_check``,
``read_checks(batcher, vaults)`` (all in one call),
``read_oracle_round``, ``require_fresh`` (``StaleOracle``), ``read_vault_parameters``,
``read_pool`` (exact ``ConstantProductPool`` model); ``units.to_fixed`` / ``from_fixed``.
"""

"""The keeper's parameters (``[keeper]`` of a chain system file): confirmations, fees, risk pricing, batching.

``KeeperConfig`` is what ``chain/keeper.py``'s ``Keeper`` runs by; ``OpStackFeeConfig``
adds an OP-stack L1 data fee to every transaction's cost (``gas.ecotone_l1_fee_wei``).
"""

from __future__ import annotations

from typing import Annotated

import pydantic

from hedgekeeper.chain.deploy import MAX_BATCH
from hedgekeeper.config import StrictModel

BPS = 10_000


class OpStackFeeConfig(StrictModel):
    """The OP-stack (Ecotone) L1 data fee parameters (``gas.ecotone_l1_fee_wei``).

    Attributes
    ----------
    l1_base_fee_gwei : float, L1's base fee, gwei per gas
    l1_blob_base_fee_gwei : float, L1's blob base fee, gwei per blob gas
    base_fee_scalar, blob_base_fee_scalar : int, the chain's scalars, 6 decimals (OP Mainnet: 1368, 810949)
    """

    l1_base_fee_gwei: Annotated[float, pydantic.Field(ge=0.0)]
    l1_blob_base_fee_gwei: Annotated[float, pydantic.Field(ge=0.0)]
    base_fee_scalar: Annotated[int, pydantic.Field(ge=0)] = 1368
    blob_base_fee_scalar: Annotated[int, pydantic.Field(ge=0)] = 810949


class KeeperConfig(StrictModel):
    """The keeper's parameters.

    Attributes
    ----------
    confirmations : int, blocks that must hold a transaction (its own included) before it counts as final, >= 1
    stuck_after_blocks : int, blocks after sending without a receipt before the transaction is replaced, >= 1
    fee_bump_bps : int, the raise of both the max fee and the tip in a replacement, bps (>= 1250, i.e. 12.5%:
        geth and anvil refuse less than 10%, others 12.5%)
    priority_fee_gwei : float, the least tip offered, gwei per gas (all of it when the history gives none)
    fee_history_blocks : int, blocks of ``eth_feeHistory`` whose median tip is offered when above
        ``priority_fee_gwei``; 0 always offers ``priority_fee_gwei``
    fee_history_percentile : float, the percentile of each block's tips read from the history, in [0, 100]
    max_fee_gwei : float or None, the most ever offered per gas, gwei (None: no cap)
    gas_limit_margin : float, gas limit sent over the node's estimate, >= 1
    risk_aversion_per_usd : float, absolute risk aversion ``gamma`` pricing the risk removed, per USD, > 0
    horizon_hours : float, how long an unhedged excess would be carried, hours, > 0
    include_swap_fee : bool, count the pool's fee on the trade as a cost
    max_out_of_band_s : int or None, a vault out of band this long is rebalanced whatever the cost, seconds
    max_batch : int, vaults per ``rebalance_many`` transaction, 1 to 64
    slippage_bps : int or None, the worst pool price a single rebalance accepts against the oracle, bps
        (None: the vault's own ``max_slippage_bps``)
    poll_interval_s : float, seconds between ``eth_blockNumber`` polls in ``run``, > 0
    l2 : OpStackFeeConfig or None, add an OP-stack L1 data fee to every transaction's cost
    """

    confirmations: Annotated[int, pydantic.Field(ge=1)] = 1
    stuck_after_blocks: Annotated[int, pydantic.Field(ge=1)] = 3
    fee_bump_bps: Annotated[int, pydantic.Field(ge=1250, le=BPS)] = 1250
    priority_fee_gwei: Annotated[float, pydantic.Field(ge=0.0)] = 1.0
    fee_history_blocks: Annotated[int, pydantic.Field(ge=0, le=1024)] = 5
    fee_history_percentile: Annotated[float, pydantic.Field(ge=0.0, le=100.0)] = 50.0
    max_fee_gwei: Annotated[float, pydantic.Field(gt=0.0)] | None = None
    gas_limit_margin: Annotated[float, pydantic.Field(ge=1.0)] = 1.25
    risk_aversion_per_usd: Annotated[float, pydantic.Field(gt=0.0)] = 1e-4
    horizon_hours: Annotated[float, pydantic.Field(gt=0.0)] = 24.0
    include_swap_fee: bool = True
    max_out_of_band_s: Annotated[int, pydantic.Field(ge=0)] | None = None
    max_batch: Annotated[int, pydantic.Field(ge=1, le=MAX_BATCH)] = MAX_BATCH
    slippage_bps: Annotated[int, pydantic.Field(ge=0, lt=BPS)] | None = None
    poll_interval_s: Annotated[float, pydantic.Field(gt=0.0)] = 0.5
    l2: OpStackFeeConfig | None = None

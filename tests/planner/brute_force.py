"""Candidate and request builders, and the brute-force planner the MILP is checked against.

``brute_force`` enumerates every lot vector in a box, keeps those that respect the
position limits, minimum sizes and margin, and ranks them lexicographically by
shortfall (in scales) and cost, using only the candidates' own formulas and the
request's ``excess``: nothing from the formulation or the solver.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

import numpy as np

from hedgekeeper.planner import Candidate, PlanRequest
from hedgekeeper.planner.request import INSIDE_SLACK
from hedgekeeper.policy.decision import Greek

DELTA, GAMMA, VEGA = Greek.DELTA_COIN, Greek.GAMMA_USD_PER_PCT, Greek.VEGA_USD_PER_VOL_PT
WEIGHT = Greek.WEIGHT


def perpetual(
    instrument_id: str = "BTC-PERPETUAL.DERIBIT", *, cost_fraction: float = 0.0005, **fields: object
) -> Candidate:
    """Return Deribit's BTC perpetual at 100,000 USD: 10 USD of face, 1e-4 BTC of delta."""
    defaults: dict[str, object] = {
        "sensitivities": {DELTA: 1e-4}, "price_usd": 10.0, "lot_size": 1.0
    }
    return Candidate(
        instrument_id=instrument_id, cost_fraction=cost_fraction, **{**defaults, **fields}
    )


def option(
    instrument_id: str, *, delta: float, gamma: float, vega: float, **fields: object
) -> Candidate:
    """Return a BTC option, 1 BTC per contract in lots of 0.1, priced 5,000 USD, 30 bps to trade."""
    defaults: dict[str, object] = {
        "price_usd": 5_000.0, "cost_fraction": 0.003, "lot_size": 0.1, "min_size": 0.1
    }
    sensitivities = {DELTA: delta, GAMMA: gamma, VEGA: vega}
    return Candidate(
        instrument_id=instrument_id, sensitivities=sensitivities, **{**defaults, **fields}
    )


def delta_request(**fields: object) -> PlanRequest:
    """Return a BTC delta of 3.4 against a band of ±2.5 with the perpetual, ``fields`` replaced."""
    defaults: dict[str, object] = {
        "greeks": {DELTA: 3.4}, "goal": {DELTA: (-2.5, 2.5)}, "candidates": [perpetual()]
    }
    return PlanRequest(**{**defaults, **fields})


@dataclass(frozen=True)
class BruteForce:
    """The best lot vector of a box, its shortfall (sum of |excess| / scale) and its cost, USD."""

    lots: np.ndarray
    shortfall: float
    cost_usd: float


def admissible(request: PlanRequest, lots: np.ndarray) -> np.ndarray:
    """Return which rows of ``lots`` respect the limits, minimum sizes and margin."""
    ok = np.ones(len(lots), dtype=bool)
    margin_change = np.zeros(len(lots))
    for column, candidate in enumerate(request.candidates):
        contracts = lots[:, column] * candidate.lot_size
        after = candidate.position + contracts
        eps = 1e-9 * max(1.0, abs(candidate.position))
        ok &= after >= min(candidate.min_position, candidate.position) - eps
        ok &= after <= max(candidate.max_position, candidate.position) + eps
        ok &= (lots[:, column] == 0) | (np.abs(contracts) >= candidate.min_size - 1e-9)
        before = candidate.initial_margin_usd(candidate.position)
        margin_change += candidate.initial_margin_usd(after) - before
    if math.isfinite(request.margin_available_usd):
        ok &= margin_change <= max(request.margin_available_usd, 0.0) + 1e-9
    return ok


def shortfall_and_cost(request: PlanRequest, lots: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Return the shortfall in scales and the cost in USD of each row of ``lots``."""
    contracts = lots * np.array([candidate.lot_size for candidate in request.candidates])
    shortfall = np.zeros(len(lots))
    for greek in request.constrained_greeks:
        values = request.greeks[greek] + contracts @ request.sensitivity_matrix([greek])[0]
        shortfall += np.abs(request.excess(greek, values)) / request.scale[greek]
    cost = np.zeros(len(lots))
    for column, candidate in enumerate(request.candidates):
        fees, impact = candidate.trade_cost_usd(contracts[:, column])
        cost += fees + impact
    return shortfall, cost


def brute_force(request: PlanRequest, lot_bound: int) -> BruteForce:
    """Return the least (shortfall, then cost) over lots in ``[-lot_bound, lot_bound]``."""
    count = len(request.candidates)
    each = range(-lot_bound, lot_bound + 1)
    box = np.array(list(itertools.product(each, repeat=count)), dtype=np.float64).reshape(-1, count)
    lots = box[admissible(request, box)]
    shortfall, cost = shortfall_and_cost(request, lots)
    least = shortfall.min()
    near = shortfall <= least + INSIDE_SLACK * max(1.0, least)
    best = np.flatnonzero(near)[np.argmin(cost[near])]
    return BruteForce(lots[best], float(shortfall[best]), float(cost[best]))


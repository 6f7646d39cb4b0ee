"""Hybrid policies: act when any, or all, of several policies would act.

The combined decision keeps every member's reasons, in member order, after one
line saying how many members fired. When it acts, its goal is the intersection of
the goals of the members that fired (each contains the targets, so it is never
empty), it is forced if any of them is, and its cost and benefit estimates are the
largest of theirs.
"""

from __future__ import annotations

from dataclasses import dataclass

from hedgekeeper.policy.base import Policy, decision_for, intersect_goals
from hedgekeeper.policy.decision import Decision, PolicyInput
from hedgekeeper.policy.quiet import Quiet, RiskCells, all_quiet, any_quiet


def _combine(state: PolicyInput, members: tuple[Decision, ...], act: bool, mode: str) -> Decision:
    fired = tuple(member for member in members if member.act)
    names = ",".join(member.trigger for member in fired)
    summary = f"{mode}-of: {len(fired)} of {len(members)} members fired" + (f" ({names})" if fired else "")
    reasons = (summary,) + tuple(reason for member in members for reason in member.reasons)
    if not act:
        return decision_for(state, act=False, reasons=reasons)
    return decision_for(
        state,
        act=True,
        trigger=f"{mode}({names})",
        reasons=reasons,
        goal=intersect_goals(member.goal for member in fired),
        forced=any(member.forced for member in fired),
        expected_cost_usd=max(member.expected_cost_usd for member in fired),
        expected_benefit_usd=max(member.expected_benefit_usd for member in fired),
    )


@dataclass(frozen=True, slots=True)
class AnyOf:
    """Act when at least one of ``policies`` acts; trigger ``"any(threshold,time)"``.

    Parameters
    ----------
    policies : tuple of Policy, at least one

    Examples
    --------
    >>> from hedgekeeper.policy.decision import RiskSnapshot
    >>> from hedgekeeper.policy.risk_profile import load_risk_profile
    >>> from hedgekeeper.policy.triggers import ThresholdPolicy, TimePolicy
    >>> profile = load_risk_profile({"BTC": {"delta_coin": {"target": 0.0, "width": 2.5}}})
    >>> policy = AnyOf((ThresholdPolicy(profile=profile, hedge_to="edge"),
    ...                 TimePolicy(profile=profile, hedge_to="target", interval_ns=3_600_000_000_000)))
    >>> decision = policy.decide(PolicyInput(RiskSnapshot(0, "BTC", 100000.0, 3.4, 0.0, 0.0, 0.34, 1.0)))
    >>> decision.trigger, decision.goal
    ('any(threshold,time)', {<Greek.DELTA_COIN: 'delta_coin'>: (0.0, 0.0)})
    """

    policies: tuple[Policy, ...]

    def decide(self, state: PolicyInput) -> Decision:
        """Return a decision acting when any member acts, with every member's reasons."""
        members = tuple(policy.decide(state) for policy in self.policies)
        return _combine(state, members, any(member.act for member in members), "any")

    def quiet(self, state: PolicyInput, cells: RiskCells) -> Quiet | None:
        """Return where every member is quiet."""
        return all_quiet(policy.quiet(state, cells) for policy in self.policies)


@dataclass(frozen=True, slots=True)
class AllOf:
    """Act only when every one of ``policies`` acts; trigger ``"all(threshold,oracle_deviation)"``.

    Parameters
    ----------
    policies : tuple of Policy, at least one
    """

    policies: tuple[Policy, ...]

    def decide(self, state: PolicyInput) -> Decision:
        """Return a decision acting when all members act, with every member's reasons."""
        members = tuple(policy.decide(state) for policy in self.policies)
        return _combine(state, members, all(member.act for member in members), "all")

    def quiet(self, state: PolicyInput, cells: RiskCells) -> Quiet | None:
        """Return where at least one member is quiet."""
        return any_quiet(policy.quiet(state, cells) for policy in self.policies)

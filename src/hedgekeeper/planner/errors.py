"""The planner's errors: a malformed request, and a solver that returned nothing usable.

An unreachable goal is not an error: the planner then returns its best-effort plan
and reports what remains outside (``plan.py``).
"""

from __future__ import annotations

from hedgekeeper.errors import HedgekeeperError


class MalformedPlanRequest(HedgekeeperError, ValueError):
    """A plan request or candidate is malformed: NaN, a non-positive lot, an unknown Greek, ...

    The message names the candidate or field and the offending value.
    """


class PlannerFailed(HedgekeeperError):
    """The solver stopped without any usable solution (numerical trouble or time limit)."""

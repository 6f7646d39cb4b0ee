"""The gate's setting chosen on validation inside the training period, as saved with its model.

``ml/selection.py`` chooses, per policy family, the label horizon and the defer
probability (a ``Candidate``) on validation blocks of the training period;
``GateChoice`` is what it chose, every candidate's validation score and the
settings it ran with. ``ml.pipeline.train`` writes the choices into the saved
model's ``settings["choices"]`` (one plain table per family: numbers, strings,
lists, so that a file outlives these classes), and ``ml.pipeline.evaluate`` reads
back the one of its family and judges the gate at that setting on the test period.

A model saved without a choice for the family (written before the choice was saved,
or by ``ml.pipeline.train`` alone) is refused with ``ModelWithoutChoice``: there is
no default horizon or probability to judge it at without tuning on the test period.

When no candidate saves anything on validation (every score 1, or NaN), the choice
says so (``saves`` is False) and the rule of ``ml.selection.choose`` still names one:
the highest defer probability (the fewest deferrals), then the shortest horizon.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from hedgekeeper.ml.model import ModelMismatch, SavedModel

CHOICES_KEY = "choices"  # the saved model's settings entry: family -> GateChoice.table()


class ModelWithoutChoice(ModelMismatch):
    """A saved model carries no horizon and defer probability chosen on validation for the family judged."""


@dataclass(frozen=True, order=True)
class Candidate:
    """One setting of the gate to choose: the label horizon (steps) and the defer probability."""

    horizon_steps: int
    defer_probability: float

    @property
    def label(self) -> str:
        """Return ``h<steps>-p<probability>``."""
        return f"h{self.horizon_steps}-p{self.defer_probability:g}"


@dataclass(frozen=True)
class Sweep:
    """A policy family's settings: static ones, and those that also run gated.

    Parameters are band half-widths (coin) for ``threshold``, risk aversions (per USD)
    for ``whalley_wilmott``.
    """

    family: Literal["threshold", "whalley_wilmott"]
    static_parameters: tuple[float, ...]
    gated_parameters: tuple[float, ...]


@dataclass(frozen=True)
class GateChoice:
    """What the validation blocks chose for one family, and how.

    Attributes
    ----------
    sweep : Sweep, the family and the settings every candidate ran with
    chosen : Candidate, the lowest score (ties: the higher probability, then the shorter horizon)
    scores : mapping from every candidate to its cost relative to the static frontier at equal
        or lower hedging error, on validation (1 = no saving, 0.8 = 20% saved)
    blocks : the validation blocks ``(start_ns, stop_ns)``, ns since the epoch
    first_fraction : float, the training period's first part that only trains (of its time)
    embargo_s : float, gap between a block's training labels and its start, seconds
    start_hedged : bool, whether each validation run started holding the book's hedge
    """

    sweep: Sweep
    chosen: Candidate
    scores: Mapping[Candidate, float]
    blocks: tuple[tuple[int, int], ...]
    first_fraction: float
    embargo_s: float
    start_hedged: bool

    @property
    def family(self) -> str:
        """Return the policy family chosen for."""
        return self.sweep.family

    @property
    def saves(self) -> bool:
        """Return whether the chosen candidate saves anything on validation (score below 1)."""
        return self.scores[self.chosen] < 1.0

    def table(self) -> dict[str, Any]:
        """Return the choice as plain numbers, strings and lists (what the model file keeps)."""
        return {
            "family": self.family,
            "static_parameters": list(self.sweep.static_parameters),
            "gated_parameters": list(self.sweep.gated_parameters),
            "horizon_steps": self.chosen.horizon_steps,
            "defer_probability": self.chosen.defer_probability,
            "saves": self.saves,
            "scores": [{"horizon_steps": c.horizon_steps, "defer_probability": c.defer_probability, "score": s}
                       for c, s in sorted(self.scores.items())],
            "horizons_steps": sorted({c.horizon_steps for c in self.scores}),
            "defer_probabilities": sorted({c.defer_probability for c in self.scores}),
            "n_folds": len(self.blocks),
            "blocks_ns": [list(block) for block in self.blocks],
            "first_fraction": self.first_fraction,
            "embargo_s": self.embargo_s,
            "start_hedged": self.start_hedged,
        }

    @classmethod
    def from_table(cls, table: Mapping[str, Any]) -> GateChoice:
        """Return the choice a model file keeps (``table``'s inverse)."""
        return cls(
            sweep=Sweep(table["family"], tuple(table["static_parameters"]), tuple(table["gated_parameters"])),
            chosen=Candidate(table["horizon_steps"], table["defer_probability"]),
            scores={Candidate(row["horizon_steps"], row["defer_probability"]): row["score"]
                    for row in table["scores"]},
            blocks=tuple((int(start), int(stop)) for start, stop in table["blocks_ns"]),
            first_fraction=table["first_fraction"], embargo_s=table["embargo_s"],
            start_hedged=table["start_hedged"])

    def lines(self) -> list[str]:
        """Return each candidate's validation score as text, the chosen one marked."""
        lines = [f"  {self.family}: cost relative to the static frontier at equal or lower hedging error, "
                 f"on {len(self.blocks)} validation blocks of the training period (1 = no saving)"]
        for candidate, score in sorted(self.scores.items()):
            mark = "   <- chosen" if candidate == self.chosen else ""
            lines.append(f"    horizon {candidate.horizon_steps:>3d} steps, defer probability "
                         f"{candidate.defer_probability:<5g} {score:>7.3f}{mark}")
        if not self.saves:
            lines.append("    no candidate saves anything on validation: the gate would stay off; judged anyway "
                         "at the tie-break (highest defer probability, then shortest horizon)")
        return lines


def with_choices(settings: Mapping[str, Any], choices: Sequence[GateChoice]) -> dict[str, Any]:
    """Return a saved model's ``settings`` with ``choices`` recorded, one per family."""
    return {**settings, CHOICES_KEY: {choice.family: choice.table() for choice in choices}}


def saved_choice(saved: SavedModel, family: str, path: str | Path) -> GateChoice:
    """Return the choice a saved model (read from ``path``) carries for ``family``.

    Raises
    ------
    ModelWithoutChoice
        If the model carries no choice for ``family``, naming the families it has.
    """
    choices = saved.settings.get(CHOICES_KEY, {})
    if family not in choices:
        has = f"choices for {sorted(choices)} only" if choices else "no choice of horizon and defer probability"
        raise ModelWithoutChoice(
            f"model {path} carries {has}, none for {family} (trained before `hedgekeeper train` chose them on "
            f"validation, or for another family): run `hedgekeeper train FILE` again")
    return GateChoice.from_table(choices[family])


"""Defer labels on crafted paths whose answer is worked out by hand."""

from __future__ import annotations

import pytest

from hedgekeeper.ml.labels import defer_labels

BAND = ([-1.0], [1.0])


def test_a_spike_that_reverts_is_labelled_defer() -> None:
    # delta 1.5 outside +-1, back to 0.3 after two steps: hedging now pays for 0.5 coin
    # and then for 0.2 more on the way back (0.3 - 0.5 = -0.2 inside, so nothing): cost 0.05.
    book = [1.5, 1.2, 0.3]
    spot = [100.0, 100.0, 100.0]
    for kind in ("value", "persisted"):
        labels, gain, known = defer_labels([0], [0.0], *BAND, book, spot, 2, 0.001, 1e-3, kind)
        assert labels.tolist() == [1] and known.tolist() == [True]
    assert gain[0] == pytest.approx(0.001 * 100.0 * 0.5)


def test_a_move_that_persists_is_labelled_hedge_now() -> None:
    # delta keeps growing: 1.5 then 2.5. Now: 0.5 coin then 1.0 more; wait: 1.5 coin later, plus the risk.
    book, spot = [1.5, 2.0, 2.5], [100.0, 101.0, 102.0]
    labels, gain, _ = defer_labels([0], [0.0], *BAND, book, spot, 2, 0.001, 1e-3, "value")
    risk = 0.5 * 1e-3 * 0.5**2 * (1.0 + 1.0)
    expected = 0.001 * (100.0 * 0.5 + 102.0 * 1.0) - (0.001 * 102.0 * 1.5 + risk)
    assert gain[0] == pytest.approx(expected)
    assert labels.tolist() == [0]
    assert defer_labels([0], [0.0], *BAND, book, spot, 2, 0.001, 1e-3, "persisted")[0].tolist() == [0]


def test_carrying_risk_can_outweigh_the_cost_saved_by_a_reversion() -> None:
    # Back inside after a violent round trip: the variance carried costs more than the trades saved.
    # Hedging now sells 2 coin, then the delta falls to 0 - 2 = -2 and 1 coin is bought back.
    book, spot = [3.0, 0.0], [100.0, 150.0]
    value, gain, _ = defer_labels([0], [0.0], *BAND, book, spot, 1, 0.0005, 1e-2, "value")
    assert gain[0] == pytest.approx(0.0005 * (100.0 * 2.0 + 150.0 * 1.0) - 0.5 * 1e-2 * 2.0**2 * 50.0**2)
    assert value.tolist() == [0]
    assert defer_labels([0], [0.0], *BAND, book, spot, 1, 0.0005, 1e-2, "persisted")[0].tolist() == [1]


def test_the_hedge_held_shifts_the_delta_path() -> None:
    # Unhedged book delta 3.5 with 2 coin of hedge against it (-2): the book is at 1.5.
    labels, _, _ = defer_labels([0], [-2.0], *BAND, [3.5, 2.1], [100.0, 100.0], 1, 0.001, 0.0, "persisted")
    assert labels.tolist() == [1]


def test_decisions_whose_horizon_passes_the_end_are_unknown() -> None:
    labels, gain, known = defer_labels([0, 1], [0.0, 0.0], [-1.0, -1.0], [1.0, 1.0], [1.5, 0.2], [1.0, 1.0],
                                       1, 0.001, 0.0)
    assert known.tolist() == [True, False]
    assert labels[1] == 0 and gain[1] == 0.0

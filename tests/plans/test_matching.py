"""Matching new communities to old ones by shared households; naming fresh ones.

Six sites, old labels on top, new labels below, households under each::

    old  A  A  A  B  B  C
    new  x  x  y  y  y  z
    h    3  3  1  2  2  5
"""

from __future__ import annotations

import numpy as np

from planning.plans.matching import match_by_households
from planning.plans.numbering import fresh_new_ids, fresh_part_ids

OLD = np.array(["A", "A", "A", "B", "B", "C"], dtype=object)
NEW = np.array(["x", "x", "y", "y", "y", "z"], dtype=object)
HOUSEHOLDS = np.array([3, 3, 1, 2, 2, 5], dtype=float)


def test_pairs_are_taken_largest_overlap_first_each_label_once():
    matching = match_by_households(NEW, OLD, HOUSEHOLDS)
    assert matching.pairs == (("x", "A", 6.0), ("z", "C", 5.0), ("y", "B", 4.0))
    assert matching.old_of == {"x": "A", "z": "C", "y": "B"}
    assert matching.unmatched_old == []


def test_a_new_label_without_a_free_old_one_keeps_its_largest_overlap():
    # x takes A and B's sites, y only one site of A: A goes to x, y is left without a match
    new = np.array(["x", "x", "y", "x", "x", "z"], dtype=object)
    matching = match_by_households(new, OLD, HOUSEHOLDS)
    assert matching.old_of == {"x": "A", "z": "C"}
    assert matching.largest_old["y"] == "A"
    assert matching.olds_of("x") == ["A", "B"]
    assert matching.unmatched_old == ["B"]


def test_sites_break_ties_between_equal_households():
    # x shares 4 households with A in one site and 4 with B in two sites
    old = np.array(["A", "B", "B"], dtype=object)
    new = np.array(["x", "x", "x"], dtype=object)
    households = np.array([4, 2, 2], dtype=float)
    assert match_by_households(new, old, households).old_of == {"x": "A"}
    assert match_by_households(new, old, households, sites_break_ties=True).old_of == {"x": "B"}


def test_fresh_part_ids_skip_the_taken_ones():
    assert fresh_part_ids("C1", "一社", 2, taken={"C1", "C1-2"}) == [
        ("C1-3", "一社-3"),
        ("C1-4", "一社-4"),
    ]


def test_fresh_new_ids_skip_the_taken_ones():
    assert fresh_new_ids(2, taken={"NEW001"}) == [("NEW002", "新社区2"), ("NEW003", "新社区3")]

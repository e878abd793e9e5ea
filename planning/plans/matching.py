"""Which new community (or grid) is which old one: a one-to-one matching by shared households.

Every site has an old and a new label. The pairs (new, old) are taken largest overlap first
(households; then, when asked, sites; then the old label, then the new one, both ascending),
each new and each old label at most once. A redrawn community keeps the id of the old one it
is matched to; a plan compared with another counts the households whose community is not the
match of their old one.
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass

import numpy as np
import pandas as pd

__all__ = ["Matching", "match_by_households"]


@dataclass(frozen=True, eq=False)
class Matching:
    """The outcome of :func:`match_by_households`.

    Attributes
    ----------
    overlap
        Every (``new``, ``old``) pair that shares a site, with the ``households`` (and
        ``sites`` when they break ties) they share, largest overlap first.
    pairs
        The one-to-one matching as (new, old, households shared), largest overlap first.
    """

    overlap: pd.DataFrame
    pairs: tuple[tuple[Hashable, Hashable, float], ...]

    @property
    def old_of(self) -> dict[Hashable, Hashable]:
        """The matched old label of each matched new label."""
        return {new: old for new, old, _ in self.pairs}

    @property
    def largest_old(self) -> dict[Hashable, Hashable]:
        """The old label each new label shares most with (matched or not)."""
        first = self.overlap.drop_duplicates("new")
        return dict(zip(first["new"].tolist(), first["old"].tolist(), strict=True))

    def olds_of(self, new: Hashable) -> list[Hashable]:
        """Every old label that shares a site with ``new``, largest overlap first."""
        return self.overlap.loc[self.overlap["new"] == new, "old"].tolist()

    @property
    def unmatched_old(self) -> list[Hashable]:
        """The old labels matched to no new one, ascending."""
        matched = {old for _, old, _ in self.pairs}
        return sorted(set(self.overlap["old"]) - matched)


def match_by_households(
    new: np.ndarray,
    old: np.ndarray,
    households: np.ndarray,
    *,
    sites_break_ties: bool = False,
) -> Matching:
    """Match new labels to old ones one-to-one, largest shared households first.

    Parameters
    ----------
    new, old
        The new and the old label of every site (any hashable, sortable values).
    households
        Households of every site.
    sites_break_ties
        Between pairs sharing as many households, the one sharing more sites first.

    Returns
    -------
    Matching
        The overlap table and the pairs.
    """
    data = {"new": new, "old": old, "households": households}
    shared = ["households"]
    if sites_break_ties:
        data["sites"] = 1
        shared.append("sites")
    table = pd.DataFrame(data).groupby(["new", "old"], as_index=False)[shared].sum()
    table = table.sort_values(
        [*shared, "old", "new"], ascending=[False] * len(shared) + [True, True]
    )
    pairs: list[tuple[Hashable, Hashable, float]] = []
    used_new: set[Hashable] = set()
    used_old: set[Hashable] = set()
    columns = (table["new"].tolist(), table["old"].tolist(), table["households"].tolist())
    for n, o, h in zip(*columns, strict=True):
        if n not in used_new and o not in used_old:
            pairs.append((n, o, h))
            used_new.add(n)
            used_old.add(o)
    return Matching(table.reset_index(drop=True), tuple(pairs))

"""How communities drawn anew are named: parts of a community and communities no existing one
covers.

A part split off a community takes the community's id and name with ``-N`` (``C007-2``,
``C007-3`` …, the first number not taken); a community drawn where none was takes ``NEW001``,
``新社区1`` … An id once taken is never given again.
"""

from __future__ import annotations

from collections.abc import Collection

__all__ = ["fresh_new_ids", "fresh_part_ids"]


def fresh_part_ids(
    base_id: str, base_name: str, count: int, *, taken: Collection[str]
) -> list[tuple[str, str]]:
    """``count`` new (id, name) pairs for parts of a community: ``<id>-2``, ``<id>-3`` …

    Parameters
    ----------
    base_id, base_name
        The id and name of the community the parts come from.
    count
        How many pairs.
    taken
        Ids that may not be given (every id of the plan, retired ones included).

    Returns
    -------
    list of (str, str)
        The pairs, each with the smallest number ≥ 2 whose id is not taken.
    """
    out: list[tuple[str, str]] = []
    j = 2
    while len(out) < count:
        candidate = f"{base_id}-{j}"
        if candidate not in taken:
            out.append((candidate, f"{base_name}-{j}"))
        j += 1
    return out


def fresh_new_ids(count: int, *, taken: Collection[str]) -> list[tuple[str, str]]:
    """``count`` (id, name) pairs for communities no existing one covers: ``NEW001`` /
    ``新社区1``, ``NEW002`` / ``新社区2`` …, skipping the ids in ``taken``."""
    out: list[tuple[str, str]] = []
    seq = 1
    while len(out) < count:
        if f"NEW{seq:03d}" not in taken:
            out.append((f"NEW{seq:03d}", f"新社区{seq}"))
        seq += 1
    return out

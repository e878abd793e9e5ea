"""The parameters of a proposal: the one place their defaults, ranges and file keys live.

The command line (``--community-size`` …), the app's inputs and the files a plan is written
to (``summary.json`` ``parameters``, the project's scenarios) all derive theirs from
:class:`ProposeParams`: a default typed here is the default everywhere.

File keys are those written since the first release (``grid_size`` for the households of a
grid), so every plan folder and project written before still reads.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields

__all__ = ["FILE_KEYS", "RANGES", "ProposeParams", "Range"]


@dataclass(frozen=True)
class Range:
    """The values a parameter may take (both ends included)."""

    low: float
    high: float

    def __contains__(self, value: float) -> bool:
        return self.low <= value <= self.high


#: Field -> the key it is written under in summary.json and the project file.
FILE_KEYS: dict[str, str] = {
    "community_size": "community_size",
    "tolerance": "tolerance",
    "grid_households": "grid_size",
    "grid_tolerance": "grid_tolerance",
    "max_grids": "max_grids",
    "seed": "seed",
}

#: Field -> the values that make sense (a band of ±50% is already too wide to plan with).
RANGES: dict[str, Range] = {
    "community_size": Range(100, 50_000),
    "tolerance": Range(0.01, 0.5),
    "grid_households": Range(20, 5_000),
    "grid_tolerance": Range(0.01, 0.6),
    "max_grids": Range(1, 100),
    "seed": Range(0, 1_000_000),
}


@dataclass(frozen=True)
class ProposeParams:
    """Sizes, tolerances and seed of a proposal.

    Attributes
    ----------
    community_size
        Households a community aims at (2,500: STANDARDS.md, 社区规模).
    tolerance
        Half-width of the community band as a share of ``community_size``.
    grid_households
        Households a grid (网格) aims at (250).
    grid_tolerance
        Half-width of the grid band as a share of ``grid_households``.
    max_grids
        Most grids in one community.
    seed
        The only source of randomness.
    smooth_m
        Borders are straightened when drawn (kept for the project file; not a file key).
    """

    community_size: int = 2500
    tolerance: float = 0.10
    grid_households: int = 250
    grid_tolerance: float = 0.20
    max_grids: int = 10
    seed: int = 0
    smooth_m: float = 10.0

    @property
    def community_band(self) -> tuple[float, float]:
        return (self.community_size * (1 - self.tolerance),
                self.community_size * (1 + self.tolerance))

    @property
    def grid_band(self) -> tuple[float, float]:
        return (self.grid_households * (1 - self.grid_tolerance),
                self.grid_households * (1 + self.grid_tolerance))

    def to_dict(self) -> dict[str, float]:
        """The parameters under their file keys, in the order files have always had them."""
        return {key: getattr(self, name) for name, key in FILE_KEYS.items()}

    @classmethod
    def from_dict(cls, values: Mapping[str, object]) -> ProposeParams:
        """Parameters from file keys or field names, each as its field's type; missing, empty
        or unreadable ones take their default, keys that are not parameters are ignored (a
        summary holds more than its parameters)."""
        kinds: dict[str, type] = {f.name: type(f.default) for f in fields(cls)}
        by_key = {key: name for name, key in FILE_KEYS.items()}
        chosen = {}
        for key, value in values.items():
            name = by_key.get(key, key)
            if name not in kinds or value is None:
                continue
            try:
                chosen[name] = kinds[name](value)
            except (TypeError, ValueError):
                continue
        return cls(**chosen)

"""The parameters of a proposal: the one place their defaults, ranges and file keys live.

The command line (``--community-size`` …), the app's inputs and the files a plan is written
to (``summary.json`` ``parameters``, the project's scenarios) all derive theirs from
:class:`ProposeParams`: a default typed here is the default everywhere.

File keys are those written since the first release (``grid_size`` for the households of a
grid), so every plan folder and project written before still reads.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, fields

from geo.errors import PARAMETERS, Problem, ValidationError
from planning.records import Note

__all__ = ["FILE_KEYS", "RANGES", "SMALL_MARGIN_RANGE", "ProposeParams", "Range", "range_problem"]


@dataclass(frozen=True)
class Range:
    """The values a parameter may take (both ends included)."""

    low: float
    high: float

    def __contains__(self, value: float) -> bool:
        return self.low <= value <= self.high

    def __str__(self) -> str:
        return self.note().text("en")

    def note(self) -> Note:
        """The range as a message ("100 to 50000", "100 至 50000")."""
        return Note.of("params.range", low=self.low, high=self.high)


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

#: ``rebalance``'s small margin: merge communities below the band's lower edge by more than
#: this share of the target (0: every community below the band; 1: none).
SMALL_MARGIN_RANGE = Range(0.0, 1.0)


def range_problem(label: str | Note, value: object, allowed: Range) -> Problem | None:
    """The problem of one parameter value outside ``allowed`` (None: it is inside).

    Parameters
    ----------
    label : str | Note
        How the user names the parameter (``--community-size`` on the command line, a
        ``params.field`` word elsewhere; the problem's column is its English text).
    value : object
        The value given.
    allowed : Range
        The values that make sense.
    """
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        number = math.nan
    if number in allowed:
        return None
    code = "params.out_of_range" if math.isfinite(number) else "params.not_finite"
    return Problem.of(
        "error",
        PARAMETERS,
        Note.of(code, label=label, allowed=allowed.note(), value=str(value)),
        column=str(label),
    )


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
        return (
            self.community_size * (1 - self.tolerance),
            self.community_size * (1 + self.tolerance),
        )

    @property
    def grid_band(self) -> tuple[float, float]:
        return (
            self.grid_households * (1 - self.grid_tolerance),
            self.grid_households * (1 + self.grid_tolerance),
        )

    def problems(self, *, labels: Mapping[str, str] | None = None) -> list[Problem]:
        """Every problem of these parameters at once: each value against :data:`RANGES`
        (non-finite values included), then the bands against each other.

        Parameters
        ----------
        labels : Mapping[str, str] | None
            Field -> how the user names it (the command line passes ``--community-size`` …);
            a field not in it is named by its field name.

        Returns
        -------
        list[Problem]
            Errors naming the parameter, the value, the valid range and the fix; empty when
            the parameters can be planned with.
        """
        names: dict[str, str | Note] = {
            name: Note.of(f"params.field.{name}") for name in RANGES
        } | dict(labels or {})
        problems = [
            problem
            for name, allowed in RANGES.items()
            if (problem := range_problem(names[name], getattr(self, name), allowed)) is not None
        ]
        if not math.isfinite(self.smooth_m) or self.smooth_m < 0:
            problems.append(
                Problem.of(
                    "error",
                    PARAMETERS,
                    Note.of("params.smoothing", value=str(self.smooth_m)),
                    column="smooth_m",
                )
            )
        if problems:  # the bands below are only meaningful for values in range
            return problems
        grid_high, community_low = self.grid_band[1], self.community_band[0]
        if grid_high > community_low:
            grid, size = names["grid_households"], names["community_size"]
            problems.append(
                Problem.of(
                    "error",
                    PARAMETERS,
                    Note.of(
                        "params.grid_above_community",
                        grid_high=grid_high,
                        community_low=community_low,
                        grid=grid,
                        grid_households=self.grid_households,
                        grid_tolerance_label=names["grid_tolerance"],
                        grid_tolerance=self.grid_tolerance,
                        size=size,
                        community_size=self.community_size,
                        tolerance_label=names["tolerance"],
                        tolerance=self.tolerance,
                    ),
                    column=str(grid),
                )
            )
        return problems

    def validate(self, *, labels: Mapping[str, str] | None = None) -> ProposeParams:
        """These parameters, or a :class:`~geo.errors.ValidationError` with every problem
        of :meth:`problems`."""
        problems = self.problems(labels=labels)
        if problems:
            raise ValidationError(problems)
        return self

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

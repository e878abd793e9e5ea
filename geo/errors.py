"""The one exception family of the project, and the problem records validators collect.

Every error a user can cause is a subclass of :class:`PlanningInputError` (itself a
``ValueError``). A message names the input, what was expected, what was found, and the fix.
Validators collect every :class:`Problem` first and raise once with all of them
(:class:`ValidationError`); warnings travel in a :class:`ValidationReport` next to the data.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from geo.records import Message

__all__ = [
    "PARAMETERS",
    "PARTS",
    "ROWS_SHOWN",
    "CRSError",
    "GeometryError",
    "InfeasibleError",
    "InputFormatError",
    "PlanningInputError",
    "Problem",
    "ScenarioEditError",
    "StandardsError",
    "StandardsFileError",
    "ValidationError",
    "ValidationReport",
]

#: How many row numbers a problem lists before it only counts the rest.
ROWS_SHOWN = 5

#: The ``file`` of a problem with a parameter, not a file (shown as 参数 / parameters).
PARAMETERS = "parameters"

#: The parts of a problem a person reads, in the order they are shown.
PARTS = ("message", "expected", "found", "fix")


class PlanningInputError(ValueError):
    """Base of every error a user's input can cause.

    Raised with a :class:`~geo.records.Message`, it keeps it as ``record`` (to be shown in
    Chinese or English) and ``str(error)`` is its English text; raised with a plain string,
    ``record`` is None.
    """

    def __init__(self, message: str | Message = "") -> None:
        self.record = message if isinstance(message, Message) else None
        super().__init__(message.text("en") if isinstance(message, Message) else message)

    def text(self, lang: str) -> str:
        """The error in ``lang`` (its English string when it has no record)."""
        return self.record.text(lang) if self.record is not None else str(self)


class InputFormatError(PlanningInputError):
    """A file cannot be read at all: unknown format, empty, undecodable, missing columns."""


class CRSError(PlanningInputError):
    """A coordinate reference system is undeclared, unknown, or does not match."""


class GeometryError(PlanningInputError):
    """A geometry is of the wrong type or invalid beyond repair."""


class StandardsError(PlanningInputError):
    """A standards preset file is malformed."""


class ScenarioEditError(PlanningInputError):
    """An edit to a plan is refused (it would break a hard rule)."""


class InfeasibleError(PlanningInputError):
    """The rules cannot be met at all for the given input and parameters."""


@dataclass(frozen=True)
class Problem:
    """One problem found in an input, with where it is and how to fix it.

    ``rows`` holds the row numbers a person sees: in a table the spreadsheet row (the header
    is row 1, the first data row is 2, as Excel shows), in a spatial file the feature number
    from 1. All of them are kept; the message shows the first :data:`ROWS_SHOWN` and a count.

    A problem made with :meth:`of` is a record: ``record``'s code names a table of four
    templates (``message``, ``expected``, ``found``, ``fix``) over its values, and
    :meth:`rendered` renders each part in Chinese or English. Its ``message``, ``expected``,
    ``found`` and ``fix`` hold the English texts (what logs, ``summary.json`` and ``str``
    show, and :meth:`rendered` in English). A problem made from four strings has no record
    and reads the same in every language, unless it is given one for the other languages.
    """

    severity: str  # "error" or "warning"
    file: str
    message: str
    expected: str
    found: str
    fix: str
    column: str | None = None
    rows: tuple[int, ...] = field(default_factory=tuple)
    record: Message | None = None

    @classmethod
    def of(
        cls,
        severity: str,
        file: str,
        record: Message,
        *,
        column: str | None = None,
        rows: Iterable[int] = (),
    ) -> Problem:
        """The problem ``record`` (its code a table of ``message``/``expected``/``found``/
        ``fix`` templates) found in ``file``, at ``column`` and ``rows``."""
        english = {part: record.part(part).text("en") for part in PARTS}
        return cls(severity, file, **english, column=column, rows=tuple(rows), record=record)

    def rendered(self, part: str, lang: str) -> str:
        """One part of the problem (``message``, ``expected``, ``found`` or ``fix``) in
        ``lang``."""
        if part not in PARTS:
            raise ValueError(f"problem part {part!r}: expected one of {', '.join(PARTS)}")
        if self.record is None or lang == "en":
            return str(getattr(self, part))  # the English texts are the fields
        return self.record.part(part).text(lang)

    @property
    def is_error(self) -> bool:
        return self.severity == "error"

    def rows_text(self) -> str:
        if not self.rows:
            return ""
        shown = ", ".join(str(r) for r in self.rows[:ROWS_SHOWN])
        more = len(self.rows) - ROWS_SHOWN
        tail = f" and {more} more" if more > 0 else ""
        return f"rows {shown}{tail} ({len(self.rows)} in all)"

    def __str__(self) -> str:
        where = [self.file]
        if self.column:
            where.append(f"column '{self.column}'")
        if self.rows:
            where.append(self.rows_text())
        head = f"[{self.severity}] {': '.join(where)}: {self.message}"
        return (
            f"{head}\n    expected: {self.expected}\n    found: {self.found}\n    fix: {self.fix}"
        )

    def as_dict(self) -> dict:
        return {
            "severity": self.severity,
            "file": self.file,
            "column": self.column,
            "rows": list(self.rows[:ROWS_SHOWN]),
            "row_count": len(self.rows),
            "message": self.message,
            "expected": self.expected,
            "found": self.found,
            "fix": self.fix,
        }


@dataclass(frozen=True)
class ValidationReport:
    """Every problem found in one input, errors and warnings alike."""

    problems: tuple[Problem, ...] = ()

    @property
    def errors(self) -> tuple[Problem, ...]:
        return tuple(p for p in self.problems if p.is_error)

    @property
    def warnings(self) -> tuple[Problem, ...]:
        return tuple(p for p in self.problems if not p.is_error)

    @property
    def ok(self) -> bool:
        return not self.errors

    def merged(self, other: ValidationReport | Iterable[Problem]) -> ValidationReport:
        extra = other.problems if isinstance(other, ValidationReport) else tuple(other)
        return ValidationReport(self.problems + tuple(extra))

    def raise_if_errors(self) -> None:
        if self.errors:
            raise ValidationError(self.problems)

    def __str__(self) -> str:
        return "\n".join(str(p) for p in self.problems) or "no problems"


class ValidationError(PlanningInputError):
    """An input has errors; carries every problem found (errors and warnings)."""

    def __init__(self, problems: Sequence[Problem]):
        self.problems = tuple(problems)
        errors = [p for p in self.problems if p.is_error]
        files = sorted({p.file for p in self.problems})
        head = (
            f"{len(errors)} error(s) and {len(self.problems) - len(errors)} warning(s) "
            f"in {', '.join(files)}; the file was refused:"
        )
        super().__init__(head + "\n" + "\n".join(str(p) for p in self.problems))

    @property
    def report(self) -> ValidationReport:
        return ValidationReport(self.problems)


class StandardsFileError(StandardsError, ValidationError):
    """A standards file breaks the schema: every problem found, each naming its key path (a
    :class:`StandardsError` that lists its problems as a :class:`ValidationError` does)."""

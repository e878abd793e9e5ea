"""Facility-area, staff and funds standards: presets as cited data, and the rules that apply them.

A standard is a TOML file (schema in ``data/standards/README.md``); the presets shipped with the
tool live in ``data/standards/`` and a user's own file has the same schema. Every rule carries
its ``source`` and the ``citation`` it was read from, so a report can show where each number
comes from. :func:`load_standard` validates a file and reports every problem at once.

The rule functions are small and composable; each returns the figure and the arithmetic in
Chinese, e.g. ``"max(2500/100×40=1000, 最低1000)+200(文体活动阵地)=1200"``:

- :func:`required_area` = max(households / 100 × rate, minimum) + fixed extras;
- :func:`staff_required` = the largest of the staff rules, each rounded up;
- :func:`annual_funds` = one funding rule (per 100 households with yearly growth, tiers by
  community size, or per resident), plus party-member funds when the rule has them.
"""

from __future__ import annotations

import itertools
import math
import re
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path

from geo.errors import Problem, StandardsError, StandardsFileError
from planning.records import Note

__all__ = [
    "PRESET_DIR",
    "AreaExtra",
    "AreaRule",
    "FundsRule",
    "FundsTier",
    "GridRule",
    "NoteRule",
    "PersonsPerHousehold",
    "ResidentLevel",
    "RuleText",
    "StaffRule",
    "Standard",
    "annual_funds",
    "estimated_grids",
    "format_number",
    "list_presets",
    "load_standard",
    "required_area",
    "staff_required",
]

#: Where the presets shipped with the tool live.
PRESET_DIR = Path(__file__).resolve().parents[2] / "data" / "standards"

_FUNDS_KINDS = ("per_100_households", "tiers", "per_resident")
_EXTRA_PER = {"community": "每社区", "grid": "每网格"}


# --------------------------------------------------------------------------- data


@dataclass(frozen=True)
class PersonsPerHousehold:
    """Persons per household, to estimate residents where the data gives none."""

    value: float
    source: str
    citation: str
    note: str = ""


@dataclass(frozen=True)
class AreaExtra:
    """A fixed area added to the rate: ``m2`` per community or per grid."""

    label: str
    m2: float
    per: str  # "community" | "grid"
    source: str
    citation: str
    note: str = ""


@dataclass(frozen=True)
class AreaRule:
    """Area = max(households × rate, minimum) + extras.

    ``rate_m2`` is per ``rate_households`` households (100 for "每百户", 1 for "每户").
    """

    rate_m2: float
    rate_households: int
    minimum_m2: float
    source: str
    citation: str
    note: str = ""
    extras: tuple[AreaExtra, ...] = ()


@dataclass(frozen=True)
class GridRule:
    """How many households a grid (网格) holds, to estimate grids where a plan gives none."""

    households_per_grid: float
    source: str
    citation: str
    note: str = ""


@dataclass(frozen=True)
class StaffRule:
    """One staffing rule: per households or per 10,000 residents, with an optional floor."""

    source: str
    citation: str
    households_per_worker: float | None = None
    workers_per_10000_residents: float | None = None
    minimum_workers: int = 0
    note: str = ""


@dataclass(frozen=True)
class FundsTier:
    """A funds tier: communities of up to ``max_households`` (inclusive; None = no bound)."""

    yuan: float
    max_households: int | None = None


@dataclass(frozen=True)
class ResidentLevel:
    """Per-resident funds paid by one level of government (市级, 县区级 …)."""

    level: str
    yuan: float


@dataclass(frozen=True)
class FundsRule:
    """The one funding rule of a standard; ``kind`` is one of per_100_households, tiers,
    per_resident."""

    kind: str
    source: str
    citation: str
    note: str = ""
    yuan_per_100_households: float | None = None
    yearly_growth: float = 0.0
    base_year: int | None = None
    tiers: tuple[FundsTier, ...] = ()
    per_resident: tuple[ResidentLevel, ...] = ()
    per_party_member_yuan: float | None = None


@dataclass(frozen=True)
class NoteRule:
    """A cited requirement shown in the report but not computed (uses of space, size …)."""

    label: str
    source: str
    citation: str
    note: str = ""


@dataclass(frozen=True)
class RuleText:
    """One rule as a report lists it: topic, the rule in words, and where it comes from."""

    topic: str
    summary: str
    source: str
    citation: str
    note: str = ""


@dataclass(frozen=True)
class Standard:
    """A validated standard: the rules, each with its source and citation."""

    name: str
    title: str
    description: str
    area: AreaRule
    staff: tuple[StaffRule, ...] = ()
    funds: FundsRule | None = None
    persons_per_household: PersonsPerHousehold | None = None
    grids: GridRule | None = None
    notes: tuple[NoteRule, ...] = ()
    path: str = ""

    def rules(self) -> tuple[RuleText, ...]:
        """Every rule in words, in the order a report lists them."""
        return tuple(_rule_texts(self))


# --------------------------------------------------------------------------- loading


def list_presets() -> list[str]:
    """Names of the presets shipped in ``data/standards/``, sorted."""
    return sorted(p.stem for p in PRESET_DIR.glob("*.toml"))


def load_standard(name_or_path: str | Path | Standard) -> Standard:
    """Load a preset by name (``"beilun"``) or a user's TOML file by path.

    Parameters
    ----------
    name_or_path
        A preset name from :func:`list_presets`, a path to a ``.toml`` file, or a
        :class:`Standard` (returned as is).

    Raises
    ------
    StandardsError
        The name is unknown, the file cannot be read or parsed, or the file breaks the schema;
        a schema error lists every problem found, each with the file and the key path.
    """
    if isinstance(name_or_path, Standard):
        return name_or_path
    path = _resolve(name_or_path)
    label = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise StandardsError(Note.of("standards.not_utf8", label=label, reason=exc.reason)) from exc
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise StandardsError(_toml_refusal(label, exc)) from exc
    return _parse(data, label)


def _resolve(name_or_path: str | Path) -> Path:
    candidate = Path(name_or_path)
    looks_like_path = (
        isinstance(name_or_path, Path)
        or candidate.suffix.lower() == ".toml"
        or len(candidate.parts) > 1
    )
    if looks_like_path:
        if not candidate.is_file():
            raise StandardsError(
                Note.of("standards.no_file", path=str(candidate), presets=tuple(list_presets()))
            )
        return candidate
    preset = PRESET_DIR / f"{name_or_path}.toml"
    if not preset.is_file():
        raise StandardsError(
            Note.of(
                "standards.unknown_preset", name=str(name_or_path), presets=tuple(list_presets())
            )
        )
    return preset


class _Checker:
    """Collects schema problems for one file, each a record naming its key path."""

    def __init__(self, label: str):
        self.label = label
        self.problems: list[Problem] = []

    def add(self, record: Note) -> None:
        """The problem ``record`` (a ``standards.schema.*`` table with the key path as ``key``)."""
        self.problems.append(Problem.of("error", self.label, record))

    def is_list_of_tables(self, value: object, key: str, *, what: str) -> bool:
        """Whether ``value`` is a list (``[[key]]`` entries); adds the problem when not
        (``what``: the word, ``standards.word.<what>``, for one entry)."""
        if isinstance(value, list):
            return True
        self.add(
            Note.of(
                "standards.schema.not_list",
                key=key,
                found=_describe(value),
                what=Note.of(f"standards.word.{what}"),
            )
        )
        return False

    def table(
        self, value: object, key: str, *, required: tuple[str, ...], optional: tuple[str, ...]
    ) -> dict | None:
        if not isinstance(value, dict):
            self.add(Note.of("standards.schema.not_table", key=key, found=_describe(value)))
            return None
        for missing in (k for k in required if k not in value):
            where = _join(key, missing)
            if key:
                self.add(Note.of("standards.schema.missing", key=where, name=missing, table=key))
            else:
                self.add(Note.of("standards.schema.missing_top", key=where, name=missing))
        allowed = tuple(sorted(set(required) | set(optional)))
        for unknown in (k for k in value if k not in allowed):
            self.add(
                Note.of(
                    "standards.schema.unknown_key",
                    key=_join(key, unknown),
                    name=unknown,
                    allowed=allowed,
                )
            )
        return value

    def text(self, table: dict, key: str, path: str, *, required: bool = True) -> str:
        if key not in table:
            return ""
        value = table[key]
        if not isinstance(value, str) or (required and not value.strip()):
            self.add(
                Note.of("standards.schema.not_text", key=_join(path, key), found=_describe(value))
            )
            return ""
        return value.strip()

    def number(
        self,
        table: dict,
        key: str,
        path: str,
        *,
        positive: bool = False,
        integer: bool = False,
        below: float | None = None,
        default: float | None = None,
    ) -> float | None:
        if key not in table:
            return default
        value = table[key]
        problem = _number_problem(
            value, _join(path, key), positive=positive, integer=integer, below=below
        )
        if problem is None:
            return value
        self.add(problem)
        return default

    def cited(self, table: dict, path: str) -> tuple[str, str, str]:
        return (
            self.text(table, "source", path),
            self.text(table, "citation", path),
            self.text(table, "note", path, required=False),
        )


def _number_problem(
    value: object, key: str, *, positive: bool, integer: bool, below: float | None
) -> Note | None:
    """What is wrong with the number at ``key`` of the file (a ``standards.schema`` problem),
    or None when nothing is."""
    found = _describe(value)
    if isinstance(value, bool) or not isinstance(value, int | float):
        kind = Note.of("standards.word.whole_number" if integer else "standards.word.number")
        return Note.of("standards.schema.not_number", key=key, found=found, kind=kind)
    if integer and not isinstance(value, int):
        return Note.of("standards.schema.not_whole", key=key, found=found)
    if not math.isfinite(value) or value < 0 or (positive and value == 0):
        bound = Note.of("standards.word.above_zero" if positive else "standards.word.zero_or_more")
        if value < 0:
            return Note.of("standards.schema.negative", key=key, found=found, bound=bound)
        return Note.of("standards.schema.out_of_range", key=key, found=found, bound=bound)
    if below is not None and value >= below:
        return Note.of(
            "standards.schema.too_large", key=key, found=found, below=format_number(below)
        )
    return None


def _toml_refusal(label: str, error: tomllib.TOMLDecodeError) -> Note:
    """Why a file is not TOML: the parser's words, and where when it says (``… (at line 3,
    column 7)``, ``… (at end of document)``)."""
    text = str(error)
    if at := re.fullmatch(
        r"(?P<detail>.*) \(at line (?P<line>\d+), column (?P<column>\d+)\)", text
    ):
        return Note.of("standards.not_toml.at", label=label, **at.groupdict())
    if end := re.fullmatch(r"(?P<detail>.*) \(at end of document\)", text):
        return Note.of("standards.not_toml.at_end", label=label, **end.groupdict())
    return Note.of("standards.not_toml.other", label=label, detail=text)


_CITED_REQUIRED = ("source", "citation")
_CITED_OPTIONAL = ("note",)


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


#: What a problem found when there were none of the keys it needs.
_NEITHER = Note.of("standards.word.neither")
_NONE = Note.of("standards.word.none")

#: The types a TOML value can have, by their Python names (``standards.type.<name>``).
_TOML_TYPES = ("str", "int", "float", "bool", "datetime", "date", "time")


def _describe(value: object) -> Note:
    """A value of the file as a problem shows what it found: a table, a list, or the value
    and its type (``'200平方米' (str)``)."""
    if isinstance(value, dict):
        return Note.of("standards.word.table")
    if isinstance(value, list):
        return Note.of("standards.word.list")
    name = type(value).__name__
    kind = Note.of(f"standards.type.{name}") if name in _TOML_TYPES else name
    return Note.of("standards.word.value", value=repr(value), type=kind)


def _parse(data: dict, label: str) -> Standard:
    check = _Checker(label)
    top = check.table(
        data,
        "",
        required=("name", "title", "description", "area"),
        optional=("persons_per_household", "grids", "staff", "funds", "notes"),
    )
    assert top is not None  # tomllib always returns a table
    name = check.text(top, "name", "")
    title = check.text(top, "title", "")
    description = check.text(top, "description", "")

    area = _parse_area(check, top["area"]) if "area" in top else None
    grids = _parse_grids(check, top["grids"]) if "grids" in top else None
    pph = (
        _parse_persons(check, top["persons_per_household"])
        if "persons_per_household" in top
        else None
    )
    staff = _parse_staff(check, top.get("staff", []))
    funds = _parse_funds(check, top["funds"]) if "funds" in top else None
    notes = _parse_notes(check, top.get("notes", []))

    if area is not None and any(e.per == "grid" for e in area.extras) and "grids" not in top:
        check.add(Note.of("standards.schema.grids_missing", key="grids"))
    needs_residents = any(s.workers_per_10000_residents is not None for s in staff) or (
        funds is not None and funds.kind == "per_resident"
    )
    if needs_residents and "persons_per_household" not in top:
        check.add(Note.of("standards.schema.persons_missing", key="persons_per_household"))
    if check.problems:
        raise StandardsFileError(check.problems)
    assert area is not None
    return Standard(
        name=name,
        title=title,
        description=description,
        area=area,
        staff=staff,
        funds=funds,
        persons_per_household=pph,
        grids=grids,
        notes=notes,
        path=label,
    )


def _parse_area(check: _Checker, value: object) -> AreaRule | None:
    table = check.table(
        value,
        "area",
        required=_CITED_REQUIRED,
        optional=(
            "rate_m2_per_100_households",
            "rate_m2_per_household",
            "minimum_m2",
            "extras",
            *_CITED_OPTIONAL,
        ),
    )
    if table is None:
        return None
    rates = [k for k in ("rate_m2_per_100_households", "rate_m2_per_household") if k in table]
    if len(rates) != 1:
        check.add(
            Note.of("standards.schema.both_rates", key="area", found=tuple(rates))
            if rates
            else Note.of("standards.schema.one_rate", key="area", found=_NEITHER)
        )
    rate_key = rates[0] if rates else "rate_m2_per_100_households"
    rate = check.number(table, rate_key, "area", positive=True)
    minimum = check.number(table, "minimum_m2", "area", default=0.0)
    source, citation, note = check.cited(table, "area")
    extras = _parse_area_extras(check, table.get("extras", []))
    return AreaRule(
        rate_m2=rate or 0.0,
        rate_households=100 if rate_key == "rate_m2_per_100_households" else 1,
        minimum_m2=minimum or 0.0,
        source=source,
        citation=citation,
        note=note,
        extras=extras,
    )


def _parse_area_extras(check: _Checker, value: object) -> tuple[AreaExtra, ...]:
    """``[[area.extras]]``: fixed areas added per community or per grid."""
    if not check.is_list_of_tables(value, "area.extras", what="extra"):
        return ()
    extras = []
    for i, raw in enumerate(value):
        path = f"area.extras[{i}]"
        item = check.table(
            raw,
            path,
            required=("label", "m2", "per", *_CITED_REQUIRED),
            optional=_CITED_OPTIONAL,
        )
        if item is None:
            continue
        m2 = check.number(item, "m2", path, positive=True)
        per = item.get("per")
        if "per" in item and per not in _EXTRA_PER:
            check.add(
                Note.of("standards.schema.unknown_unit", key=f"{path}.per", found=_describe(per))
            )
        extra_source, extra_citation, extra_note = check.cited(item, path)
        extras.append(
            AreaExtra(
                label=check.text(item, "label", path),
                m2=m2 or 0.0,
                per=per if per in _EXTRA_PER else "community",
                source=extra_source,
                citation=extra_citation,
                note=extra_note,
            )
        )
    return tuple(extras)


def _parse_grids(check: _Checker, value: object) -> GridRule | None:
    table = check.table(
        value,
        "grids",
        required=("households_per_grid", *_CITED_REQUIRED),
        optional=_CITED_OPTIONAL,
    )
    if table is None:
        return None
    per_grid = check.number(table, "households_per_grid", "grids", positive=True)
    source, citation, note = check.cited(table, "grids")
    return GridRule(per_grid or 1.0, source, citation, note)


def _parse_persons(check: _Checker, value: object) -> PersonsPerHousehold | None:
    path = "persons_per_household"
    table = check.table(value, path, required=("value", *_CITED_REQUIRED), optional=_CITED_OPTIONAL)
    if table is None:
        return None
    persons = check.number(table, "value", path, positive=True)
    source, citation, note = check.cited(table, path)
    return PersonsPerHousehold(persons or 1.0, source, citation, note)


def _parse_staff(check: _Checker, value: object) -> tuple[StaffRule, ...]:
    if not check.is_list_of_tables(value, "staff", what="staffing_rule"):
        return ()
    rules = []
    for i, raw in enumerate(value):
        path = f"staff[{i}]"
        table = check.table(
            raw,
            path,
            required=_CITED_REQUIRED,
            optional=(
                "households_per_worker",
                "workers_per_10000_residents",
                "minimum_workers",
                *_CITED_OPTIONAL,
            ),
        )
        if table is None:
            continue
        bases = [k for k in ("households_per_worker", "workers_per_10000_residents") if k in table]
        if len(bases) != 1:
            check.add(
                Note.of("standards.schema.both_bases", key=path, found=tuple(bases))
                if bases
                else Note.of("standards.schema.one_basis", key=path, found=_NEITHER)
            )
        source, citation, note = check.cited(table, path)
        rules.append(
            StaffRule(
                source=source,
                citation=citation,
                households_per_worker=check.number(
                    table, "households_per_worker", path, positive=True
                ),
                workers_per_10000_residents=check.number(
                    table, "workers_per_10000_residents", path, positive=True
                ),
                minimum_workers=int(
                    check.number(table, "minimum_workers", path, integer=True, default=0) or 0
                ),
                note=note,
            )
        )
    return tuple(rules)


def _parse_funds(check: _Checker, value: object) -> FundsRule | None:
    table = check.table(
        value,
        "funds",
        required=_CITED_REQUIRED,
        optional=(*_FUNDS_KINDS, "per_party_member_yuan", *_CITED_OPTIONAL),
    )
    if table is None:
        return None
    kinds = [k for k in _FUNDS_KINDS if k in table]
    source, citation, note = check.cited(table, "funds")
    party = check.number(table, "per_party_member_yuan", "funds")
    if len(kinds) != 1:
        check.add(
            Note.of("standards.schema.many_funds", key="funds", found=tuple(kinds))
            if kinds
            else Note.of("standards.schema.one_funds", key="funds", found=_NONE)
        )
        return None
    kind = kinds[0]
    base = FundsRule(kind, source, citation, note, per_party_member_yuan=party)
    if kind == "per_100_households":
        return _parse_per_100_households(check, table[kind], base)
    return _parse_funds_entries(check, table[kind], base)


def _parse_per_100_households(check: _Checker, value: object, base: FundsRule) -> FundsRule | None:
    """``[funds.per_100_households]``: yuan per 100 households, optional yearly growth."""
    path = "funds.per_100_households"
    sub = check.table(value, path, required=("yuan",), optional=("yearly_growth", "base_year"))
    if sub is None:
        return None
    base_year = check.number(sub, "base_year", path, integer=True)
    return replace(
        base,
        yuan_per_100_households=check.number(sub, "yuan", path, positive=True),
        yearly_growth=check.number(sub, "yearly_growth", path, below=1.0, default=0.0) or 0.0,
        base_year=None if base_year is None else int(base_year),
    )


def _parse_funds_entries(check: _Checker, items: object, base: FundsRule) -> FundsRule | None:
    """``[[funds.tiers]]`` or ``[[funds.per_resident]]``: a non-empty list of tables."""
    path = f"funds.{base.kind}"
    if not isinstance(items, list) or not items:
        check.add(Note.of("standards.schema.no_entries", key=path, found=_describe(items)))
        return None
    if base.kind == "tiers":
        return replace(base, tiers=_parse_tiers(check, items, path))
    return replace(base, per_resident=_parse_resident_levels(check, items, path))


def _parse_tiers(check: _Checker, items: list, path: str) -> tuple[FundsTier, ...]:
    tiers = []
    for i, raw in enumerate(items):
        where = f"{path}[{i}]"
        last = i == len(items) - 1
        sub = check.table(
            raw, where, required=("yuan",), optional=() if last else ("max_households",)
        )
        if sub is None:
            continue
        if not last and "max_households" not in sub:
            check.add(Note.of("standards.schema.tier_bound", key=f"{where}.max_households"))
        bound = check.number(sub, "max_households", where, positive=True, integer=True)
        tiers.append(
            FundsTier(
                check.number(sub, "yuan", where) or 0.0,
                None if bound is None else int(bound),
            )
        )
    bounds = [t.max_households for t in tiers if t.max_households is not None]
    if any(a >= b for a, b in itertools.pairwise(bounds)):
        found = tuple(str(b) for b in bounds)
        check.add(Note.of("standards.schema.tiers_order", key=path, found=found))
    return tuple(tiers)


def _parse_resident_levels(check: _Checker, items: list, path: str) -> tuple[ResidentLevel, ...]:
    levels = []
    for i, raw in enumerate(items):
        where = f"{path}[{i}]"
        sub = check.table(raw, where, required=("level", "yuan"), optional=())
        if sub is None:
            continue
        levels.append(
            ResidentLevel(
                check.text(sub, "level", where), check.number(sub, "yuan", where, positive=True)
            )
        )
    return tuple(levels)


def _parse_notes(check: _Checker, value: object) -> tuple[NoteRule, ...]:
    if not check.is_list_of_tables(value, "notes", what="note"):
        return ()
    notes = []
    for i, raw in enumerate(value):
        path = f"notes[{i}]"
        table = check.table(
            raw, path, required=("label", *_CITED_REQUIRED), optional=_CITED_OPTIONAL
        )
        if table is None:
            continue
        notes.append(NoteRule(check.text(table, "label", path), *check.cited(table, path)))
    return tuple(notes)


# --------------------------------------------------------------------------- rules


def format_number(value: float, *, decimals: int = 2) -> str:
    """A number as a report shows it: no trailing zeros, ``1000`` not ``1000.0``."""
    rounded = round(float(value), decimals)
    if rounded == int(rounded):
        return str(int(rounded))
    return f"{rounded:.{decimals}f}".rstrip("0").rstrip(".")


def _ceil(value: float) -> int:
    """Round up, ignoring float noise (12.000000001 is 12)."""
    return math.ceil(round(value, 9))


def estimated_grids(households: float, *, standard: Standard) -> int | None:
    """Grids a community of ``households`` would have (round(households / per grid), ≥ 1).

    None when the standard has no grid size.
    """
    if standard.grids is None:
        return None
    return max(1, math.floor(households / standard.grids.households_per_grid + 0.5))


def required_area(
    households: float, *, grids: int | None = None, standard: Standard
) -> tuple[float, str]:
    """Floor area (m²) a community of ``households`` needs, and the arithmetic.

    ``grids`` is the community's number of grids, used by per-grid extras; when None it is
    estimated from the standard's households per grid, and the explanation says so.
    """
    rule = standard.area
    h = format_number(households)
    rate = format_number(rule.rate_m2)
    by_rate = households / rule.rate_households * rule.rate_m2
    if rule.rate_households == 100:
        rate_text = f"{h}/100×{rate}={format_number(by_rate)}"
    else:
        rate_text = f"{h}×{rate}={format_number(by_rate)}"
    if rule.minimum_m2 > 0:
        base = max(by_rate, rule.minimum_m2)
        text = f"max({rate_text}, 最低{format_number(rule.minimum_m2)})"
    else:
        base = by_rate
        text = f"({rate_text})" if rule.extras else rate_text
    total = float(base)
    for extra in rule.extras:
        if extra.per == "grid":
            count = grids
            how = ""
            if count is None:
                count = estimated_grids(households, standard=standard) or 0
                per_grid = format_number(standard.grids.households_per_grid)  # type: ignore[union-attr]
                how = f"，按{per_grid}户/格估算"
            total += extra.m2 * count
            text += f"+{format_number(extra.m2)}×{count}({extra.label}{how})"
        else:
            total += extra.m2
            text += f"+{format_number(extra.m2)}({extra.label})"
    total = round(total, 2)
    if rule.extras or rule.minimum_m2 > 0:
        text += f"={format_number(total)}"
    return total, text


def _residents(
    households: float, population: float | None, standard: Standard
) -> tuple[float | None, str]:
    """Residents given, or estimated from persons per household; with how it was got."""
    if population is not None and not math.isnan(population):
        return float(population), format_number(population)
    pph = standard.persons_per_household
    if pph is None:
        return None, ""
    estimate = households * pph.value
    return estimate, (
        f"{format_number(estimate)}(按{format_number(households)}户×"
        f"{format_number(pph.value)}人/户估算)"
    )


def staff_required(
    households: float, *, population: float | None = None, standard: Standard
) -> tuple[int | None, str]:
    """Full-time community workers a community needs, and the arithmetic.

    Each staff rule is read as a floor ("每N户配备1名" = one worker for every N households
    or part of N, so it rounds up: 250 → 1, 251 → 2), then its own minimum applies; with
    several rules the largest count is required. None when the standard has no staff rule.
    """
    if not standard.staff:
        return None, "本标准未规定人员配备"
    counts: list[int] = []
    parts: list[str] = []
    for rule in standard.staff:
        if rule.households_per_worker is not None:
            n = _ceil(households / rule.households_per_worker)
            part = f"⌈{format_number(households)}/{format_number(rule.households_per_worker)}⌉={n}"
        else:
            residents, how = _residents(households, population, standard)
            if residents is None:  # validation requires persons_per_household for this rule
                raise StandardsError(Note.of("standards.staff_residents", label=standard.path))
            per = rule.workers_per_10000_residents or 0.0
            n = _ceil(residents / 10000 * per)
            part = f"⌈{how}/10000×{format_number(per)}⌉={n}"
        if rule.minimum_workers and rule.minimum_workers > n:
            part += f"，不少于{rule.minimum_workers}→{rule.minimum_workers}"
            n = rule.minimum_workers
        elif rule.minimum_workers:
            part += f"(不少于{rule.minimum_workers})"
        counts.append(n)
        parts.append(part)
    required = max(counts)
    if len(parts) == 1:
        return required, parts[0]
    return required, f"max({'; '.join(parts)})={required}"


def annual_funds(
    households: float,
    *,
    population: float | None = None,
    year: int | None = None,
    standard: Standard,
    party_members: float | None = None,
) -> tuple[float | None, str]:
    """Yearly working funds (yuan) for a community, and the arithmetic.

    ``year`` applies a rule's yearly growth from its base year (no growth when the rule has
    no base year or no year is given; the explanation says which). ``party_members`` adds the
    per-party-member funds of a rule that has them. None when the standard has no funds rule.
    """
    rule = standard.funds
    if rule is None:
        return None, "本标准未规定工作经费"
    if rule.kind == "per_100_households":
        amount, text = _per_100_household_funds(households, rule, year)
    elif rule.kind == "tiers":
        amount, text = _tier_funds(households, rule)
    else:
        amount, text = _resident_funds(households, population, rule, standard)
    if rule.per_party_member_yuan:
        per_member = format_number(rule.per_party_member_yuan)
        if party_members is None or math.isnan(party_members):
            text += f"；党员活动经费每名党员{per_member}元另计(未提供党员数)"
        else:
            extra = party_members * rule.per_party_member_yuan
            amount += extra
            text += (
                f"+党员{format_number(party_members)}×{per_member}={format_number(extra)}"
                f"，合计{format_number(amount)}"
            )
    return round(amount, 2), text


def _per_100_household_funds(
    households: float, rule: FundsRule, year: int | None
) -> tuple[float, str]:
    """Funds per 100 households, grown yearly from the base year when ``year`` is given."""
    per100 = rule.yuan_per_100_households or 0.0
    amount = float(households / 100 * per100)
    text = f"{format_number(households)}/100×{format_number(per100)}"
    if not rule.yearly_growth > 0:
        return amount, f"{text}={format_number(amount)}"
    if rule.base_year is None or year is None:
        why = (
            f"每年递增{format_number(rule.yearly_growth * 100)}%，起算年份未注明"
            if rule.base_year is None
            else f"{rule.base_year}年基数，未给核算年份"
        )
        return amount, f"{text}={format_number(amount)}({why}，未计递增)"
    years = max(0, year - rule.base_year)
    amount *= (1 + rule.yearly_growth) ** years
    factor = format_number(1 + rule.yearly_growth, decimals=4)
    return amount, f"{text}×{factor}^({year}−{rule.base_year})={format_number(amount)}"


def _resident_funds(
    households: float, population: float | None, rule: FundsRule, standard: Standard
) -> tuple[float, str]:
    """Funds per resident, summed over the levels of government that pay them."""
    residents, how = _residents(households, population, standard)
    if residents is None:  # validation requires persons_per_household for this rule
        raise StandardsError(Note.of("standards.funds_residents", label=standard.path))
    per_person = sum(level.yuan for level in rule.per_resident)
    amount = residents * per_person
    levels = "+".join(f"{format_number(lv.yuan)}{lv.level}" for lv in rule.per_resident)
    return amount, f"人口{how}×({levels})={format_number(amount)}"


def _tier_bands(rule: FundsRule) -> list[str]:
    """Each tier's band in words: 不足2000户, 2000—3000户, 超过3000户."""
    bands = []
    previous: int | None = None
    for tier in rule.tiers:
        if tier.max_households is None:
            bands.append("各规模" if previous is None else f"超过{previous}户")
        elif previous is None:
            bands.append(f"不足{tier.max_households + 1}户")
        else:
            bands.append(f"{previous + 1}—{tier.max_households}户")
        if tier.max_households is not None:
            previous = tier.max_households
    return bands


def _tier_funds(households: float, rule: FundsRule) -> tuple[float, str]:
    bands = _tier_bands(rule)
    index = next(
        i
        for i, tier in enumerate(rule.tiers)
        if tier.max_households is None or households <= tier.max_households
    )
    yuan = rule.tiers[index].yuan
    return float(yuan), f"{format_number(households)}户属“{bands[index]}”档：{format_number(yuan)}"


# --------------------------------------------------------------------------- words


def _rule_texts(standard: Standard) -> Iterator[RuleText]:
    area = standard.area
    per = "每百户" if area.rate_households == 100 else "每户"
    summary = f"{per}{format_number(area.rate_m2)}平方米"
    if area.minimum_m2 > 0:
        summary += f"，每社区最低{format_number(area.minimum_m2)}平方米"
    yield RuleText("用房面积", summary, area.source, area.citation, area.note)
    for extra in area.extras:
        yield RuleText(
            "附加面积",
            f"{extra.label}：{_EXTRA_PER[extra.per]}{format_number(extra.m2)}平方米",
            extra.source,
            extra.citation,
            extra.note,
        )
    if standard.grids is not None:
        g = standard.grids
        yield RuleText(
            "网格规模",
            f"每网格约{format_number(g.households_per_grid)}户",
            g.source,
            g.citation,
            g.note,
        )
    for rule in standard.staff:
        if rule.households_per_worker is not None:
            summary = f"每{format_number(rule.households_per_worker)}户1名专职工作者"
        else:
            summary = f"每万常住人口{format_number(rule.workers_per_10000_residents or 0)}名"
        if rule.minimum_workers:
            summary += f"，不少于{rule.minimum_workers}名"
        yield RuleText("人员配备", summary, rule.source, rule.citation, rule.note)
    if standard.funds is not None:
        yield RuleText(
            "工作经费",
            _funds_summary(standard.funds),
            standard.funds.source,
            standard.funds.citation,
            standard.funds.note,
        )
    if standard.persons_per_household is not None:
        p = standard.persons_per_household
        yield RuleText("户均人口", f"每户{format_number(p.value)}人", p.source, p.citation, p.note)
    for note in standard.notes:
        yield RuleText(
            f"其他要求：{note.label}", "（列出，不计算）", note.source, note.citation, note.note
        )


def _funds_summary(rule: FundsRule) -> str:
    if rule.kind == "per_100_households":
        text = f"每百户每年{format_number(rule.yuan_per_100_households or 0)}元"
        if rule.yearly_growth:
            text += f"，每年递增{format_number(rule.yearly_growth * 100)}%"
            if rule.base_year is not None:
                text += f"（自{rule.base_year}年起）"
    elif rule.kind == "tiers":
        parts = [
            f"{band}{format_number(tier.yuan)}元"
            for tier, band in zip(rule.tiers, _tier_bands(rule), strict=True)
        ]
        text = "按社区户数分档，每年：" + "；".join(parts)
    else:
        levels = "、".join(f"{lv.level}{format_number(lv.yuan)}元" for lv in rule.per_resident)
        text = f"按常住人口每人每年：{levels}"
    if rule.per_party_member_yuan:
        text += f"；党员每人每年{format_number(rule.per_party_member_yuan)}元"
    return text

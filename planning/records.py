"""The records the planning library reports to a person: messages with a code and values
(rendered in Chinese or English from ``planning/locales``), and the units where a band cannot
be met."""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, ClassVar

from geo.records import Message

__all__ = ["Infeasible", "Note", "note_from_data", "note_to_data"]


@dataclass(frozen=True)
class Note(Message):
    """A message of the planning library (templates in ``planning/locales``)."""

    folder: ClassVar[Path] = Path(__file__).resolve().parent


@dataclass(frozen=True)
class Infeasible:
    """A unit where the band cannot be met, and why.

    Attributes
    ----------
    level
        ``street`` (a 街道 or a part of one), ``community-band`` (a community left out of band),
        ``compound`` (a 小区 bigger than a community), ``compound-scattered``, ``community``
        (more grids needed than allowed), ``building`` (bigger than a grid), ``grid-band``, or
        ``barrier-crossing`` (a community across a major barrier, because the side it comes
        from could not be drawn into communities all in band on its own).
    households
        Households of the unit.
    reason
        Why, as a message.
    unit
        The 街道, compound, building id(s) or community id.
    community_label
        The community by its label, before communities are numbered (then ``unit`` is empty).
    """

    level: str
    households: int
    reason: Note
    unit: str = ""
    community_label: int | None = None

    def named(self, community_ids) -> Infeasible:
        """The unit named by its community id, when it was known by its label."""
        if self.community_label is None:
            return self
        cid = str(community_ids[self.community_label])
        return replace(
            self,
            unit=cid,
            community_label=None,
            reason=Note.of("infeasible.in_community", community=cid, reason=self.reason),
        )

    def as_dict(self, lang: str = "en") -> dict:
        """The unit as ``summary.json`` holds it (the reason in ``lang``)."""
        out: dict = {"level": self.level}
        if self.community_label is None:
            out["unit"] = self.unit
        else:
            out["community_label"] = self.community_label
        out["households"] = self.households
        out["reason"] = self.reason.text(lang)
        return out


def note_to_data(note: Note) -> dict:
    """A note as JSON-ready data (a project file keeps its audit log's records so): its code
    and values, a value that is a note as data too, a tuple as a list."""
    return {"code": note.code, "values": {k: _value_to_data(v) for k, v in note.values}}


def note_from_data(data: dict) -> Note:
    """The note :func:`note_to_data` made (lists read back as tuples)."""
    values = {k: _value_from_data(v) for k, v in dict(data["values"]).items()}
    return Note.of(str(data["code"]), **values)


def _value_to_data(value: Any) -> Any:
    if isinstance(value, Note):
        return note_to_data(value)
    if isinstance(value, tuple | list):
        return [_value_to_data(v) for v in value]
    return value


def _value_from_data(value: Any) -> Any:
    if isinstance(value, dict):
        return note_from_data(value)
    if isinstance(value, list):
        return tuple(_value_from_data(v) for v in value)
    return value

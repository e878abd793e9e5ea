"""The audit log keeps what an edit did as records, through a project file too.

A record's data (:func:`planning.records.note_to_data`) is plain JSON — a code and values, a
value that is a note nested, a tuple as a list — and reads back as the same note.
"""

from __future__ import annotations

import json

import pytest

from planning.plans.plan import AuditEntry
from planning.records import Note, note_from_data, note_to_data

SPLIT = Note.of("edit.what.split", community="C001", k=2)
MOVE = Note.of(
    "edit.refused.move_across",
    what=Note.of("edit.what.move_buildings", n=3, shown=("B1", "B2", "B3"), to="C002"),
    n=3,
    zones=("西门街道", "东湖街道"),
    to="C002",
    zone="南苑街道",
)


@pytest.mark.parametrize("note", [SPLIT, MOVE, Note.of("edit.plain", text="C001 (2,796)")])
def test_a_note_survives_json(note):
    data = json.loads(json.dumps(note_to_data(note), ensure_ascii=False))
    back = note_from_data(data)
    assert back == note
    assert back.text("zh") == note.text("zh") and back.text("en") == note.text("en")


def test_the_nested_note_and_tuples_are_plain_data():
    data = note_to_data(MOVE)
    assert data["code"] == "edit.refused.move_across"
    assert data["values"]["what"]["values"]["shown"] == ["B1", "B2", "B3"]
    assert data["values"]["zones"] == ["西门街道", "东湖街道"]


def test_an_entry_words_itself_from_its_records_else_as_stored():
    stored = AuditEntry("2026-12-03T10:00:00+00:00", "张三", "split C001 into 2", "a", "b", 10)
    kept = AuditEntry(*stored.as_row().values(), records=(SPLIT, SPLIT, SPLIT))
    assert stored.texts("zh") == ("split C001 into 2", "a", "b")
    assert kept.texts("zh")[0] == "拆分 C001 为 2 个"
    assert kept.texts("en")[0] == "split C001 into 2"
    assert kept == stored  # the records do not make two entries differ

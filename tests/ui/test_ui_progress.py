"""The app's progress bar says which stage runs and, for the stages that count their tasks,
how many pieces (or batches of communities) are done, in Chinese and in English."""

from __future__ import annotations

from planning.parallel import Stage
from ui.i18n import text
from ui.runs import stage_label


def _labels(lang: str) -> dict[str, str]:
    labels = {s: text(f"propose.stage.{s}", lang) for s in ("communities", "grids", "done")}
    for kind in ("communities", "grids", "other"):
        labels[f"tasks.{kind}"] = text(f"propose.stage.tasks.{kind}", lang)
    return labels


def test_the_bar_counts_the_pieces_done():
    zh, en = _labels("zh"), _labels("en")
    assert stage_label(zh, Stage("communities", 3, 8)) == "正在划分社区…（已完成 3/8 块）"
    assert (
        stage_label(en, Stage("communities", 3, 8)) == "Drawing the communities… (3/8 pieces done)"
    )
    assert stage_label(zh, Stage("grids", 1, 4)) == "正在划分网格…（已完成 1/4 批社区的网格）"
    assert stage_label(zh, Stage("boundaries", 2, 5)) == "boundaries（已完成 2/5 项）"


def test_a_stage_without_tasks_is_its_label():
    zh = _labels("zh")
    assert stage_label(zh, Stage("done")) == "完成"
    assert stage_label(zh, "grids") == "正在划分网格…"
    assert stage_label({}, Stage("grids", 1, 2)) == "grids (1/2)"

"""Edits speak both languages: refusals carry a record (``EditRefused.record``) rendered in
Chinese or English, a refused move names the communities the selection borders, and an edit's
result renders its what / before → after and notes in either language (the English strings
stay as the audit log has always had them). On the lattice district of test_plan."""

from __future__ import annotations

import pytest
from test_plan import PARAMS, base_plan

from geo.records import catalogue
from planning.plans.scenario import (
    EditRefused,
    Lock,
    MergeCommunities,
    MoveBuildings,
    MoveCompound,
    MoveInPolygon,
    Regrid,
    Rename,
    Reoptimise,
    SplitCommunity,
    Stamp,
    Unlock,
    apply_edit,
    bordering_communities,
    compound_rows,
)
from planning.records import Note


def run(edit, plan=None):
    return apply_edit(plan or base_plan(), edit, params=PARAMS, stamp=Stamp("tester", "T0"))


def refusal(edit, plan=None) -> EditRefused:
    with pytest.raises(EditRefused) as caught:
        run(edit, plan)
    return caught.value


def test_a_refused_move_says_why_in_chinese_and_where_it_could_go():
    error = refusal(MoveBuildings(("B030",), "W1"))
    assert str(error).startswith("move 1 building(s) (B030) to W1: refused, not adjacent")
    assert error.record.text("en") == str(error)
    zh = error.record.text("zh")
    assert zh.startswith("把 1 栋楼（B030）移到 W1：未执行")
    assert "W3" in zh and "相邻" in zh
    assert "refused" not in zh


@pytest.mark.parametrize(
    ("edit", "words"),
    [
        (SplitCommunity("E1", 13), "最多只能拆成 12 个"),
        (MergeCommunities("W1", "W3"), "不相邻"),
        (MergeCommunities("W3", "E1"), "跨街道"),
        (MergeCommunities("W1", "W1"), "不能与自己合并"),
        (MoveBuildings(("B060",), "W3"), "跨街道"),
        (MoveBuildings(("B999",), "W1"), "找不到楼栋编号 B999"),
        (MoveBuildings(("B010",), "W1"), "没有可移动的楼栋"),
        (MoveCompound("兰园", "W1"), "找不到小区“兰园”"),
        (MoveInPolygon("POLYGON ((0 0, 1 0, 1 1, 0 0))", "W1"), "圈选范围内没有楼栋"),
        (Unlock(("W1",)), "W1 未锁定"),
        (Reoptimise(("北区",)), "找不到街道 北区"),
        (Rename("W1", name="W2社区"), "已被 W2 使用"),
        (Rename("W1"), "没有要改的内容"),
    ],
)
def test_every_refusal_has_a_chinese_text(edit, words):
    zh = refusal(edit).record.text("zh")
    assert words in zh
    assert "refused" not in zh and "fix:" not in zh


def test_a_locked_community_is_refused_in_chinese_without_a_tuple():
    locked = run(Lock(("W1", "W3"))).plan
    zh = refusal(SplitCommunity("W1", 2), locked).record.text("zh")
    assert (
        zh
        == "拆分 W1 为 2 个：未执行，W1 已锁定（边界已商定）。可先解除锁定，或不把它纳入这次编辑。"
    )
    result = run(Lock(("W1", "W2")))
    assert result.records.what.text("zh") == "锁定 W1、W2"
    assert result.what == "lock W1, W2"
    assert "(" not in result.records.what.text("zh")


def test_an_edit_result_renders_in_both_languages():
    result = run(MergeCommunities("W1", "W2"))
    en = result.summary()
    assert en.startswith("merge W2 into W1: W1 (400) + W2 (400) → W1 (800) (")
    assert "note: W1 has 800 households, above the band 540–660" in en
    assert result.summary("en") == en
    zh = result.summary("zh")
    assert zh.startswith("把 W2 并入 W1：W1 (400) + W2 (400) → W1 (800)（涉及")
    assert "高于范围" in zh and "提示：W1 有 800 户，高于 540–660 户的范围" in zh
    assert "households" not in zh
    assert result.note_texts("zh") and result.note_texts() == result.notes


def test_regrid_and_reoptimise_say_their_counts_in_chinese():
    regrid = run(Regrid("W1"))
    assert regrid.before == "4 grids" and regrid.records.before.text("zh") == "4 个网格"
    again = run(Reoptimise())
    assert again.before.endswith("to redraw)")
    assert "个社区" in again.records.before.text("zh")


def test_bordering_communities_are_those_of_the_selection():
    plan = base_plan()
    # compound 桂园 (column 2 of W2) borders W1 only; W2 itself borders W1 and W3
    sites = plan.district.sites.of_building[compound_rows(plan, "桂园")]
    assert bordering_communities(plan, sites) == ["W1"]
    column3 = plan.district.sites.of_building[compound_rows(plan, "no such")]
    assert bordering_communities(plan, column3) == []


def test_every_refusal_code_has_both_languages():
    en, zh = catalogue(Note.folder, "en"), catalogue(Note.folder, "zh")
    refusals = {code for code in en if code.startswith("edit.refused.")}
    assert len(refusals) > 25
    assert refusals <= set(zh)


def test_every_refusal_the_edits_make_has_a_text():
    """Each ``_refused(what, "<reason>")`` of scenario.py names a code in both catalogues."""
    import re
    from pathlib import Path

    import planning.plans.scenario as scenario

    source = Path(scenario.__file__).read_text(encoding="utf-8")
    reasons = set(re.findall(r'_refused\(\s*[\w.]+,\s*f?"([\w{}]+)"', source))
    reasons |= {f"already_{n}" for n in ("one", "many")} | {f"locked_{n}" for n in ("one", "many")}
    reasons = {r for r in reasons if "{" not in r}
    assert len(reasons) > 25
    for lang in ("zh", "en"):
        codes = catalogue(Note.folder, lang)
        assert sorted(r for r in reasons if f"edit.refused.{r}" not in codes) == []

"""Standards presets and rules, checked against the sources' own numbers.

The seeds are the reports in ``../shared/seeds/``; each test names the sentence it checks.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from geo.errors import StandardsError, ValidationError
from planning.standards.rules import (
    PRESET_DIR,
    annual_funds,
    estimated_grids,
    format_number,
    list_presets,
    load_standard,
    required_area,
    staff_required,
)

SEEDS = Path(__file__).resolve().parents[3] / "shared" / "seeds"
PRESETS = ["beilun", "embedded-2024", "henan-2022", "lanzhou-2013", "national-2021", "ningbo-new"]


def _seed_text(number: str) -> str:
    """A seed's text without whitespace (a quote may join paragraphs) and without the pinyin
    a web transcoder left behind (社區(qū) → 社區)."""
    (path,) = SEEDS.glob(f"{number}_*.txt")
    text = path.read_text(encoding="utf-8")
    return re.sub(r"\([a-zāáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜü]+\)|\s+", "", text)


# --------------------------------------------------------------------------- presets


def test_list_presets_names_the_six_presets():
    assert list_presets() == PRESETS


@pytest.mark.parametrize("name", PRESETS)
def test_every_preset_loads_and_every_rule_is_cited(name):
    standard = load_standard(name)
    assert standard.name == name
    assert standard.title and standard.description
    rules = standard.rules()
    assert rules
    for rule in rules:
        assert rule.source.strip(), rule
        assert rule.citation.strip(), rule


@pytest.mark.parametrize("name", PRESETS)
def test_citations_from_seeds_are_verbatim(name):
    """Every citation whose source is a seed report is a quote of that report; "……" marks
    an omission between quoted fragments."""
    standard = load_standard(name)
    checked = 0
    for rule in standard.rules():
        match = re.search(r"seeds/(\d{3})", rule.source)
        if not match:
            continue
        seed = _seed_text(match.group(1))
        for fragment in rule.citation.split("……"):
            assert re.sub(r"\s+", "", fragment) in seed, (name, rule.topic, fragment)
        checked += 1
    if name in ("beilun", "ningbo-new", "lanzhou-2013", "henan-2022"):
        assert checked > 0


def test_each_preset_has_at_most_one_funding_rule_and_tiers_exist():
    kinds = {name: load_standard(name).funds for name in PRESETS}
    assert kinds["henan-2022"].kind == "tiers"
    assert kinds["beilun"].kind == "per_100_households"
    assert kinds["lanzhou-2013"].kind == "per_resident"


def test_load_standard_accepts_a_path_and_a_standard(tmp_path):
    path = tmp_path / "mine.toml"
    text = (PRESET_DIR / "beilun.toml").read_text(encoding="utf-8")
    path.write_text(text.replace("minimum_m2 = 1000", "minimum_m2 = 1200"), encoding="utf-8")
    mine = load_standard(path)
    assert mine.area.minimum_m2 == 1200
    assert mine.path == str(path)
    assert load_standard(str(path)).area.minimum_m2 == 1200
    assert load_standard(mine) is mine


# --------------------------------------------------------------------------- area


def test_beilun_seed_000_rate_and_floor():
    """Seed 000: 每百户40平方米 … 未达到1000平方米的,就按1000平方米配置."""
    beilun = load_standard("beilun")
    area, text = required_area(2500, standard=beilun)
    assert area == 1000
    assert text == "max(2500/100×40=1000, 最低1000)=1000"
    area, text = required_area(500, standard=beilun)
    assert area == 1000  # 500/100×40 = 200, below the 1,000 m² floor
    assert "500/100×40=200" in text
    assert required_area(3000, standard=beilun)[0] == 1200


def test_lanzhou_per_household_rate_and_floor():
    """Seed 004: 每戶0.2平方米以上 … 每個社區最低不得少于350平方米."""
    lanzhou = load_standard("lanzhou-2013")
    area, text = required_area(1500, standard=lanzhou)
    assert area == 350  # 1500 × 0.2 = 300 < 350
    assert text == "max(1500×0.2=300, 最低350)=350"
    assert required_area(2500, standard=lanzhou)[0] == 500
    assert required_area(1750, standard=lanzhou)[0] == 350


def test_ningbo_new_extras_per_community_and_per_grid():
    """Seed 002: 每百户40 + 每社区200文体 + 50服务大厅 + 每个网格20."""
    ningbo = load_standard("ningbo-new")
    area, text = required_area(2500, grids=10, standard=ningbo)
    assert area == 1000 + 200 + 50 + 20 * 10
    assert text == (
        "(2500/100×40=1000)+200(文体活动阵地)+50(敞开式服务大厅)+20×10(网格工作活动用房)=1450"
    )
    area, text = required_area(2500, standard=ningbo)
    assert area == 1450
    assert "按250户/格估算" in text
    assert required_area(2500, grids=8, standard=ningbo)[0] == 1410


def test_estimated_grids_rounds_to_nearest_and_at_least_one():
    ningbo = load_standard("ningbo-new")
    assert estimated_grids(2500, standard=ningbo) == 10
    assert estimated_grids(2624, standard=ningbo) == 10
    assert estimated_grids(2625, standard=ningbo) == 11
    assert estimated_grids(40, standard=ningbo) == 1
    assert estimated_grids(2500, standard=load_standard("beilun")) is None


def test_rates_without_minimum_and_with_minimum():
    assert required_area(2500, standard=load_standard("national-2021"))[0] == 750
    assert required_area(500, standard=load_standard("henan-2022"))[0] == 300
    assert required_area(500, standard=load_standard("embedded-2024"))[0] == 600
    assert required_area(2500, standard=load_standard("embedded-2024"))[0] == 750


# --------------------------------------------------------------------------- staff


@pytest.mark.parametrize(
    ("households", "workers"), [(1, 1), (250, 1), (251, 2), (500, 2), (501, 3), (2500, 10)]
)
def test_ningbo_one_worker_per_250_households_rounds_up(households, workers):
    """Seed 002: 按实际管辖户数每250户配置1名专职工作者 — a floor, so a part of 250 needs a
    worker too (ceil, not round: 251 households → 2)."""
    assert staff_required(households, standard=load_standard("ningbo-new"))[0] == workers


@pytest.mark.parametrize(
    ("households", "workers"),
    [(300, 5), (1500, 5), (1501, 6), (1800, 6), (1801, 7), (2500, 9)],
)
def test_beilun_one_per_300_with_at_least_five(households, workers):
    """Seed 000: 每300户配备1名专职社工 and 5人以上 (province rule)."""
    assert staff_required(households, standard=load_standard("beilun"))[0] == workers


def test_staff_explanations():
    beilun = load_standard("beilun")
    assert staff_required(500, standard=beilun)[1] == "⌈500/300⌉=2，不少于5→5"
    assert staff_required(2500, standard=beilun)[1] == "⌈2500/300⌉=9(不少于5)"


def test_national_18_per_10000_residents():
    national = load_standard("national-2021")
    assert staff_required(2500, population=10000, standard=national)[0] == 18
    assert staff_required(2500, population=10001, standard=national)[0] == 19
    count, text = staff_required(2500, standard=national)  # 2500 × 2.62 = 6550 residents
    assert count == 12  # ⌈6550 / 10000 × 18⌉ = ⌈11.79⌉
    assert "按2500户×2.62人/户估算" in text


def test_no_staff_rule_gives_none():
    count, text = staff_required(2500, standard=load_standard("lanzhou-2013"))
    assert count is None
    assert "未规定" in text


# --------------------------------------------------------------------------- funds


@pytest.mark.parametrize(
    ("households", "yuan"), [(1999, 60000), (2000, 70000), (3000, 70000), (3001, 80000)]
)
def test_ezhou_tiers_at_the_edges(households, yuan):
    """Seed 003: 2000戶居民以下…6萬元/年、2000—3000戶…7萬元/年、3000戶以上…8萬元/年.

    Reading chosen: "2000户以下" is fewer than 2,000 and "3000户以上" more than 3,000, because
    the middle band "2000—3000户" names both 2,000 and 3,000 and takes both ends (the Chinese
    legal convention that 以下/以上 include the number would give 2,000 and 3,000 two tiers).
    """
    funds, text = annual_funds(households, standard=load_standard("henan-2022"))
    assert funds == yuan
    assert f"{households}户属" in text


def test_ezhou_party_member_funds():
    henan = load_standard("henan-2022")
    funds, text = annual_funds(2500, standard=henan, party_members=40)
    assert funds == 70000 + 40 * 50
    assert "党员40×50=2000" in text
    funds, text = annual_funds(2500, standard=henan)
    assert funds == 70000
    assert "未提供党员数" in text


def test_beilun_funds_per_100_households():
    """Seed 000: 该标准提高到每百户1.5万元,以后每年递增5% (base year not given)."""
    funds, text = annual_funds(2500, standard=load_standard("beilun"), year=2025)
    assert funds == 375000
    assert "起算年份未注明" in text


def test_funds_yearly_growth_from_a_base_year(tmp_path):
    text = (PRESET_DIR / "beilun.toml").read_text(encoding="utf-8")
    text = text.replace("yearly_growth = 0.05", "yearly_growth = 0.05\nbase_year = 2020")
    path = tmp_path / "beilun-2020.toml"
    path.write_text(text, encoding="utf-8")
    standard = load_standard(path)
    funds, explanation = annual_funds(2500, standard=standard, year=2022)
    assert funds == pytest.approx(375000 * 1.05**2)
    assert explanation == "2500/100×15000×1.05^(2022−2020)=413437.5"
    assert annual_funds(2500, standard=standard)[0] == 375000
    assert annual_funds(2500, standard=standard, year=2019)[0] == 375000


def test_lanzhou_funds_per_resident_city_and_county():
    """Seed 004: 市財政…每人每年0.1元 … 各縣區財政…每人每年0.1元."""
    lanzhou = load_standard("lanzhou-2013")
    funds, text = annual_funds(2500, population=10000, standard=lanzhou)
    assert funds == pytest.approx(2000)
    assert text == "人口10000×(0.1市级+0.1县区级)=2000"
    funds, text = annual_funds(2500, standard=lanzhou)
    assert funds == pytest.approx(2500 * 2.62 * 0.2)
    assert "估算" in text


def test_no_funds_rule_gives_none():
    funds, text = annual_funds(2500, standard=load_standard("national-2021"))
    assert funds is None
    assert "未规定" in text


def test_format_number():
    assert format_number(1000.0) == "1000"
    assert format_number(0.2) == "0.2"
    assert format_number(413437.5) == "413437.5"
    assert format_number(1 / 3) == "0.33"


# --------------------------------------------------------------------------- errors

MALFORMED = """
name = "broken"
description = "a file with many problems"
colour = "red"

[area]
rate_m2_per_100_households = 40
rate_m2_per_household = 0.4
minimum_m2 = -100
source = "test"
citation = "test"

[[area.extras]]
label = "文体"
m2 = "200平方米"
per = "street"
source = "test"
citation = "test"

[[area.extras]]
label = "网格用房"
m2 = 20
per = "grid"
source = "test"
citation = "test"

[[staff]]
households_per_worker = 0
source = "test"

[funds]
source = "test"
citation = "test"
[funds.per_100_households]
yuan = 10000
yearly_growth = 5
"""


def test_malformed_file_reports_every_problem_at_once(tmp_path):
    path = tmp_path / "broken.toml"
    path.write_text(MALFORMED, encoding="utf-8")
    refused = r"10 error\(s\) and 0 warning\(s\) in .*broken\.toml; the file was refused"
    with pytest.raises(StandardsError, match=refused) as caught:
        load_standard(path)
    # a validation error too: the problems one by one, as every reader refuses a file
    assert isinstance(caught.value, ValidationError) and len(caught.value.problems) == 10
    message = str(caught.value)
    for expected in (
        r"key 'title': is missing",
        r"key 'colour': is not a key of the schema",
        r"key 'area': gives both area rates",
        r"key 'area\.minimum_m2': is negative",
        r"key 'area\.extras\[0\]\.m2': is not a number",
        r"key 'area\.extras\[0\]\.per': is not a known unit",
        r"key 'staff\[0\]\.citation': is missing",
        r"key 'staff\[0\]\.households_per_worker': is out of range",
        r"key 'funds\.per_100_households\.yearly_growth': is too large",
        r"key 'grids': is missing, but an area extra is counted per grid",
    ):
        assert re.search(expected, message), expected
    assert "broken.toml" in message


def test_schema_cross_checks(tmp_path):
    path = tmp_path / "x.toml"
    path.write_text(
        """
name = "x"
title = "x"
description = "x"
[area]
source = "s"
citation = "c"
[[staff]]
workers_per_10000_residents = 18
households_per_worker = 250
source = "s"
citation = "c"
[funds]
source = "s"
citation = "c"
[[funds.tiers]]
max_households = 3000
yuan = 70000
[[funds.tiers]]
max_households = 1999
yuan = 60000
[[funds.tiers]]
yuan = 80000
""",
        encoding="utf-8",
    )
    with pytest.raises(StandardsError, match="the file was refused") as caught:
        load_standard(path)
    message = str(caught.value)
    assert "key 'area': needs exactly one area rate" in message
    assert "key 'staff[0]': gives both staffing bases" in message
    assert "key 'funds.tiers': tiers are not in ascending order" in message
    assert "key 'persons_per_household': is missing, but a rule counts residents" in message


def test_two_funding_rules_are_refused(tmp_path):
    path = tmp_path / "two.toml"
    text = (PRESET_DIR / "henan-2022.toml").read_text(encoding="utf-8")
    path.write_text(text + "\n[funds.per_100_households]\nyuan = 1\n", encoding="utf-8")
    with pytest.raises(StandardsError, match="key 'funds': gives more than one funding rule"):
        load_standard(path)


def test_unknown_preset_names_the_presets():
    with pytest.raises(StandardsError, match=r"unknown standards preset 'nope'.*beilun"):
        load_standard("nope")


def test_missing_file(tmp_path):
    with pytest.raises(StandardsError, match=r"standards file .*none\.toml' does not exist"):
        load_standard(tmp_path / "none.toml")


def test_invalid_toml(tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text('name = "x\n', encoding="utf-8")
    with pytest.raises(StandardsError, match="is not valid TOML"):
        load_standard(path)


def test_not_utf8(tmp_path):
    path = tmp_path / "gbk.toml"
    path.write_bytes('name = "北仑"\n'.encode("gbk"))
    with pytest.raises(StandardsError, match="is not UTF-8"):
        load_standard(path)


def test_presets_directory_is_not_modified(tmp_path):
    """Loading never writes: a copied preset loads the same as the original."""
    copy = tmp_path / "beilun.toml"
    shutil.copy(PRESET_DIR / "beilun.toml", copy)
    original = load_standard("beilun")
    copied = load_standard(copy)
    assert copied.area == original.area
    assert copied.funds == original.funds

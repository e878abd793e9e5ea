"""``propose``'s progress goes to stderr, never to stdout: nothing when stderr is not a
terminal, a line per stage and per piece with ``--progress``, in the language of the
messages (``--lang``; Chinese here).

Runs on the synthetic sample district (5,000 households, GCJ-02 lon/lat) with communities of
~800, so the study area holds more than a piece's share of communities and is cut in pieces.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from planning.cli import main
from planning.cli.propose import _stage_text
from planning.parallel import Stage

SIZES = ["--community-size", "200", "--grid-households", "40"]


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from samples.district import write_sample

    folder = tmp_path_factory.mktemp("progress") / "s"
    write_sample(folder, households=5_000, seed=0)
    return folder / "households.csv"


def _propose(sample: Path, out: Path, *extra: str) -> int:
    return main(["propose", str(sample), "--crs", "gcj02", "--out", str(out), *SIZES, *extra])


@pytest.mark.slow
def test_no_progress_when_stderr_is_not_a_terminal(sample, tmp_path, capsys):
    assert _propose(sample, tmp_path / "plan", "--lang", "zh") == 0
    out, err = capsys.readouterr()
    assert "划分" not in err and "%" not in err
    assert out.strip()  # the plan's table


@pytest.mark.slow
def test_progress_lines_in_english(sample, tmp_path, capsys):
    assert _propose(sample, tmp_path / "plan", "--progress", "--lang", "en") == 0
    err = capsys.readouterr().err
    assert re.search(r"communities: \d+/\d+ pieces done", err)
    assert "划分" not in err


@pytest.mark.slow
def test_progress_lines_on_stderr_with_the_option(sample, tmp_path, capsys):
    assert _propose(sample, tmp_path / "plan", "--progress", "--workers", "1", "--lang", "zh") == 0
    out, err = capsys.readouterr()
    lines = err.strip().splitlines()
    shares = [int(m.group(1)) for m in (re.search(r"\]\s+(\d+)%", x) for x in lines) if m]
    assert shares == sorted(shares) and shares[-1] == 100
    pieces = re.findall(r"划分社区：已完成 (\d+)/(\d+) 块", err)
    assert len(pieces) >= 2 and pieces[-1][0] == pieces[-1][1]
    assert re.search(r"划分网格：已完成 \d+/\d+ 批社区的网格", err)
    assert lines[-1].endswith("完成")
    assert all(re.match(r"\[\s*\d+\.\d s\]", x) for x in lines)  # each with the time elapsed
    # no progress line on stdout (the runtime line there names its stages, 划分社区 among them)
    assert not re.search(r"已完成 \d+/\d+", out) and "%|" not in out


def test_stage_texts_in_both_languages():
    assert _stage_text(Stage("communities", 3, 8), "zh") == "划分社区：已完成 3/8 块"
    assert _stage_text(Stage("communities", 3, 8), "en") == "communities: 3/8 pieces done"
    assert _stage_text(Stage("grids"), "en") == "grids"
    assert _stage_text(Stage("boundaries", 1, 4), "zh") == "生成边界：已完成 1/4 项"
    assert _stage_text("a stage of its own", "zh") == "a stage of its own"

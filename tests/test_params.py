"""ProposeParams: the one source of defaults, and the file keys plans have always had."""

from __future__ import annotations

import argparse

from planning.cli import add_size_arguments, propose_params
from planning.params import FILE_KEYS, RANGES, ProposeParams


def test_file_keys_are_those_written_since_the_first_release() -> None:
    assert list(ProposeParams().to_dict()) == [
        "community_size",
        "tolerance",
        "grid_size",
        "grid_tolerance",
        "max_grids",
        "seed",
    ]
    assert ProposeParams(grid_households=300).to_dict()["grid_size"] == 300


def test_from_dict_reads_file_keys_and_field_names_and_ignores_the_rest() -> None:
    stored = {
        "community_size": "3000",
        "grid_size": 200.0,
        "seed": None,
        "small_margin": 0.05,
        "smooth_m": 5,
    }
    params = ProposeParams.from_dict(stored)
    assert params == ProposeParams(community_size=3000, grid_households=200, smooth_m=5.0)
    assert isinstance(params.community_size, int) and isinstance(params.smooth_m, float)
    assert ProposeParams.from_dict({"grid_households": 180}).grid_households == 180
    assert ProposeParams.from_dict({"tolerance": "wide"}).tolerance == ProposeParams().tolerance


def test_a_round_trip_through_the_file_keys_is_identity() -> None:
    params = ProposeParams(
        community_size=1800,
        tolerance=0.15,
        grid_households=200,
        grid_tolerance=0.25,
        max_grids=8,
        seed=3,
    )
    assert ProposeParams.from_dict(params.to_dict()) == params


def test_the_command_line_takes_its_defaults_from_the_params() -> None:
    parser = argparse.ArgumentParser()
    add_size_arguments(parser)
    assert propose_params(parser.parse_args([])) == ProposeParams()
    # --grid-size is the old spelling of --grid-households
    assert propose_params(parser.parse_args(["--grid-size", "300"])).grid_households == 300


def test_every_file_key_has_a_range_holding_its_default() -> None:
    defaults = ProposeParams()
    assert set(RANGES) == set(FILE_KEYS)
    for name, allowed in RANGES.items():
        assert getattr(defaults, name) in allowed

"""A rebalance the 现状社区 page cannot make says why in the language of the page.

The built-in sample's existing communities moved half a degree east (about 50 km) hold no
building; rebalancing them is refused by the library with a record
(``rebalance.no_building_near``), which the page renders in Chinese, or in English on the
switch — never the library's English sentence inside the Chinese page.
"""

from __future__ import annotations

import dataclasses

import geopandas as gpd
import pytest
from app_support import SAMPLE_HOUSEHOLDS, new_app, open_page, texts

from ui import loading, state

FAR_EAST_DEG = 0.5


@pytest.fixture(scope="module")
def far_source(tmp_path_factory):
    """The sample with its existing communities 50 km east of its buildings."""
    source = loading.sample_source(SAMPLE_HOUSEHOLDS)
    communities = gpd.read_file(source.layer("communities").path)
    communities["geometry"] = communities.geometry.translate(xoff=FAR_EAST_DEG)
    path = tmp_path_factory.mktemp("far") / "far_communities.geojson"
    communities.to_file(path, driver="GeoJSON")
    layers = tuple(
        (kind, loading.file_ref(path) if kind == "communities" else file)
        for kind, file in source.layers
    )
    return dataclasses.replace(source, layers=layers)


@pytest.mark.parametrize(
    ("lang", "expected", "absent"),
    [
        ("zh", "现状调整：没有任何楼栋位于现有社区内或紧邻现有社区", "no building lies"),
        ("en", "rebalance: no building lies in or next to any existing community", "没有任何楼栋"),
    ],
)
def test_a_refused_rebalance_is_told_in_the_language_of_the_page(
    far_source, lang, expected, absent
):
    at = new_app(**{state.SOURCE_KEY: far_source, state.LANG_KEY: lang}).run()
    open_page(at, "existing")
    at.button(key="existing_rebalance").click().run()
    assert not at.exception, at.exception
    errors = "\n".join(texts(at.error))
    assert expected in errors
    assert absent not in errors

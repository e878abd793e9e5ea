"""The Standards page: choose, upload or edit the standard; choose the facility types that
count toward it (what is left out is shown); the compliance table, a choropleth of the
facility-area gap and suggested sites for missing facilities."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import streamlit as st

from planning import PRESET_DIR
from ui import loading, runs, state, widgets
from ui.i18n import t
from ui.maps import gap_map
from ui.plan_views import compliance_table, site_table
from ui.problems import show_problems

__all__ = ["MAX_TOML_BYTES", "render"]

#: A standards file is a page of text; anything larger is not one.
MAX_TOML_BYTES = 1024 * 1024
_TEXT_KEY = "standards_toml"
_TEXT_FOR_KEY = "standards_toml_for"
_UPLOAD_KEY = "standards_upload"
_SCENARIO_KEY = "standards_scenario"
#: The facility-type choice; its widget key carries the types offered (new data, new widget).
_TYPES_KEY = "standards_facility_types"


def _use_file(name: str, data: bytes) -> None:
    if len(data) > MAX_TOML_BYTES:
        st.session_state["standards_error"] = t(
            "standards.too_big",
            file=name,
            kb=f"{len(data) / 1024:,.0f}",
            limit=f"{MAX_TOML_BYTES // 1024:,}",
        )
        return
    st.session_state.pop("standards_error", None)
    st.session_state[state.STANDARD_FILE_KEY] = loading.save_upload(name, data)
    state.set_choice(state.STANDARD_KEY, state.CUSTOM_STANDARD)


def _on_upload() -> None:
    upload = st.session_state.get(_UPLOAD_KEY)
    if upload is not None:
        _use_file(upload.name, upload.getvalue())


def _on_apply_text() -> None:
    body = (st.session_state.get(_TEXT_KEY) or "").encode("utf-8")
    base = state.standard_ref().label.removesuffix(".toml")
    _use_file(f"{base.removesuffix('-edited')}-edited.toml", body)


def _source_text(ref: state.StandardRef) -> str:
    path = Path(ref.file.path) if ref.file is not None else PRESET_DIR / f"{ref.preset}.toml"
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return ""


def _choice() -> state.StandardRef:
    cols = st.columns([3, 2])
    with cols[0]:
        widgets.standard_choice(t("standards.choose"), t("standards.choose.help"))
    with cols[1]:
        st.file_uploader(
            t("standards.upload"),
            type=["toml"],
            key=_UPLOAD_KEY,
            on_change=_on_upload,
            help=t("standards.upload.help"),
        )
    if st.session_state.get("standards_error"):
        st.error(st.session_state["standards_error"])
    ref = state.standard_ref()
    with st.expander(t("standards.edit")):
        st.caption(t("standards.edit.help"))
        if st.session_state.get(_TEXT_FOR_KEY) != (ref.preset, ref.file):
            st.session_state[_TEXT_KEY] = _source_text(ref)
            st.session_state[_TEXT_FOR_KEY] = (ref.preset, ref.file)
        st.text_area(t("standards.toml"), key=_TEXT_KEY, height=320)
        st.button(t("standards.apply"), key="standards_apply", on_click=_on_apply_text)
    return ref


def _refused(loaded: runs.StandardOutcome, ref: state.StandardRef) -> None:
    """Why the standard cannot be used, in the page's language: the schema's problems one by
    one, or the refusal of the file (named as the planner uploaded it)."""
    if loaded.problems:
        show_problems(
            tuple(dataclasses.replace(p, file=ref.label) for p in loaded.problems), file=ref.label
        )
        return
    text = loaded.message or ""
    if loaded.record is not None:
        text = loaded.record.text(state.language())
        if ref.file is not None:
            text = text.replace(ref.file.path, ref.file.label)
    st.error(t("standards.invalid", file=ref.label) + "\n\n" + widgets.escape(text))


def _rules(standard) -> None:
    with st.expander(t("standards.rules", title=standard.title)):
        if standard.description:
            st.caption(standard.description.strip())
        for rule in standard.rules():
            st.markdown(
                f"**{widgets.escape(rule.topic)}** · {widgets.escape(rule.summary)}  \n"
                f"> {widgets.escape(rule.citation)}  \n"
                f"{t('standards.source')}{widgets.escape(rule.source)}"
                + (f"  \n*{widgets.escape(rule.note)}*" if rule.note else "")
            )


def _type_counts(facilities) -> dict[str, int]:
    """Facilities per type present, the most frequent first (no type: not listed)."""
    types = facilities["type"].dropna().astype(str)
    counts = types.value_counts()
    return {name: int(counts[name]) for name in sorted(counts.index, key=lambda n: (-counts[n], n))}


def _type_choice(facilities) -> None:
    """The facility types that count toward the standard (kept under
    :data:`state.FACILITY_TYPES_KEY`: absent when every type counts, as by default)."""
    if "type" not in facilities.columns or facilities["type"].isna().all():
        st.session_state.pop(state.FACILITY_TYPES_KEY, None)
        st.caption(t("standards.types.no_column", n=len(facilities)))
        return
    counts = _type_counts(facilities)
    chosen = st.session_state.get(state.FACILITY_TYPES_KEY)
    key = f"{_TYPES_KEY}_{hash(tuple(counts))}"
    if key not in st.session_state:
        st.session_state[key] = [n for n in counts if chosen is None or n in chosen]
    labels = {
        name: t("standards.types.option", name=name, n=count) for name, count in counts.items()
    }

    def sync() -> None:
        selected = st.session_state[key]
        if set(selected) == set(counts):
            st.session_state.pop(state.FACILITY_TYPES_KEY, None)
        else:
            st.session_state[state.FACILITY_TYPES_KEY] = tuple(selected)

    st.multiselect(
        t("standards.types"),
        options=list(counts),
        format_func=labels.__getitem__,
        help=t("standards.types.help"),
        key=key,
        on_change=sync,
    )
    sync()


def _left_out(facilities, types: tuple[str, ...] | None) -> None:
    """How many facilities (and how much floor area) the type choice leaves out, by type."""
    area = facilities["floor_area_m2"].astype(float)
    if types is None:
        st.caption(t("standards.types.all", n=len(facilities), area=f"{area.sum():,.0f}"))
        return
    kinds = facilities["type"].astype(object).where(facilities["type"].notna(), None)
    left = ~kinds.astype(str).isin(types) | kinds.isna()
    by_type = kinds[left].fillna(t("standards.types.untyped")).astype(str).value_counts()
    listing = t("standards.types.separator").join(
        t("standards.types.item", name=name, n=count) for name, count in by_type.items()
    )
    st.info(
        t(
            "standards.types.left_out",
            n=int(left.sum()),
            area=f"{area[left].sum():,.0f}",
            types=widgets.escape(listing),
        )
    )


def _totals(result) -> None:
    totals = result.totals
    cols = st.columns(5)
    cols[0].metric(t("standards.m.failing"), f"{totals['failing']:,} / {totals['communities']:,}")
    cols[1].metric(t("standards.m.shortfall"), f"{totals['total_shortfall_m2']:,.0f} m²")
    cols[2].metric(t("standards.m.required"), f"{totals['total_required_m2']:,.0f} m²")
    cols[3].metric(t("standards.m.provided"), f"{totals['total_facility_area_m2']:,.0f} m²")
    staff = totals.get("total_staff")
    cols[4].metric(t("standards.m.staff"), "—" if staff is None else f"{staff:,}")
    if totals.get("facilities_outside"):
        st.warning(t("standards.outside", n=totals["facilities_outside"]))


def render() -> None:
    """The page."""
    st.title(t("standards.title"))
    st.caption(t("standards.intro"))
    got = widgets.require_plan()
    if got is None:
        return
    ref, _outcome = got
    options = widgets.scenario_options()
    active, _spec = state.active_scenario()
    if st.session_state.get(_SCENARIO_KEY) not in options:
        st.session_state[_SCENARIO_KEY] = active
    st.selectbox(
        t("standards.scenario"), options, format_func=widgets.scenario_label, key=_SCENARIO_KEY
    )
    spec = widgets.spec_of(st.session_state[_SCENARIO_KEY])
    standard_ref = _choice()
    loaded = runs.standard(standard_ref)
    if loaded.standard is None:
        _refused(loaded, standard_ref)
        return
    _rules(loaded.standard)
    facilities = runs.layer_frames(ref.source).get("facilities")
    if ref.source.layer("facilities") is None:
        st.info(t("standards.no_facilities"))
    elif facilities is not None:
        _type_choice(facilities)
        standard_ref = state.standard_ref()
        _left_out(facilities, standard_ref.facility_types)
    outcome = runs.compliance(ref, spec, standard_ref)
    if outcome.problems:
        show_problems(outcome.problems, file=t("layer.facilities"))
        return
    if outcome.result is None:
        st.error(widgets.escape(outcome.message))
        return
    result = outcome.result
    _totals(result)
    lang = state.language()
    layers = runs.layer_frames(ref.source)
    map_column, side = st.columns([3, 2], gap="medium")
    with map_column:
        widgets.show_map(
            lambda basemap: gap_map(
                result.communities,
                facilities=result.facilities,
                subdistricts=layers.get("streets"),
                basemap=basemap,
                tianditu_key=state.tianditu_key(),
                lang=lang,
            ),
            key="standards_map",
            height=560,
        )
    with side:
        st.subheader(t("standards.sites"))
        st.caption(t("standards.sites.help"))
        st.dataframe(site_table(result, lang), hide_index=True, width="stretch", height=480)
    st.subheader(t("standards.table"))
    st.dataframe(compliance_table(result, lang), hide_index=True, width="stretch")


if __name__ == "__main__":
    render()

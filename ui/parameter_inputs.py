"""The Propose page's parameter inputs: their session keys, how they are drawn and what they
hold. Apart from the page because opening a plan resets them (ui.project_panel)."""

from __future__ import annotations

import streamlit as st

from planning import RANGES, ProposeParams
from ui import widgets
from ui.i18n import t

__all__ = ["INPUT_KEYS", "parameter_inputs", "parameter_label", "parameters", "reset_inputs"]

#: Number inputs: (session key, ProposeParams field, step, scale to the field). Defaults and
#: ranges come from planning.params, shown in the unit of the input (tolerances in %).
_INPUTS = (
    ("propose_community_size", "community_size", 100, 1),
    ("propose_tolerance_pct", "tolerance", 1, 0.01),
    ("propose_grid_households", "grid_households", 10, 1),
    ("propose_grid_tolerance_pct", "grid_tolerance", 1, 0.01),
    ("propose_max_grids", "max_grids", 1, 1),
    ("propose_seed", "seed", 1, 1),
)
#: The session keys of the parameter inputs.
INPUT_KEYS = tuple(key for key, *_rest in _INPUTS)


def _shown(value: float, scale: float) -> int:
    """A parameter's value in the unit of its input."""
    return round(value / scale)


def parameter_label(field: str | None) -> str | None:
    """The input's label for a ProposeParams field (what a refusal names it by); None for a
    field without an input."""
    key = next((key for key, name, *_rest in _INPUTS if name == field), None)
    return t(f"propose.{key}") if key is not None else None


def parameters() -> ProposeParams:
    """The engine's parameters as the inputs hold them."""
    defaults = ProposeParams()
    values = {}
    for key, field, _step, scale in _INPUTS:
        raw = st.session_state.get(key, _shown(getattr(defaults, field), scale))
        values[field] = round(raw * scale, 4) if scale != 1 else int(raw)
    return ProposeParams(**values)


def parameter_inputs(start: ProposeParams | None) -> None:
    """The parameter inputs; when first drawn they hold ``start`` (the parameters of the plan
    in the session: a proposal, or a plan opened from a project) or the defaults."""
    cols = st.columns(3)
    for i, (key, field, step, scale) in enumerate(_INPUTS):
        lowest, highest = _shown(RANGES[field].low, scale), _shown(RANGES[field].high, scale)
        if key not in st.session_state:
            value = _shown(getattr(start or ProposeParams(), field), scale)
            st.session_state[key] = min(max(int(value), lowest), highest)
        cols[i % 3].number_input(
            t(f"propose.{key}"),
            min_value=lowest,
            max_value=highest,
            step=step,
            key=key,
            help=t(f"propose.{key}.help"),
        )
    widgets.standard_choice(t("propose.standard"), t("propose.standard.help"))


def reset_inputs() -> None:
    """The inputs start again from the parameters of the plan in the session."""
    for key in INPUT_KEYS:
        st.session_state.pop(key, None)

"""The shape of the house, enforced: which package may import which, no import cycles
(imports inside functions included), pages are leaves, only ui/ imports streamlit.

The imports are read from the source (every ``import`` and ``from … import`` statement,
wherever it stands), so a cycle hidden in a function-level import is still a cycle.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
PACKAGES = ("geo", "planning", "samples", "ui")


def _module(path: Path) -> str:
    parts = list(path.relative_to(REPO).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _modules() -> dict[str, Path]:
    return {_module(p): p for pkg in PACKAGES for p in (REPO / pkg).rglob("*.py")}


MODULES = _modules()


def _resolve(name: str) -> str | None:
    """The module of ours an imported name lands in (a package's ``__init__`` or a module)."""
    while name:
        if name in MODULES:
            return name
        name = name.rpartition(".")[0]
    return None


def _imports(module: str) -> set[str]:
    """Every module of ours ``module`` imports, anywhere in its source."""
    tree = ast.parse(MODULES[module].read_text(encoding="utf-8"))
    package = module if MODULES[module].name == "__init__.py" else module.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                up = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*up, base] if base else up)
            names = [f"{base}.{alias.name}" for alias in node.names] + [base]
        else:
            continue
        for name in names:
            target = _resolve(name)
            if target and target != module:
                found.add(target)
    return found


def _raw_imports(module: str) -> set[str]:
    """Top-level names of every import in ``module`` (to find third-party ones)."""
    tree = ast.parse(MODULES[module].read_text(encoding="utf-8"))
    out: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            out.add(node.module.split(".")[0])
    return out


GRAPH = {m: _imports(m) for m in MODULES}


def _may_not(importer: str, imported: str) -> list[str]:
    return sorted(
        f"{m} -> {t}"
        for m, targets in GRAPH.items()
        if m == importer or m.startswith(importer + ".")
        for t in targets
        if t == imported or t.startswith(imported + ".")
    )


@pytest.mark.parametrize(
    ("importer", "imported"),
    [
        ("geo", "planning"),
        ("geo", "ui"),
        ("geo", "samples"),
        ("planning", "ui"),
        ("samples", "planning"),
        ("samples", "ui"),
        ("planning.engine", "planning.plans"),
        ("planning.engine", "planning.standards"),
        ("planning.engine", "planning.cli"),
        ("planning.engine", "planning.runs"),
        ("planning.plans", "planning.cli"),
        ("planning.plans", "planning.runs"),
        ("planning.standards", "planning.runs"),
        ("planning.runs", "planning.cli"),
        ("planning.standards", "planning.cli"),
        ("planning.standards", "planning.plans"),
    ],
)
def test_the_flow_runs_one_way(importer: str, imported: str) -> None:
    assert _may_not(importer, imported) == []


def test_no_import_cycles() -> None:
    """Tarjan's strongly connected components over the import graph: none has two modules."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []
    counter = [0]

    def visit(v: str) -> None:
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in sorted(GRAPH[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for v in sorted(GRAPH):
        if v not in index:
            visit(v)
    assert cycles == []


def test_pages_are_leaves() -> None:
    """No page imports another page (shared helpers live beside the pages, in ui/)."""
    pages = [m for m in MODULES if m.startswith("ui.pages.")]
    assert pages
    crossing = sorted(f"{m} -> {t}" for m in pages for t in GRAPH[m] if t.startswith("ui.pages"))
    assert crossing == []


def test_only_ui_imports_streamlit() -> None:
    outside = sorted(
        m for m in MODULES if not m.startswith("ui") and "streamlit" in _raw_imports(m)
    )
    assert outside == []


def test_the_domain_draws_no_web_maps() -> None:
    """folium belongs to the app; the library's report draws its map as SVG."""
    assert (
        sorted(
            m for m in MODULES if m.startswith(("planning", "geo")) and "folium" in _raw_imports(m)
        )
        == []
    )

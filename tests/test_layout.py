"""The house keeps its shape: wings import only downwards, through faces, without circles.

Read from the package's own source with :mod:`ast` (nothing is imported), so a new
module that breaks the layout fails here with the import that breaks it.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import geoexpose

PACKAGE = Path(geoexpose.__file__).parent

#: Each wing (or top-level module) and its floor; a module imports only from lower
#: floors and from its own wing. The leaves import nothing of ours.
FLOORS = {
    **dict.fromkeys(
        ("errors", "schema", "projection", "_version", "_atomic", "_files", "_flags", "_limits",
         "_frames", "_geodesy", "_fork", "_progress"), 0,
    ),
    "demo": 1, "sites": 1, "tracks": 1,
    "imagery": 2,
    "exposure": 3, "maps": 3,
    "outputs": 4, "inspect": 4, "inventory": 4,
    "scale": 5, "audit": 5, "reading": 5,
    "scan": 6, "store": 6, "report": 6,
    "cli": 7,
}  # fmt: skip
#: The one allowed loop: a result writes itself through the writer above it, importing
#: it when ``write`` is called (as ``GeoDataFrame.to_file`` does).
DELEGATIONS = {("exposure.result", "outputs"), ("audit.result", "audit._outputs")}


def _modules() -> dict[str, Path]:
    out = {}
    for path in PACKAGE.rglob("*.py"):
        parts = path.relative_to(PACKAGE).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = path
    return out


MODULES = _modules()


def _wing(module: str) -> str:
    return module.split(".")[0]


def _imports(module: str) -> list[tuple[str, str, str, bool, int]]:
    """(module imported from, module reached, name, inside a function, line) of each import.

    Only imports of geoexpose's own modules count; ``from geoexpose.scale import
    geoparquet`` is made from ``scale`` and reaches ``scale.geoparquet``.
    """
    tree = ast.parse(MODULES[module].read_text(encoding="utf-8"))
    package = module if MODULES[module].name == "__init__.py" else module.rpartition(".")[0]
    found = []

    def visit(node: ast.AST, nested: bool) -> None:
        for child in ast.iter_child_nodes(node):
            inner = nested or isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef)
            if isinstance(child, ast.If) and getattr(child.test, "id", "") == "TYPE_CHECKING":
                continue  # typing only
            if isinstance(child, ast.ImportFrom):
                base = child.module or ""
                if child.level:
                    up = package.split(".")[: len(package.split(".")) - child.level + 1]
                    base = ".".join(p for p in [*up, base] if p)
                elif base.startswith("geoexpose"):
                    base = base.removeprefix("geoexpose").lstrip(".")
                else:
                    continue
                for alias in child.names:
                    sub = f"{base}.{alias.name}".strip(".")
                    reached = sub if sub in MODULES else base
                    found.append((base, reached, alias.name, inner, child.lineno))
            elif isinstance(child, ast.Import):
                for alias in child.names:
                    if alias.name.startswith("geoexpose."):
                        target = alias.name.removeprefix("geoexpose.")
                        found.append((target, target, "", inner, child.lineno))
            visit(child, inner)

    visit(tree, False)
    return found


EDGES = {m: _imports(m) for m in MODULES if m}


def test_every_wing_has_a_face_with_all():
    wings = {m.split(".")[0] for m in MODULES if "." in m}
    for wing in wings:
        face = PACKAGE / wing / "__init__.py"
        assert face.is_file(), wing
        assert "__all__" in face.read_text(encoding="utf-8"), wing
    assert wings <= set(FLOORS), sorted(wings - set(FLOORS))


@pytest.mark.parametrize("module", sorted(EDGES))
def test_wings_import_downwards_through_faces(module):
    wing = _wing(module)
    assert wing in FLOORS, f"{module}: place its wing in FLOORS"
    for source, target, name, nested, line in EDGES[module]:
        if not source or _wing(source) == wing:
            continue
        where = f"{module}:{line} imports {name} from {source}"
        if (module, target) in DELEGATIONS:
            assert nested, f"{where}: a delegation imports when called"
            continue
        assert FLOORS[_wing(source)] < FLOORS[wing], f"{where}: not a lower floor"
        assert "." not in source, f"{where}: import from the wing's face"
        assert not name.startswith("_") or name.startswith("__"), f"{where}: a private name"


@pytest.mark.parametrize("module", sorted(EDGES))
def test_no_imports_of_our_own_inside_functions(module):
    for _, target, name, nested, line in EDGES[module]:
        if nested and (module, target) not in DELEGATIONS:
            pytest.fail(f"{module}:{line} imports {target} {name} inside a function")


def test_no_import_circles():
    graph = {m: {t for _, t, _, _, _ in EDGES[m] if t in EDGES and t != m} for m in EDGES}
    for module, target in DELEGATIONS:
        graph[module].discard(target)
    state: dict[str, int] = {}
    path: list[str] = []

    def walk(node: str) -> None:
        state[node] = 1
        path.append(node)
        for nxt in graph[node]:
            if state.get(nxt) == 1:
                loop = [*path[path.index(nxt) :], nxt]
                pytest.fail("import circle: " + " -> ".join(loop))
            if nxt not in state:
                walk(nxt)
        path.pop()
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            walk(node)

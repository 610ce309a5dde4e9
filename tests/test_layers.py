"""The package's folders form layers: each imports only folders below it, and no import cycles.

Read from the source with :mod:`ast` (every ``import`` and ``from ... import``, including the ones
inside functions), so the check needs nothing but the files.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "recunlearn"

LAYERS: tuple[tuple[str, ...], ...] = (
    ("core",),
    ("data",),
    ("evaluation",),
    ("models",),
    ("audit",),
    ("protect", "debias"),
    ("report",),
    ("experiments",),
    ("bench", "testing"),
    ("cli",),
)
"""Bottom to top. Folders on one line are peers and must not import each other."""

LEVEL = {name: level for level, names in enumerate(LAYERS) for name in names}


def _imports(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    names = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.append(node.module)
    return [n for n in names if n == "recunlearn" or n.startswith("recunlearn.")]


def _folder(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else None


def _module_of(path: Path) -> str:
    relative = path.relative_to(PACKAGE.parent).with_suffix("")
    parts = list(relative.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def test_every_folder_is_in_a_layer() -> None:
    folders = {p.name for p in PACKAGE.iterdir() if p.is_dir() and (p / "__init__.py").exists()}
    assert folders <= set(LEVEL), f"folders without a layer: {sorted(folders - set(LEVEL))}"


def test_no_folder_imports_a_folder_above_or_beside_it() -> None:
    wrong = []
    for path in sorted(PACKAGE.rglob("*.py")):
        source = _folder(_module_of(path))
        if source not in LEVEL:
            continue
        for module in _imports(path):
            target = _folder(module)
            if target is None or target == source or target not in LEVEL:
                continue
            if LEVEL[target] >= LEVEL[source]:
                wrong.append(f"{path.relative_to(PACKAGE)} imports {module}")
    assert not wrong, "upward or sideways imports:\n" + "\n".join(wrong)


def test_no_import_cycles_between_modules() -> None:
    modules = {_module_of(p): p for p in PACKAGE.rglob("*.py")}
    graph: dict[str, set[str]] = defaultdict(set)
    for name, path in modules.items():
        for module in _imports(path):
            # "from pkg import name" may name a module of pkg or an object defined in pkg
            if module in modules and module != name and not name.startswith(module + "."):
                graph[name].add(module)
    state: dict[str, int] = {}
    cycles: list[list[str]] = []

    def visit(node: str, trail: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                cycles.append(trail[trail.index(nxt) :] + [nxt] if nxt in trail else [node, nxt])
            elif nxt not in state:
                visit(nxt, [*trail, nxt])
        state[node] = 2

    for name in sorted(modules):
        if name not in state:
            visit(name, [name])
    assert not cycles, "import cycles:\n" + "\n".join(" -> ".join(c) for c in cycles)

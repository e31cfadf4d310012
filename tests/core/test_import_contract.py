"""The import contract, read from the source (every import statement: top level, inside functions
and under TYPE_CHECKING): core never imports desktop or Qt, and no two modules of core/ and
desktop/ import each other, directly or round a longer circle.

A static check on purpose: a lazy import inside a function or a type-only import still ties two
modules together for a reader, so it counts (the checkpoints <-> reference_import circle was lazy
on one side, the main_window <-> compare link circle type-only).
"""

from __future__ import annotations

import ast
from pathlib import Path

from tests.conftest import REPO_ROOT

PACKAGES = ("core", "desktop")
QT_ROOTS = ("PySide6", "shiboken6", "desktop")


def module_files() -> dict[str, Path]:
    found: dict[str, Path] = {}
    for package in PACKAGES:
        for path in sorted((REPO_ROOT / package).rglob("*.py")):
            parts = path.relative_to(REPO_ROOT).with_suffix("").parts
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            found[name] = path
    return found


def imported_names(name: str, path: Path, modules: dict[str, Path]) -> set[str]:
    """Every module that `name` imports: the project's own (resolved to a module that exists)
    and any other by its full dotted name."""
    is_package = path.name == "__init__.py"
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            out.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base_parts = name.split(".") if is_package else name.split(".")[:-1]
                base_parts = base_parts[: len(base_parts) - (node.level - 1)]
                base = ".".join(base_parts + ([node.module] if node.module else []))
            else:
                base = node.module or ""
            for alias in node.names:
                # `from pkg import sub` imports the submodule when there is one.
                out.add(f"{base}.{alias.name}" if f"{base}.{alias.name}" in modules else base)
    return out


def import_graph() -> dict[str, set[str]]:
    modules = module_files()
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        targets = set()
        for imported in imported_names(name, path, modules):
            # an import of a.b.c names the deepest module of ours that exists
            parts = imported.split(".")
            while parts and ".".join(parts) not in modules:
                parts.pop()
            if parts and ".".join(parts) != name:
                targets.add(".".join(parts))
        graph[name] = targets
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph.get(v, ())):
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
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def test_core_never_imports_desktop_or_qt() -> None:
    modules = module_files()
    offenders = {name: sorted(i for i in imported_names(name, path, modules) if i.split(".")[0] in QT_ROOTS)
                 for name, path in modules.items() if name.split(".")[0] == "core"}
    assert {k: v for k, v in offenders.items() if v} == {}


def test_no_import_cycles_between_modules() -> None:
    graph = import_graph()
    assert len(graph) > 100  # the walk found the tree (not an empty folder)
    found = cycles(graph)
    details = [" <-> ".join(c) + ": " + "; ".join(f"{m} imports {sorted(graph[m] & set(c))}" for m in c)
               for c in found]
    assert found == [], "\n".join(details)


def test_the_checker_sees_a_circle() -> None:
    # The checker itself: a two-module circle and a three-module circle are found, a chain is not.
    assert cycles({"a": {"b"}, "b": {"a"}, "c": {"a"}}) == [["a", "b"]]
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": {"c"}, "c": set()}) == []

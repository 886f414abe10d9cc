"""The layout's rules about imports (design.md, "Where each rule lives"): nothing in `coach/`
imports in a loop, and no import hides inside a function to dodge one.

The modules are read with `ast`, not imported, so every import counts: at the top, inside a
function, relative (`from ..models import User`) and `from package import submodule`.
"""
from __future__ import annotations

import ast
import re
from pathlib import Path

COACH = Path(__file__).resolve().parent.parent / "coach"

def _modules() -> dict[str, Path]:
    """Dotted name → file, for every module and package under coach/."""
    found = {}
    for path in COACH.rglob("*.py"):
        parts = path.relative_to(COACH.parent).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        found[".".join(parts)] = path
    return found


def _is_package(path: Path) -> bool:
    return path.name == "__init__.py"


def _imports(name: str, path: Path, modules: dict[str, Path]) -> list[tuple[str, int]]:
    """(imported coach module, line) for every import statement in the file."""
    package = name if _is_package(path) else name.rpartition(".")[0]
    targets = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name in modules:
                    targets.append((alias.name, node.lineno))
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base_parts = package.split(".")
                base = ".".join(base_parts[: len(base_parts) - (node.level - 1)])
                base = f"{base}.{node.module}" if node.module else base
            else:
                base = node.module or ""
            if not base.startswith("coach"):
                continue
            for alias in node.names:
                sub = f"{base}.{alias.name}"
                # `from pkg import submodule` imports the submodule; a name from pkg imports pkg.
                targets.append((sub if sub in modules else base, node.lineno))
    return [(t, line) for t, line in targets if t in modules and t != name]


def _graph() -> dict[str, dict[str, int]]:
    modules = _modules()
    graph: dict[str, dict[str, int]] = {}
    for name, path in modules.items():
        edges = graph.setdefault(name, {})
        for target, line in _imports(name, path, modules):
            edges.setdefault(target, line)
    return graph


def _cycles(graph: dict[str, dict[str, int]]) -> list[list[str]]:
    """One loop (as a path that returns to its start) per strongly connected group (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[set[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in graph[node]:
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            group = set()
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.add(member)
                if member == node:
                    break
            if len(group) > 1:
                groups.append(group)

    for node in sorted(graph):
        if node not in index:
            visit(node)

    loops = []
    for group in groups:
        start = min(group)
        # Shortest way back to `start` inside the group (breadth first), to name one loop.
        paths = {start: [start]}
        frontier = [start]
        loop = None
        while frontier and loop is None:
            following = []
            for node in frontier:
                for nxt in sorted(graph[node]):
                    if nxt not in group:
                        continue
                    if nxt == start:
                        loop = paths[node] + [start]
                        break
                    if nxt not in paths:
                        paths[nxt] = paths[node] + [nxt]
                        following.append(nxt)
                if loop:
                    break
            frontier = following
        loops.append(loop)
    return loops


def _describe(loop: list[str], graph: dict[str, dict[str, int]]) -> str:
    steps = [f"{a} (line {graph[a][b]}) → {b}" for a, b in zip(loop, loop[1:])]
    return "; ".join(steps)


def test_the_import_walk_sees_relative_and_submodule_imports():
    # The walk must see what a loop is made of, or the test below could never fail.
    graph = _graph()
    assert "coach.config" in graph["coach"]  # from . import config (a submodule)
    assert "coach.models" in graph["coach.api.sessions"]  # from ..models import … (names)
    assert "coach.crisis_lines" in graph["coach.api.care"]  # from .. import crisis_lines as care
    assert _cycles({"a": {"b": 1}, "b": {"c": 2}, "c": {"a": 3}, "d": {"a": 4}}) == [["a", "b", "c", "a"]]


def test_nothing_in_coach_imports_in_a_loop():
    graph = _graph()
    loops = [_describe(loop, graph) for loop in _cycles(graph)]
    assert not loops, "import loops in coach/:\n" + "\n".join(loops)


def test_no_import_hides_inside_a_function():
    hidden = []
    for path in sorted(COACH.rglob("*.py")):
        relative = str(path.relative_to(COACH.parent))
        for node in ast.walk(ast.parse(path.read_text(), relative)):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                for inner in ast.walk(node):
                    if isinstance(inner, (ast.Import, ast.ImportFrom)):
                        hidden.append(f"{relative}:{inner.lineno} in {node.name}(): {ast.unparse(inner)}")
    assert not hidden, "imports inside functions (move them to the top):\n" + "\n".join(sorted(set(hidden)))


def test_every_setting_is_read_from_the_environment_in_config_py_only():
    readers = []
    for path in sorted(COACH.rglob("*.py")):
        relative = str(path.relative_to(COACH.parent))
        if relative == "coach/config.py":
            continue
        for number, line in enumerate(path.read_text().splitlines(), 1):
            if re.search(r"\bos\.(environ|getenv|putenv)\b|from os import", line):
                readers.append(f"{relative}:{number}: {line.strip()}")
    assert not readers, "settings read outside coach/config.py:\n" + "\n".join(readers)


def test_app_wide_hooks_are_registered_by_the_factory_not_by_a_blueprint():
    # A hook that guards every request, or a check made at start-up, lives in create_app,
    # where a reader looks for it, not in whichever blueprint happened to record it.
    hooks = re.compile(r"\.(before_app_request|after_app_request|teardown_app_request|app_errorhandler|record)\(")
    found = []
    for folder in ("api", "pages"):
        for path in sorted((COACH / folder).rglob("*.py")):
            for number, line in enumerate(path.read_text().splitlines(), 1):
                if hooks.search(line):
                    found.append(f"{path.relative_to(COACH.parent)}:{number}: {line.strip()}")
    assert not found, "app-wide hooks recorded by a blueprint:\n" + "\n".join(found)

"""The core runs without the UI: importing the engine or provider never loads textual or tui."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest


@pytest.mark.parametrize(
    "module",
    [
        "sandbox.cli",
        "sandbox.provider",
        "sandbox.store",
        "sandbox.expressions",
        "sandbox.engine.mappings.mapping",
    ],
)
def test_core_modules_do_not_import_the_ui(module):
    code = (
        f"import sys, json, {module}; "
        "print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in "
        "('textual', 'tui', 'flask', 'sqlite_utils'))))"
    )
    loaded = set(json.loads(subprocess.check_output([sys.executable, "-c", code], text=True)))
    assert not {m for m in loaded if m.split(".")[0] in ("textual", "tui")}
    if module.startswith(("sandbox.expressions", "sandbox.engine")):
        assert not {m for m in loaded if m.split(".")[0] in ("flask",)}
    if module == "sandbox.expressions":
        assert not {m for m in loaded if m.split(".")[0] == "sqlite_utils"}


@pytest.mark.parametrize("module", ["sandbox.timestamps", "sandbox.scim_names"])
def test_the_shared_values_import_only_the_standard_library(module):
    code = f"import sys, json, {module}; print(json.dumps(sorted(sys.modules)))"
    loaded = json.loads(subprocess.check_output([sys.executable, "-c", code], text=True))
    tops = {name.split(".")[0] for name in loaded}
    others = {t for t in tops - set(sys.stdlib_module_names) if not t.startswith("__")}
    assert others - {"sandbox"} <= {"_distutils_hack"}  # setuptools' import hook
    assert {m for m in loaded if m.startswith("sandbox")} == {"sandbox", module}


def test_import_linter_contracts_hold():
    result = subprocess.run(["lint-imports"], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def _sandbox_imports() -> dict[str, set[str]]:
    """Every sandbox module and the sandbox modules it imports: at module level, inside
    functions and under TYPE_CHECKING alike (each is a module that needs the other). A
    package's own __init__ is not counted as imported by its submodules."""
    import ast
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    files = {}
    for path in sorted((root / "sandbox").rglob("*.py")):
        parts = list(path.relative_to(root).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        files[".".join(parts)] = path
    graph: dict[str, set[str]] = {}
    for name, path in files.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        edges = graph.setdefault(name, set())
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                    base = ".".join(anchor + ([base] if base else []))
                targets = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in files else base
                           for alias in node.names]  # fmt: skip
            else:
                continue
            for target in targets:
                while target and target not in files:
                    target = target.rpartition(".")[0]
                if target and target != name:
                    edges.add(target)
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for nxt in sorted(graph[node]):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_the_cycle_finder_finds_a_circle():
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert _cycles({"a": {"b"}, "b": set()}) == []


def test_no_import_circle_in_sandbox():
    graph = _sandbox_imports()
    assert "sandbox.engine" in graph and graph["sandbox.cli"]
    assert _cycles(graph) == []

"""The layers of docs/architecture.md: lower layers never import upper ones (module-level imports)."""

from __future__ import annotations

import ast
import functools
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "grader"
FACES = {"web", "cli", "celery_app"}

# layer -> what it must never import (at module level: a face may be imported lazily by nothing below it either)
FORBIDDEN = {
    "settings": {"*"},
    "students": {"*"},
    "sandbox": {"grading", "checking", "answers", "specs", "notebooks", "store", "jobs", "reports", *FACES},
    "checking": {"answers", "specs", "grading", "notebooks", "store", "jobs", "reports", *FACES},
    "answers": {"specs", "grading", "notebooks", "store", "jobs", "reports", *FACES},
    "specs": {"grading", "notebooks", "store", "jobs", "reports", *FACES},
    "grading": {"notebooks", "store", "jobs", "reports", *FACES},
    "store": {"notebooks", "jobs", "reports", *FACES},
    "notebooks": {"reports", *FACES},
    "reports": {"notebooks", "store", "jobs", *FACES},
}


@functools.cache
def _tree(path: Path) -> ast.Module:
    """A module's syntax tree, parsed once for all the tests here."""
    return ast.parse(path.read_text())


def layer(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "grader"


def imports(path: Path) -> set[str]:
    """The grader modules ``path`` imports at module level (lazy imports inside functions are not counted)."""
    found = set()
    for node in _tree(path).body:
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("grader"):
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names if alias.name.startswith("grader"))
    return found


@pytest.mark.parametrize("low", sorted(FORBIDDEN))
def test_a_lower_layer_never_imports_an_upper_one(low: str) -> None:
    files = [PACKAGE / f"{low}.py"] if (PACKAGE / f"{low}.py").exists() else sorted((PACKAGE / low).rglob("*.py"))
    broken = []
    for path in files:
        for module in imports(path):
            target = layer(module)
            if target != low and ("*" in FORBIDDEN[low] and target != "grader" or target in FORBIDDEN[low]):
                broken.append(f"{path.relative_to(PACKAGE.parent)} imports {module}")
    assert broken == []


@functools.cache
def every_import(path: Path) -> frozenset[str]:
    """Every module ``path`` imports, at module level or inside a function (lazily)."""
    found = set()
    for node in ast.walk(_tree(path)):
        if isinstance(node, ast.ImportFrom) and node.module and not node.level:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return frozenset(found)


def outside_the_cli() -> list[Path]:
    return [path for path in sorted(PACKAGE.rglob("*.py")) if path.relative_to(PACKAGE).parts[0] != "cli"]


def test_the_command_line_is_imported_by_nothing_but_itself() -> None:
    """The CLI calls the services; no service calls back into it (no import circle, even a lazy one)."""
    broken = [
        f"{path.relative_to(PACKAGE.parent)} imports {module}"
        for path in outside_the_cli()
        for module in every_import(path)
        if module == "grader.cli" or module.startswith("grader.cli.")
    ]
    assert broken == []


def test_only_the_command_line_imports_click() -> None:
    broken = [
        f"{path.relative_to(PACKAGE.parent)} imports {module}"
        for path in outside_the_cli()
        for module in every_import(path)
        if module == "click" or module.startswith("click.")
    ]
    assert broken == []


def _named_types(path: Path, names: set[str]) -> list[str]:
    """The comparisons in ``path`` of something with an answer type's name (``kind == "sequence"``)."""

    def constants(node: ast.AST) -> set[str]:
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            return {node.value}
        if isinstance(node, ast.Tuple | ast.Set | ast.List):
            return {e.value for e in node.elts if isinstance(e, ast.Constant) and isinstance(e.value, str)}
        return set()

    return [
        f"{path.relative_to(PACKAGE.parent)}:{node.lineno} {ast.unparse(node)}"
        for node in ast.walk(_tree(path))
        if isinstance(node, ast.Compare) and any(constants(n) & names for n in [node.left, *node.comparators])
    ]


def test_only_an_answer_type_decides_by_its_name():
    """Reading, showing, checking, reviewing and the forms ask the part's type, never compare its name.
    The specs may (the catalogue tags each change with the types it applies to)."""
    from grader.answers import TYPES

    outside = [p for p in sorted(PACKAGE.rglob("*.py")) if p.relative_to(PACKAGE).parts[0] not in ("answers", "specs")]
    assert [found for path in outside for found in _named_types(path, set(TYPES))] == []
    templates = sorted((PACKAGE / "web" / "templates").glob("*.html"))
    assert [t.name for t in templates if any(f'type == "{n}"' in t.read_text() for n in TYPES)] == []


def test_the_checking_library_imports_no_answer_type_and_calls_none():
    """Only the part protocol (grader/answers/parts.py) calls a type; the library is given what it needs."""
    calls = [
        f"{path.relative_to(PACKAGE.parent)}:{node.lineno} {ast.unparse(node)}"
        for path in sorted((PACKAGE / "checking").rglob("*.py"))
        if path.name != "key.py"  # the key's own kind and hint
        for node in ast.walk(_tree(path))
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Attribute) and node.value.attr == "type"
    ]
    assert calls == []
    assert [
        f"{path.relative_to(PACKAGE.parent)} imports {module}"
        for path in sorted((PACKAGE / "checking").rglob("*.py"))
        for module in every_import(path)
        if module.startswith("grader.answers")
    ] == []


def _package(path: Path) -> str:
    """``grader.notebooks`` for grader/notebooks/batch.py, ``grader.grading`` for grader/grading.py."""
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:2])


def _is_part(name: str) -> bool:
    """``grader.notebooks`` or ``grader.grading`` is a part of the package; ``grader.version`` (a name) is not."""
    where = PACKAGE.parent / name.replace(".", "/")
    return where.is_dir() or where.with_suffix(".py").exists()


def test_no_import_circle_between_parts_of_the_package_even_a_lazy_one():
    """Packages and top-level modules form no circle, counting imports inside functions too (Tarjan's SCCs)."""
    graph: dict[str, set[str]] = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        here = _package(path)
        for module in every_import(path):
            there = ".".join(module.split(".")[:2])
            if module.startswith("grader.") and there != here and _is_part(there):
                graph.setdefault(here, set()).add(there)
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    circles = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for other in graph.get(node, ()):
            if other not in index:
                visit(other)
                low[node] = min(low[node], low[other])
            elif other in stack:
                low[node] = min(low[node], index[other])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                circles.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    assert circles == []

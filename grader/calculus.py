"""Objectives from formulas, with derivatives by sympy cached as formulas.

:func:`objective` turns a formula (``"x**2 + 2"``) into an
:class:`~grader.optim.objective.Objective`. sympy differentiates it once; the
gradient and Hessian are stored as *formulas* (plain text, e.g. ``"2*x"``) in
a small JSON cache, read back through the same whitelist parser and evaluated
by :meth:`Formula.compile`. So a warm process, and any later process once the
cache file exists, builds objectives without importing sympy, which keeps
``grader check`` quick. A derivative sympy prints in a form the whitelist
does not accept (rare) is simply not cached: sympy then lambdifies it.
"""

from __future__ import annotations

import functools
import json
import os
import tempfile
import threading
from pathlib import Path
from typing import Any

import numpy as np

from grader.expressions import ExpressionError, Formula, parse
from grader.optim.objective import Objective, natural_key
from grader.paths import cache_dir

_lock = threading.Lock()


def variables_of(formula: Formula) -> tuple[str, ...]:
    """The formula's variables in natural order (x, y, z; x1, x2, …, x10)."""
    return tuple(sorted(formula.names, key=natural_key))


@functools.lru_cache(maxsize=512)
def objective(text: str, variables: tuple[str, ...] | None = None) -> Objective:
    """The objective f given by ``text`` in ``variables`` (default: its own, in natural order)."""
    formula = parse(text) if variables is None else parse(text, variables)
    names = variables if variables is not None else variables_of(formula)
    if not names:
        raise ExpressionError(f"{text} has no variable to optimise")
    derivatives = _derivatives(formula, names)
    if derivatives is None:
        return Objective.from_sympy(formula.to_sympy(), names)
    gradient, hessian = derivatives
    return Objective(
        names,
        value=_point_function(formula, names),
        gradient=_vector_function([parse(g) for g in gradient], names),
        hessian=_matrix_function([[parse(h) for h in row] for row in hessian], names),
    )


def gradient_formulas(text: str, variables: tuple[str, ...] | None = None) -> list[str]:
    """The partial derivatives of ``text`` as formulas (for prompts: f'(x) = 2*x)."""
    formula = parse(text) if variables is None else parse(text, variables)
    names = variables if variables is not None else variables_of(formula)
    derivatives = _derivatives(formula, names)
    if derivatives is None:
        return [str(d) for d in _sympy_derivatives(formula, names)[0]]
    return derivatives[0]


def hessian_formulas(text: str, variables: tuple[str, ...] | None = None) -> list[list[str]]:
    """The second partial derivatives of ``text`` as formulas, row by row (for prompts)."""
    formula = parse(text) if variables is None else parse(text, variables)
    names = variables if variables is not None else variables_of(formula)
    derivatives = _derivatives(formula, names)
    if derivatives is None:
        return [[str(d) for d in row] for row in _sympy_derivatives(formula, names)[1]]
    return derivatives[1]


def cached_formula(kind: str, text: str, compute: Any) -> str | None:
    """``compute(text)``, a formula derived from ``text`` by sympy (or None), remembered in the same cache.

    For formulas the grader derives from a spec's f (its integral, f without
    its constant …): computed once per machine, then read without sympy.
    """
    key = f"{kind}|{text}"
    cache = _load_cache()
    if key in cache:
        return cache[key]
    result = compute(text)
    _store(key, result)
    return result


def _point_function(formula: Formula, names: tuple[str, ...]) -> Any:
    compiled = formula.compile(names)
    return lambda x: compiled(*x)


def _vector_function(formulas: list[Formula], names: tuple[str, ...]) -> Any:
    compiled = [f.compile(names) for f in formulas]
    return lambda x: np.array([c(*x) for c in compiled], dtype=np.float64)


def _matrix_function(formulas: list[list[Formula]], names: tuple[str, ...]) -> Any:
    compiled = [[f.compile(names) for f in row] for row in formulas]
    return lambda x: np.array([[c(*x) for c in row] for row in compiled], dtype=np.float64)


def _derivatives(formula: Formula, names: tuple[str, ...]) -> tuple[list[str], list[list[str]]] | None:
    """Gradient and Hessian as formula text, from the cache or from sympy (then cached)."""
    key = f"{','.join(names)}|{formula.text}"
    cache = _load_cache()
    if key in cache:
        entry = cache[key]
        return (entry["gradient"], entry["hessian"]) if entry else None
    gradient, hessian = _sympy_derivatives(formula, names)
    texts = ([str(g) for g in gradient], [[str(h) for h in row] for row in hessian])
    readable = _all_parse(texts[0]) and all(_all_parse(row) for row in texts[1])
    _store(key, {"gradient": texts[0], "hessian": texts[1]} if readable else None)
    return texts if readable else None


def _sympy_derivatives(formula: Formula, names: tuple[str, ...]) -> tuple[list[Any], list[list[Any]]]:
    import sympy

    symbols = {name: sympy.Symbol(name, real=True) for name in names}
    expression = formula.to_sympy(symbols)
    ordered = [symbols[n] for n in names]
    gradient = [sympy.diff(expression, s) for s in ordered]
    hessian = [[sympy.diff(g, s) for s in ordered] for g in gradient]
    return gradient, hessian


def _all_parse(texts: list[str]) -> bool:
    try:
        for text in texts:
            parse(text)
    except ExpressionError:
        return False
    return True


@functools.lru_cache(maxsize=1)
def _cache_file() -> Path:
    return cache_dir() / "derivatives.json"


_memory: dict[str, Any] | None = None


def _load_cache() -> dict[str, Any]:
    global _memory
    if _memory is None:
        try:
            _memory = json.loads(_cache_file().read_text())
            if not isinstance(_memory, dict):
                _memory = {}
        except (OSError, ValueError):
            _memory = {}
    return _memory


def _store(key: str, entry: dict[str, Any] | str | None) -> None:
    """Remember an entry in memory and, atomically, on disk (a cache: failures to write are ignored)."""
    with _lock:
        cache = _load_cache()
        cache[key] = entry
        try:
            path = _cache_file()
            path.parent.mkdir(parents=True, exist_ok=True)
            handle, temporary = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
            with os.fdopen(handle, "w") as stream:
                json.dump(cache, stream)
            os.replace(temporary, path)
        except OSError:
            pass

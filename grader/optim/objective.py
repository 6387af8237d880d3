"""Objective functions f: R^d -> R with their gradient and Hessian.

An :class:`Objective` is a plain container of numeric callables. It is built
either from callables directly or from a sympy expression, in which case sympy
differentiates it once and the derivatives are lambdified once (and cached).

sympy is imported lazily, inside :meth:`Objective.from_sympy`, so that
``import grader.optim`` stays cheap for commands that never touch it.
"""

from __future__ import annotations

import re
from collections import OrderedDict
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

__all__ = ["Objective", "natural_key"]

PointFunction = Callable[[np.ndarray], Any]

_CACHE_SIZE = 256
_lambdified: OrderedDict[tuple[str, tuple[str, ...]], tuple[Any, Any, Any]] = OrderedDict()


def natural_key(name: str) -> tuple[str | int, ...]:
    """Sort key that orders variable names naturally: x < y < z, x1 < x2 < x10."""
    parts = re.split(r"(\d+)", name)
    return tuple(int(part) if i % 2 else part for i, part in enumerate(parts))


class Objective:
    """A function f: R^d -> R with its gradient ∇f and (optionally) Hessian ∇²f.

    Args:
        variables: names of the d coordinates, in order (e.g. ``("x", "y")``).
        value: callable mapping a float64 array of shape (d,) to f(x).
        gradient: callable mapping a float64 array of shape (d,) to ∇f(x), shape (d,).
        hessian: callable mapping a float64 array of shape (d,) to ∇²f(x),
            shape (d, d); ``None`` if unknown.

    Every method takes a point ``x`` as a sequence of d numbers (a bare number
    is accepted when d = 1) and returns float64: ``value`` a Python float,
    ``gradient`` an array (d,), ``hessian`` an array (d, d).
    """

    __slots__ = ("variables", "_value", "_gradient", "_hessian")

    def __init__(
        self,
        variables: Sequence[str],
        value: PointFunction,
        gradient: PointFunction,
        hessian: PointFunction | None = None,
    ) -> None:
        names = tuple(str(v) for v in variables)
        if len(set(names)) != len(names):
            raise ValueError(f"Variable names must be distinct, got {names}.")
        self.variables: tuple[str, ...] = names
        self._value = value
        self._gradient = gradient
        self._hessian = hessian

    @property
    def dim(self) -> int:
        """Number of variables d."""
        return len(self.variables)

    @property
    def has_hessian(self) -> bool:
        """Whether :meth:`hessian` is available."""
        return self._hessian is not None

    def point(self, x: ArrayLike) -> np.ndarray:
        """Return ``x`` as a float64 array of shape (d,); a number is accepted when d = 1."""
        arr = np.asarray(x, dtype=np.float64)
        if arr.ndim == 0 and self.dim == 1:
            arr = arr.reshape(1)
        if arr.shape != (self.dim,):
            raise ValueError(
                f"Expected a point with {self.dim} coordinate(s) ({', '.join(self.variables)}), got shape {arr.shape}."
            )
        return arr

    def value(self, x: ArrayLike) -> float:
        """f(x) as a float."""
        return float(self._value(self.point(x)))

    def gradient(self, x: ArrayLike) -> np.ndarray:
        """∇f(x) = [∂f/∂x_1, …, ∂f/∂x_d] as a float64 array of shape (d,)."""
        return np.asarray(self._gradient(self.point(x)), dtype=np.float64).reshape(self.dim)

    def hessian(self, x: ArrayLike) -> np.ndarray:
        """∇²f(x), the matrix of ∂²f/∂x_i∂x_j, as a float64 array of shape (d, d)."""
        if self._hessian is None:
            raise ValueError("This objective has no Hessian; pass hessian= or use from_sympy.")
        h = np.asarray(self._hessian(self.point(x)), dtype=np.float64)
        return h.reshape(self.dim, self.dim)

    def __repr__(self) -> str:
        return f"Objective(variables={self.variables!r})"

    @classmethod
    def from_sympy(cls, expr: Any, variables: Sequence[Any] | None = None) -> Objective:
        """Build an objective from a sympy expression, differentiated by sympy.

        The gradient [∂f/∂x_i] and Hessian [∂²f/∂x_i∂x_j] are computed
        symbolically (with the variables taken as real, so ``Abs`` differentiates
        to ``sign``), then lambdified once with ``modules="numpy"``. The numeric
        functions are cached per ``(srepr(expr), variables)``.

        Args:
            expr: a sympy expression in the variables.
            variables: names or symbols of the variables, in order. Default: the
                free symbols of ``expr`` in natural order (x, y, z; x1, x2, …, x10).

        Raises:
            TypeError: if ``expr`` is not a sympy expression.
            ValueError: if ``expr`` depends on a symbol outside ``variables``, or
                has no variable at all and none is given.
        """
        import sympy

        if not isinstance(expr, sympy.Expr):
            raise TypeError(
                f"from_sympy expects a sympy expression, got {type(expr).__name__}; "
                "parse text with grader.expressions first."
            )
        free = {s.name: s for s in expr.free_symbols if isinstance(s, sympy.Symbol)}
        if variables is None:
            if not free:
                raise ValueError(f"{expr} has no variables; pass variables= explicitly.")
            names = tuple(sorted(free, key=natural_key))
        else:
            names = tuple(v.name if isinstance(v, sympy.Symbol) else str(v) for v in variables)
            outside = sorted(set(free) - set(names), key=natural_key)
            if outside:
                raise ValueError(
                    f"{expr} depends on {', '.join(outside)}, which is not among the variables ({', '.join(names)})."
                )
        key = (sympy.srepr(expr), names)
        if key in _lambdified:
            _lambdified.move_to_end(key)
        else:
            _lambdified[key] = _lambdify(sympy, expr, names, free)
            if len(_lambdified) > _CACHE_SIZE:
                _lambdified.popitem(last=False)
        f, df, d2f = _lambdified[key]
        return cls(names, lambda x: f(*x), lambda x: df(*x), lambda x: d2f(*x))


def _lambdify(sympy: Any, expr: Any, names: tuple[str, ...], free: dict[str, Any]) -> tuple:
    """Differentiate ``expr`` in real variables ``names`` and lambdify f, ∇f and ∇²f once."""
    reals = [sympy.Symbol(name, real=True) for name in names]
    expr = expr.xreplace({free[n]: r for n, r in zip(names, reals, strict=True) if n in free})
    grad = [sympy.diff(expr, v) for v in reals]
    hess = [[sympy.diff(g, v) for v in reals] for g in grad]
    return (
        sympy.lambdify(reals, expr, modules="numpy"),
        sympy.lambdify(reals, grad, modules="numpy"),
        sympy.lambdify(reals, hess, modules="numpy"),
    )

"""The answer key of one part of one variant: what the checker compares a student's answer with.

A key holds no student data. The specs compute it once per variant from the
optimizer core (:meth:`grader.specs.model.Catalog.keys`); the part's answer
type (:mod:`grader.answers`) reads and checks answers against it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, Protocol

from grader.checking.compare import Tolerance
from grader.contract import PartResult


class PartType(Protocol):
    """The answer type of a key's part: what :mod:`grader.answers` provides (see
    :class:`grader.answers.base.AnswerType` for each method) and its part protocol
    (:mod:`grader.answers.parts`) calls. This library calls none of it but ``name`` and ``hint``."""

    name: ClassVar[str]
    fixed_shape: ClassVar[bool]  # an answer of another shape may be a written misconception's
    asks_numbers: ClassVar[bool]  # an answer left as formulas is evaluated at the question's point

    def read(self, key: AnswerKey, raw: Any, notes: list[str]) -> Any: ...

    def read_as(self, key: AnswerKey, value: Any) -> tuple[str, str | None, str | None]: ...

    def from_numbers(self, key: AnswerKey, numbers: Any) -> Any: ...

    def check(self, key: AnswerKey, value: Any, earlier: Mapping[str, Any]) -> PartResult: ...

    def hint(self, key: AnswerKey) -> str: ...


@dataclass(frozen=True)
class Misconception:
    """A wrong belief, recomputed: the answer it leads to, the credit it keeps and why it is wrong."""

    id: str
    answer: Any
    credit: float
    feedback: str
    on_collision: str = ""  # the spec's choice where another rule gives the same answer ("name-both": say both)


@dataclass(frozen=True)
class AnswerKey:
    """Everything needed to check one part of one variant.

    ``step`` gives the next item after the student's own items (error carried
    forward in a sequence); ``carried`` recomputes the reference from the
    student's own earlier answers; ``cases`` are the values a labels part
    names one by one, as text (``0.05``). A ``secret`` key's results say
    where an answer is wrong but never what the right value is. Everything
    else a type needs is an option of its answer type (:class:`PartType`).
    """

    part: str
    type: PartType
    points: float
    reference: Any
    misconceptions: tuple[Misconception, ...] = ()
    tolerance: Tolerance = Tolerance()
    step: Callable[[list[Any]], Any] | None = None
    carried: Callable[[Mapping[str, Any]], Any] | None = None
    cases: tuple[str, ...] = ()
    searched: Callable[[], tuple[Misconception, ...]] | None = None
    secret: bool = False  # the reference is a hidden input's result (code exercises): feedback never shows it
    at: Callable[[], Mapping[str, float] | None] | None = None  # the point the part evaluates at, if one (x=1, y=0)

    @property
    def kind(self) -> str:
        """The YAML ``type:`` of the part."""
        return self.type.name

    def hint(self) -> str:
        """The accepted form of an answer to this part, as shown to students (see AnswerType.hint)."""
        return self.type.hint(self)

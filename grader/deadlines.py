"""An assignment's rules applied to one student: when hand-ins open and close, late days, attempts, feedback.

Pure functions over aware datetimes; nothing here reads the store or a clock
other than :func:`now` (which tests replace). The rules come from
``course.yaml`` (:class:`Rules`, on each :class:`grader.specs.model.Assignment`);
a student's extension and earlier hand-ins come from :mod:`grader.store.course`.

* A student's **window** (:func:`window`) is the assignment's ``opens``,
  ``due`` and ``late.until``, the last two moved by the student's extension
  (whole days). Hand-ins are taken from ``opens`` until ``late.until`` (or
  until ``due`` when the assignment takes no late hand-ins).
* A hand-in after ``due`` is late by whole days, rounded up (one minute late
  is one day). The course's bank of free late days (``late_days: 3``) is spent
  on it automatically (:class:`Ledger`): in the order the late hand-ins were
  made, each assignment taking what it needs from what is left, never giving
  it back. The late penalty (``penalty_per_day``, a fraction of the score per
  day) applies only to the days the bank does not cover.
* ``max_attempts`` counts the hand-ins of each exercise of the assignment.
* ``feedback``: ``full`` (scores, sentences, misconceptions), ``verdict``
  (score and status per part only) or ``none`` (nothing) until the student's
  hand-ins close; then everything is shown (:func:`feedback_mode`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

FEEDBACK_MODES = ("full", "verdict", "none")
DAY = timedelta(days=1)
# What graded homework gets when course.yaml sets a due date but says nothing else (docs/specs.md says why).
GRADED_FEEDBACK = "verdict"
GRADED_MAX_ATTEMPTS = 3


def now() -> datetime:
    """The current time, aware, in UTC (tests replace this function to move the clock)."""
    return datetime.now(UTC)


def aware(moment: datetime) -> datetime:
    """A datetime with a zone: a naive one is taken as UTC (the store keeps naive UTC)."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def naive_utc(moment: datetime) -> datetime:
    """An aware datetime as the store keeps it: naive UTC."""
    return aware(moment).astimezone(UTC).replace(tzinfo=None)


def shown_time(moment: datetime) -> str:
    """``2026-12-01 23:59 UTC`` (or ``… UTC+01:00``), in the zone the course file wrote it in."""
    offset = moment.utcoffset() or timedelta(0)
    if not offset:
        zone = "UTC"
    else:
        sign = "+" if offset > timedelta(0) else "-"
        minutes = abs(int(offset.total_seconds())) // 60
        zone = f"UTC{sign}{minutes // 60:02d}:{minutes % 60:02d}"
    return f"{moment.strftime('%Y-%m-%d %H:%M')} {zone}"


def _days(count: int) -> str:
    return f"{count} day{'' if count == 1 else 's'}"


@dataclass(frozen=True)
class Rules:
    """An assignment's rules from course.yaml; all optional (an assignment without them is always open)."""

    opens: datetime | None = None
    due: datetime | None = None
    late_until: datetime | None = None  # None: no late hand-ins
    penalty_per_day: float = 0.0  # fraction of the score lost per late day the bank does not cover
    max_attempts: int | None = None  # per exercise; None: unlimited
    feedback: str = "full"

    @property
    def active(self) -> bool:
        """Whether anything here limits or hides a hand-in."""
        return self != Rules()

    def to_json(self) -> dict[str, Any]:
        return {
            "opens": None if self.opens is None else self.opens.isoformat(),
            "due": None if self.due is None else self.due.isoformat(),
            "late": None
            if self.late_until is None
            else {"until": self.late_until.isoformat(), "penalty_per_day": self.penalty_per_day},
            "max_attempts": self.max_attempts,
            "feedback": self.feedback,
        }


@dataclass(frozen=True)
class Window:
    """One student's times for one assignment: the course's, with ``due`` and ``until`` moved by an extension."""

    assignment: str
    rules: Rules
    extension_days: int = 0

    @property
    def opens(self) -> datetime | None:
        return self.rules.opens

    @property
    def due(self) -> datetime | None:
        return None if self.rules.due is None else self.rules.due + self.extension_days * DAY

    @property
    def until(self) -> datetime | None:
        return None if self.rules.late_until is None else self.rules.late_until + self.extension_days * DAY

    @property
    def closes(self) -> datetime | None:
        """The last moment a hand-in is taken (None: never closes)."""
        return self.until or self.due

    def days_late(self, at: datetime) -> int:
        """Whole days past the due date, rounded up (0 when on time)."""
        due = self.due
        if due is None or at <= due:
            return 0
        return math.ceil((at - due) / DAY)

    def due_sentence(self) -> str:
        """``due 2026-12-04 23:59 UTC (with your 3-day extension)``."""
        if self.due is None:
            return "no due date"
        extension = f" (with your {self.extension_days}-day extension)" if self.extension_days else ""
        return f"due {shown_time(self.due)}{extension}"


def window(assignment: Any, extension_days: int = 0) -> Window:
    """The student's window of an :class:`~grader.specs.model.Assignment`."""
    return Window(assignment.id, assignment.rules, int(extension_days or 0))


@dataclass(frozen=True)
class Lateness:
    """What one hand-in's time means: days late, late days it has spent, and the penalty left over."""

    days_late: int = 0
    late_days_spent: int = 0  # by this assignment so far, this hand-in included
    late_days_left: int = 0  # in the course's bank after this hand-in
    penalty: float = 0.0  # fraction of the score lost (0 to 1)
    penalised_days: int = 0  # days late the bank did not cover

    def to_json(self) -> dict[str, Any]:
        return {
            "days_late": self.days_late,
            "late_days_spent": self.late_days_spent,
            "late_days_left": self.late_days_left,
            "penalised_days": self.penalised_days,
            "penalty": round(self.penalty, 4),
        }

    def sentence(self, assignment: str, *, before: bool = False) -> str:
        """What the student is told, before (``handing in now …``) or after a hand-in."""
        lead = "Handing in now is" if before else "This hand-in is"
        if not self.days_late:
            left = self.late_days_left
            return f"{lead} on time for {assignment}; you have {left} late day{'' if left == 1 else 's'} left."
        text = f"{lead} {_days(self.days_late)} late for {assignment}"
        covered = self.days_late - self.penalised_days
        if covered:
            text += f"; {_days(covered)} of it {'are' if covered > 1 else 'is'} covered by your late days"
            text += f" ({self.late_days_spent} spent on {assignment}, {self.late_days_left} left)"
        if self.penalised_days:
            text += f"; {_days(self.penalised_days)} past them cost{'s' if self.penalised_days == 1 else ''}"
            text += f" {round(100 * self.penalty):g}% of the score"
        return text + "."


@dataclass
class Ledger:
    """One student's bank of late days, spent hand-in by hand-in in the order they were made.

    Each assignment keeps the days it has taken; a later hand-in of the same
    assignment takes more only for the days it needs beyond them, and only
    while the bank has days left.
    """

    bank: int
    spent: dict[str, int] = field(default_factory=dict)

    @property
    def left(self) -> int:
        return max(0, self.bank - sum(self.spent.values()))

    def hand_in(self, student_window: Window, at: datetime) -> Lateness:
        """Spend what a hand-in at ``at`` needs and return what it means."""
        late = student_window.days_late(at)
        name = student_window.assignment
        have = self.spent.get(name, 0)
        if late > have:
            have += min(late - have, self.left)
            if have:
                self.spent[name] = have
        penalised = max(0, late - have)
        penalty = min(1.0, penalised * student_window.rules.penalty_per_day)
        return Lateness(late, self.spent.get(name, 0), self.left, penalty, penalised)

    def preview(self, student_window: Window, at: datetime) -> Lateness:
        """What a hand-in at ``at`` would mean, spending nothing."""
        return replace(self, spent=dict(self.spent)).hand_in(student_window, at)


@dataclass(frozen=True)
class Attempts:
    used: int
    left: int | None  # None: unlimited

    def to_json(self) -> dict[str, Any]:
        return {"used": self.used, "left": self.left}


def attempts(rules: Rules, used: int) -> Attempts:
    return Attempts(used, None if rules.max_attempts is None else max(0, rules.max_attempts - used))


def refusal(student_window: Window, at: datetime) -> str | None:
    """Why a hand-in at ``at`` is not taken (one sentence), or None when it is."""
    name, opens, due, until = student_window.assignment, student_window.opens, student_window.due, student_window.until
    if opens is not None and at < opens:
        return f"{name} opens on {shown_time(opens)}; hand-ins are taken from then on"
    if due is None or at <= due:
        return None
    extension = f" (with your {student_window.extension_days}-day extension)" if student_window.extension_days else ""
    if until is None:
        return f"{name} closed on {shown_time(due)}{extension} and takes no late hand-ins"
    if at > until:
        return f"{name} closed on {shown_time(due)}{extension}; late hand-ins were accepted until {shown_time(until)}"
    return None


def attempts_refusal(assignment: str, exercise: str, rules: Rules, used: int) -> str | None:
    """Why one more attempt at ``exercise`` is not taken, or None."""
    if rules.max_attempts is not None and used >= rules.max_attempts:
        return (
            f"you have used all {rules.max_attempts} attempts at {exercise} that {assignment} allows "
            f"(max_attempts: {rules.max_attempts})"
        )
    return None


def feedback_mode(student_window: Window, at: datetime) -> str:
    """What a student sees of a result at ``at``: the assignment's mode until their hand-ins close, then ``full``."""
    closes = student_window.closes
    if student_window.rules.feedback == "full" or (closes is not None and at > closes):
        return "full"
    return student_window.rules.feedback


def withheld_sentence(student_window: Window) -> str:
    """Said instead of a result whose feedback is ``none``."""
    closes = student_window.closes
    when = f"after {shown_time(closes)}" if closes is not None else "later"
    return f"Your answers to {student_window.assignment} are stored; scores and feedback are shown {when}."


VERDICT_SENTENCES = {
    "correct": "Correct.",
    "partial": "Partly right.",
    "incorrect": "Not right.",
    "missing": "No answer.",
    "needs_review": "A TA will read this answer.",
}


def verdict_part(part: Mapping[str, Any]) -> dict[str, Any]:
    """A part result as ``feedback: verdict`` shows it: score and status, no sentence that could give the
    answer away (an unreadable answer keeps the reason it could not be read: it is about what was typed)."""
    status = part.get("status")
    feedback = part.get("feedback", "") if status == "invalid" else VERDICT_SENTENCES.get(str(status), "")
    return {**part, "feedback": feedback, "misconception": None, "details": {}}

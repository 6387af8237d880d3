"""``grader grade --late-from mtime|csv|none``: the assignment's deadlines applied to a folder of notebooks.

With ``none`` (the default) nothing changes. Otherwise each notebook's
hand-in time is its file's modification time (``mtime``) or its student's
``submitted_at`` in ``--submitted-at times.csv`` (``csv``; columns
``student,submitted_at``, ISO 8601 times with a zone), and the rules of the
notebook's assignment in course.yaml apply as the service applies them
(:mod:`grader.deadlines`): the student's extension and the late days they
already spent come from the store (``DATABASE_URL``, when there is one), the
batch's late hand-ins spend the bank in time order, and the output says, per
notebook, how late it was, the late days it spent and the penalty, with the
score after it (JSON ``late``; CSV columns ``handed_in_at``, ``days_late``,
``late_days_spent``, ``late_penalty``, ``total_after_penalty``; text a note
after each line). A notebook handed in after its assignment closed is
graded and flagged (``closed``): a TA decides what to do with it.

With ``--queue`` the notebooks become stored submissions, and each one's
hand-in time is recorded with it (:func:`grader.notebooks.queued.handin_of`),
so the service's gradebook applies the same late days and penalties; the
store's standings are then read before the batch is queued
(:meth:`LatePlan.read_standings`), so the batch's own hand-ins are not
counted twice.
"""

from __future__ import annotations

import csv
import io
import json
import os
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from grader import deadlines
from grader.contract import rounded_score


class LateError(ValueError):
    """Options or a ``--submitted-at`` file that cannot be used: one sentence (the command exits 2 with it)."""


def read_times(path: str) -> dict[str, datetime]:
    """``student,submitted_at`` rows as student → aware time; :class:`LateError` naming the line of anything else."""
    try:
        text = Path(path).read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise LateError(f"--submitted-at {path} does not exist") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise LateError(f"could not read --submitted-at {path} as UTF-8 text ({exc})") from None
    try:
        reader = csv.DictReader(io.StringIO(text))
        header = [h.strip().lower() for h in reader.fieldnames or []]
        if "student" not in header or "submitted_at" not in header:
            raise LateError(f"{path}: the first line must name the columns student,submitted_at")
        times: dict[str, datetime] = {}
        for number, raw in enumerate(reader, start=2):
            row = {str(k).strip().lower(): (v or "").strip() for k, v in raw.items() if k is not None}
            if not any(row.values()):
                continue
            student, value = row.get("student", ""), row.get("submitted_at", "")
            try:
                moment = datetime.fromisoformat(value.replace(" ", "T", 1) if "T" not in value else value)
            except ValueError:
                raise LateError(
                    f"{path}: line {number}: submitted_at {value[:40]!r} is not a time like 2026-12-02T10:15:00+00:00"
                ) from None
            if moment.tzinfo is None:
                raise LateError(
                    f"{path}: line {number}: submitted_at {value[:40]!r} has no zone: add +00:00 (or Z) for UTC"
                )
            if student in times:
                raise LateError(f"{path}: line {number}: {student[:60]} is listed twice")
            times[student] = moment
    except csv.Error as exc:
        raise LateError(f"{path} is not a CSV file ({exc})") from None
    return times


@dataclass
class LatePlan:
    """Each notebook's hand-in time (by file), and what it came to once graded (:meth:`judge`)."""

    catalog: Any
    source: str
    times: dict[str, datetime]
    lateness: dict[str, tuple[str, datetime, deadlines.Window, deadlines.Lateness, str | None]] = field(
        default_factory=dict
    )
    standings: dict[str, tuple[dict[str, int], deadlines.Ledger]] | None = None  # read before the batch was stored

    def read_standings(self, db: Any, students: set[str]) -> None:
        """Take the students' extensions and late days from ``db`` now, before the batch's hand-ins are stored in
        it (``--queue``): :meth:`judge` then replays the batch on top of what was there before."""
        self.standings = _standings_in(db, self.catalog, students)

    def judge(self, results: list[Any]) -> None:
        """Replay each student's hand-ins (stored ones first, then the batch's in time order) through their bank."""
        if self.standings is not None:
            standings = {s: (extensions, _copy(ledger)) for s, (extensions, ledger) in self.standings.items()}
        else:
            standings = _standings(self.catalog, {r.student for r in results})
        ordered = sorted((r for r in results if r.file in self.times), key=lambda r: (self.times[r.file], r.file))
        for result in ordered:
            assignment = self.catalog.assignments.get(result.assignment or "")
            if assignment is None or assignment.rules.due is None:
                continue
            extensions, ledger = standings.setdefault(result.student, ({}, deadlines.Ledger(self.catalog.late_days)))
            window = deadlines.window(assignment, extensions.get(assignment.id, 0))
            at = self.times[result.file]
            closed = deadlines.refusal(window, at)
            self.lateness[result.file] = (assignment.id, at, window, ledger.hand_in(window, at), closed)

    def entry(self, result: Any) -> dict[str, Any] | None:
        found = self.lateness.get(result.file)
        if found is None:
            return None
        assignment, at, window, lateness, closed = found
        return {
            "assignment": assignment,
            "handed_in_at": at.isoformat(),
            "from": self.source,
            "due": None if window.due is None else window.due.isoformat(),
            **lateness.to_json(),
            "score_after_penalty": rounded_score(result.score * (1 - lateness.penalty)) if result.graded else None,
            "closed": closed,
            "message": lateness.sentence(assignment),
        }


def _standings(catalog: Any, students: set[str]) -> dict[str, tuple[dict[str, int], deadlines.Ledger]]:
    """Extensions and late days already spent, from the store when there is one (nothing is created)."""
    from grader.store.db import default_url

    url = default_url()
    if url.startswith("sqlite:///") and not os.path.exists(url.removeprefix("sqlite:///")):
        return {}
    from grader.store.db import Database

    db = Database(url)
    try:
        db.migrate()
        return _standings_in(db, catalog, students)
    finally:
        db.dispose()


def _standings_in(db: Any, catalog: Any, students: set[str]) -> dict[str, tuple[dict[str, int], deadlines.Ledger]]:
    from grader.store import course

    found = {}
    for student in students:
        standing = course.standing(db, catalog, student)
        found[student] = (standing.extensions, standing.ledger)
    return found


def _copy(ledger: deadlines.Ledger) -> deadlines.Ledger:
    return deadlines.Ledger(ledger.bank, dict(ledger.spent))


def plan(
    batch: list[Any], catalog: Any, late_from: str, submitted_at: str | None, output_format: str
) -> LatePlan | None:
    """The hand-in times the options ask for (None for ``--late-from none``); :class:`LateError` for options that
    do not fit."""
    if late_from == "none":
        if submitted_at:
            raise LateError("--submitted-at is read with --late-from csv")
        return None
    if output_format == "gradescope":
        raise LateError("--late-from goes with --format text, json or csv (Gradescope applies its own late policy)")
    if late_from == "csv":
        if not submitted_at:
            raise LateError("--late-from csv needs --submitted-at FILE.csv (columns student,submitted_at)")
        by_student = read_times(submitted_at)
        missing = sorted({h.owner.student for h in batch if h.owner.student not in by_student})
        if missing:
            more = f" and {len(missing) - 1} more" if len(missing) > 1 else ""
            raise LateError(f"{submitted_at} has no submitted_at for {missing[0]}{more}")
        return LatePlan(catalog, "csv", {str(h.path): by_student[h.owner.student] for h in batch})
    if submitted_at:
        raise LateError("--submitted-at is read with --late-from csv, not mtime")
    times = {}
    for handed in batch:
        try:
            times[str(handed.path)] = datetime.fromtimestamp(handed.path.stat().st_mtime, UTC)
        except OSError:
            continue  # could not be read: its result says so
    return LatePlan(catalog, "mtime", times)


def rendered(text: str, output_format: str, results: list[Any], late: LatePlan | None) -> str:
    """The output with each notebook's lateness added (unchanged without ``--late-from``)."""
    if late is None:
        return text
    late.judge(results)
    entries = [late.entry(r) for r in results]
    if output_format == "json":
        data = json.loads(text)
        for item, entry in zip(data, entries, strict=True):
            item["late"] = entry
        return json.dumps(data, indent=2, ensure_ascii=False)
    if output_format == "csv":
        rows = list(csv.reader(io.StringIO(text)))
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(
            [*rows[0], "handed_in_at", "days_late", "late_days_spent", "late_penalty", "total_after_penalty"]
        )
        for cells, entry in zip(rows[1:], entries, strict=True):
            extra = (
                ["", "", "", "", ""]
                if entry is None
                else [
                    entry["handed_in_at"],
                    entry["days_late"],
                    entry["late_days_spent"],
                    entry["penalty"],
                    "" if entry["score_after_penalty"] is None else entry["score_after_penalty"],
                ]
            )
            writer.writerow([*cells, *extra])
        return out.getvalue()
    lines = text.splitlines()
    for number, entry in enumerate(entries):
        if entry is not None and number < len(lines):
            note = f"{entry['days_late']} day(s) late" if entry["days_late"] else "on time"
            if entry["late_days_spent"]:
                note += f", {entry['late_days_spent']} late day(s) spent"
            if entry["penalty"]:
                note += f", -{round(100 * entry['penalty']):g}% → {entry['score_after_penalty']}"
            if entry["closed"]:
                note += f"; handed in after it closed ({entry['closed']})"
            lines[number] += f"  [{note}]"
    return "\n".join(lines)

"""The autograder bundle Gradescope runs for each submission (``grader gradescope-autograder ASSIGNMENT -o
autograder.zip`` writes it), and what runs inside it.

Gradescope (https://gradescope-autograders.readthedocs.io/en/latest/specs/)
unzips the bundle into ``/autograder/source``, runs its ``setup.sh`` once
when it builds the image, and for every submission runs ``run_autograder``
with the student's files in ``/autograder/submission``; the script must write
``/autograder/results/results.json``. The bundle holds:

- ``setup.sh``: installs Python and this grader (from the bundle's copy, ``optgrader/``) into ``/autograder/venv``;
- ``run_autograder``: runs :func:`run` (``python -m grader.autograder``);
  ``GRADER_AUTOGRADER_ROOT`` replaces ``/autograder`` (to try the bundle
  in a folder laid out the same way) and ``GRADER_AUTOGRADER_PYTHON`` the
  Python it runs;
- ``exercises/``: the course's specs as they are now (``GRADER_EXERCISES`` points there);
- ``autograder.json``: the assignment, the time and memory limits, Gradescope's visibility;
- ``data/secret``: the course secret, only when variants are per student (each student's numbers depend on it).

:func:`run` grades the one notebook of the submission with ``grader grade``
(in the sandbox, as everywhere) and writes one test per part. Whose notebook
it is: its metadata (a notebook from ``grader notebook --student``), else the
submitter Gradescope names (``submission_metadata.json``: sid, else email).
A submission without a notebook, or with several, gets a results.json that
says so (score 0). When the grader itself fails (its sandbox cannot start,
or the notebook was not graded through no fault of the student's),
``run_autograder`` writes no results and exits 1: Gradescope then reports an
autograder failure to the course staff instead of a student's zero.
"""

from __future__ import annotations

import io
import json
import stat
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path
from typing import Any

CONFIG = "autograder.json"

RUN_AUTOGRADER = """#!/usr/bin/env bash
# Gradescope runs this for every submission, in /autograder (see setup.sh). GRADER_AUTOGRADER_ROOT replaces
# /autograder, to try the bundle in a folder laid out like Gradescope's; GRADER_AUTOGRADER_PYTHON the Python.
set -u
ROOT="${GRADER_AUTOGRADER_ROOT:-/autograder}"
PYTHON="${GRADER_AUTOGRADER_PYTHON:-$ROOT/venv/bin/python}"
export GRADER_AUTOGRADER_ROOT="$ROOT"
export GRADER_EXERCISES="$ROOT/source/exercises"
export GRADER_DATA="$ROOT/source/data"
export GRADER_CACHE="${GRADER_CACHE:-$ROOT/source/cache}"
unset GRADER_SECRET GRADER_VARIANTS
exec "$PYTHON" -m grader.autograder
"""

SETUP = """#!/usr/bin/env bash
# Gradescope runs this once, when it builds the autograder's image (choose its Ubuntu 24.04 base image:
# the grader needs Python 3.11 or newer). It installs the grader from this bundle into /autograder/venv.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
apt-get update
apt-get install -y --no-install-recommends python3 python3-venv python3-pip libseccomp2
python3 -c 'import sys; assert sys.version_info >= (3, 11), "the grader needs Python 3.11 or newer"'
python3 -m venv /autograder/venv
/autograder/venv/bin/pip install --upgrade pip
/autograder/venv/bin/pip install /autograder/source/optgrader
"""


def bundle_config(catalog: Any, assignment: str, timeout: float, memory: int) -> dict[str, Any]:
    """What ``autograder.json`` holds: the assignment, the limits, and Gradescope's visibility of the tests (the
    assignment's feedback setting, :func:`grader.reports.exports.gradescope_visibility`)."""
    from grader.reports.exports import gradescope_visibility

    found = catalog.assignments[assignment]
    visibility, sentences = gradescope_visibility(found)
    return {
        "assignment": assignment,
        "title": found.title,
        "timeout": timeout,
        "memory": memory,
        "visibility": visibility,
        "sentences": sentences,
    }


def tests_of(catalog: Any, assignment: str) -> int:
    """How many tests Gradescope shows: one per part of the assignment's exercises."""
    return sum(len(catalog.exercises[e].parts) for e in catalog.assignments[assignment].exercises)


def bundle(catalog: Any, config: dict[str, Any]) -> bytes:
    """The autograder zip: scripts at its root, the grader, the specs, the settings (and the secret if needed)."""
    from grader.paths import PACKAGE_ROOT, PROJECT_ROOT, exercises_dir
    from grader.specs.model import course_secret

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        _add(archive, "setup.sh", SETUP, executable=True)
        _add(archive, "run_autograder", RUN_AUTOGRADER, executable=True)
        _add(archive, CONFIG, json.dumps(config, indent=2) + "\n")
        _add(archive, "optgrader/pyproject.toml", (PROJECT_ROOT / "pyproject.toml").read_text(encoding="utf-8"))
        for file in sorted(PACKAGE_ROOT.rglob("*")):
            if file.is_file() and "__pycache__" not in file.parts and file.suffix not in (".pyc", ".pyo"):
                _add(archive, f"optgrader/grader/{file.relative_to(PACKAGE_ROOT).as_posix()}", file.read_bytes())
        specs = exercises_dir()
        for file in sorted(specs.rglob("*")):
            if file.is_file() and file.suffix in (".yaml", ".yml"):
                _add(archive, f"exercises/{file.relative_to(specs).as_posix()}", file.read_bytes())
        if catalog.per_student:
            _add(archive, "data/secret", course_secret() + "\n", mode=0o600)
    return buffer.getvalue()


def _add(archive: zipfile.ZipFile, name: str, data: str | bytes, executable: bool = False, mode: int = 0o644) -> None:
    info = zipfile.ZipInfo(name, date_time=(2026, 1, 1, 0, 0, 0))
    info.external_attr = ((0o755 if executable else mode) | stat.S_IFREG) << 16
    info.compress_type = zipfile.ZIP_DEFLATED
    archive.writestr(info, data.encode() if isinstance(data, str) else data)


# In Gradescope's container ---------------------------------------------------------------------------


def run(root: Path | None = None) -> int:
    """Grade the submission under ``root`` (``/autograder``) and write its results.json; 0 when written, 1 when
    the grader failed (nothing written, so that Gradescope reports the failure instead of a zero)."""
    from grader.settings import current

    root = root or current().autograder_root or Path("/autograder")
    config = json.loads((root / "source" / CONFIG).read_text(encoding="utf-8"))
    assignment = config["assignment"]
    results = root / "results" / "results.json"
    started = time.monotonic()
    notebooks = sorted(
        p for p in (root / "submission").rglob("*.ipynb") if p.is_file() and ".ipynb_checkpoints" not in p.parts
    )
    if not notebooks:
        return _write(
            results,
            _refusal(
                f"No Jupyter notebook (.ipynb) was found in your submission: upload your {assignment} notebook.", config
            ),
        )
    if len(notebooks) > 1:
        names = ", ".join(p.name for p in notebooks)
        return _write(
            results,
            _refusal(f"Upload one notebook for {assignment}; this submission has {len(notebooks)}: {names}.", config),
        )
    notebook = notebooks[0]
    with tempfile.TemporaryDirectory(prefix="grader-gradescope-") as scratch:
        graded = Path(scratch) / "graded.json"
        command = [
            sys.executable, "-m", "grader.cli", "grade", str(notebook),
            "--assignment", assignment, "--format", "json", "--out", str(graded), "--workers", "1",
            "--timeout", str(config.get("timeout", 60)), "--memory", str(config.get("memory", 1024)),
        ]  # fmt: skip
        student = _submitter(root, notebook)
        if student is not None:
            command += ["--student", student]
        finished = subprocess.run(command, capture_output=True, text=True, check=False)
        sys.stdout.write(finished.stderr)
        if finished.returncode not in (0, 1) or not graded.exists():
            print(f"the grader failed (exit {finished.returncode}); no results were written", flush=True)
            return 1
        documents = json.loads(graded.read_text(encoding="utf-8"))
    from grader.contract import NotebookResult
    from grader.reports.exports import gradescope

    result = NotebookResult.from_json(documents[0])
    if not result.graded:
        print(f"the grader could not grade {notebook.name}: {result.error}; no results were written", flush=True)
        return 1
    report = gradescope(result, config.get("visibility", "visible"), bool(config.get("sentences", True)))
    report["execution_time"] = round(time.monotonic() - started, 1)
    print(f"{result.student}: {result.score} / {result.max_score}", flush=True)
    return _write(results, report)


def _submitter(root: Path, notebook: Path) -> str | None:
    """Whose notebook, when its metadata does not say: the submitter Gradescope names (sid, else email)."""
    from grader.specs.model import DEFAULT_STUDENT
    from grader.students import student_id

    try:
        metadata = json.loads(notebook.read_text(encoding="utf-8")).get("metadata", {})
    except (OSError, ValueError, AttributeError):
        metadata = {}
    named = metadata.get("grader") if isinstance(metadata, dict) else None
    if isinstance(named, dict) and named.get("student") not in (None, "", DEFAULT_STUDENT):
        return None  # the notebook says (grader notebook --student): the intake reads it
    try:
        users = json.loads((root / "submission_metadata.json").read_text(encoding="utf-8")).get("users") or []
    except (OSError, ValueError, AttributeError):
        return None
    for user in users:
        for key in ("sid", "email"):
            value = str((user or {}).get(key) or "").strip()
            if value:
                return student_id(value.split("@")[0] if key == "email" else value)
    return None


def _refusal(sentence: str, config: dict[str, Any]) -> dict[str, Any]:
    return {"score": 0, "output": sentence, "tests": [], "visibility": config.get("visibility", "visible")}


def _write(path: Path, report: dict[str, Any]) -> int:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(run())

"""A running server picks up new and changed specs without a restart, and refuses broken ones."""

import logging
import os
import shutil
import signal
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from test_web_helpers import make_app

from grader.paths import exercises_dir
from grader.web.reload import SpecReloader

pytest_plugins = ["test_web_helpers"]  # the shared fixtures

NEW_EXERCISE = """\
id: cubic-step
title: One step on a cubic
prompt: "Gradient descent on f(x) = x**3 from x0 = {{x0}} with eta = {{eta}}."
parameters: {f: "x**3", x0: {default: 1, choices: [1, 2]}, eta: 0.1}
parts:
  - {id: x1, type: number, answer: "iterates(gd(eta), f, x0, 1)[1]"}
"""


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    copy = tmp_path / "exercises"
    shutil.copytree(exercises_dir(), copy)
    return copy


@pytest.fixture
def app(sqlite_db: Any, folder: Path) -> Any:
    application = make_app(sqlite_db, None, EXERCISES=str(folder), SPEC_RELOAD_SECONDS=3600, GRADER_OPEN=True)
    yield application
    application.extensions["grader.reloader"].stop()


def touch(path: Path, text: str) -> None:
    path.write_text(text)
    later = time.time_ns() + 10**9  # a visible change even on a coarse file-system clock
    os.utime(path, ns=(later, later))


def test_a_changed_and_a_new_spec_are_served_without_restart(app: Any, folder: Path) -> None:
    reloader: SpecReloader = app.extensions["grader.reloader"]
    client = app.test_client()
    spec = folder / "gd-parabola.yaml"
    touch(spec, spec.read_text().replace("title: Gradient descent on a parabola", "title: GD on a parabola"))
    touch(folder / "cubic-step.yaml", NEW_EXERCISE)
    assert reloader.check() is True
    assert client.get("/api/exercises/gd-parabola").get_json()["title"] == "GD on a parabola"
    assert client.get("/api/exercises/cubic-step").status_code == 200
    graded = client.post("/api/grade", json={"student": "s1", "answers": {"cubic-step": {"x1": "0.7"}}}).get_json()
    assert graded["score"] == graded["max_score"] == 1
    assert reloader.check() is None  # nothing changed since


@pytest.mark.parametrize(
    ("broken", "said"),
    [
        ("id: cubic-step\ntitle: [unclosed\n", "at line 3, column 1"),
        (NEW_EXERCISE.replace("iterates(gd(eta), f, x0, 1)[1]", "nosuchfunction(1)"), "unknown function"),
        (
            NEW_EXERCISE
            + '  - {id: xs, type: sequence, answer: "iterates(gd(eta), f, x0, 3)", step: "next_from(adam(eta), f)"}\n',
            "step rule does not reproduce the reference",
        ),
    ],
)
def test_a_broken_spec_is_refused_with_one_log_line_and_the_old_specs_stay(
    app: Any, folder: Path, caplog: pytest.LogCaptureFixture, broken: str, said: str
) -> None:
    reloader: SpecReloader = app.extensions["grader.reloader"]
    before = app.extensions["grader"].catalog
    touch(folder / "cubic-step.yaml", broken)
    with caplog.at_level(logging.INFO, logger="grader.specs"):
        assert reloader.check() is False
    assert app.extensions["grader"].catalog is before
    assert app.test_client().get("/api/exercises/cubic-step").status_code == 404
    lines = [r for r in caplog.records if r.name == "grader.specs"]
    assert len(lines) == 1 and lines[0].levelno == logging.WARNING
    assert "spec change refused (cubic-step.yaml)" in lines[0].getMessage() and said in lines[0].getMessage()
    assert reloader.check() is None  # the same broken state is not tried again


@pytest.mark.skipif(not hasattr(signal, "SIGHUP"), reason="SIGHUP is a POSIX signal")
def test_sighup_reloads_at_once(sqlite_db: Any, folder: Path) -> None:
    if threading.current_thread() is not threading.main_thread():
        pytest.fail("signals need the main thread")
    previous = signal.signal(signal.SIGHUP, signal.SIG_DFL)
    app = make_app(sqlite_db, None, EXERCISES=str(folder), SPEC_RELOAD_SECONDS=3600)
    try:
        touch(folder / "cubic-step.yaml", NEW_EXERCISE)
        os.kill(os.getpid(), signal.SIGHUP)
        for _ in range(600):  # waits for the watcher thread, whatever the machine's load
            if "cubic-step" in app.extensions["grader"].catalog.exercises:
                break
            time.sleep(0.05)
        assert "cubic-step" in app.extensions["grader"].catalog.exercises
    finally:
        app.extensions["grader.reloader"].stop()
        signal.signal(signal.SIGHUP, previous)

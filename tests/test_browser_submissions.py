"""A submission's page and the "read as" line in headless Chromium, each page and state audited by axe-core.

Follows tests/test_browser.py (the same fixtures: werkzeug on a free loopback
port with CSRF protection on, Debian's chromium and chromedriver, axe-core
injected, reflow at 320 px). The notebook grader here holds each notebook until
the test opens its gate, then grades the answers the notebook's metadata
carries and reports them as bound values and a cell error, as the real batch
does, so the page has a plot and cell errors to show.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from selenium import webdriver
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from test_browser import Audit, _log_in, _log_out, _ready, _serve, wait
from test_web_helpers import make_app, notebook_bytes

from grader.contract import NotebookResult
from grader.grading import grade
from grader.store.users import add_user

pytest_plugins = ["test_web_helpers", "test_browser"]  # the shared fixtures, and the browser of test_browser

SLIP = [4, 2, 1.5, 0.75, 0.375, 0.1875]
STEP_TWO = "Step 2 is off: from x₁ = 2 the update gives x₂ = 1; you wrote 1.5."


class HeldGrader:
    """Grades a notebook's ``metadata.answers`` once :meth:`open` is called, as the batch reports a notebook."""

    def __init__(self) -> None:
        self.event = threading.Event()

    def __call__(self, data: bytes, filename: str, catalog: Any, assignment: Any = None, student: Any = None, **_: Any):
        import json

        self.event.wait(60)
        answers = json.loads(data)["metadata"]["answers"]
        result = grade({"student": student or "default", "answers": answers, "assignment": assignment}, catalog)
        return NotebookResult(
            result.student,
            result.exercises,
            file=filename,
            assignment=assignment,
            error=None,
            cell_errors=[{"cell": 7, "ename": "NameError", "evalue": "name 'eta' is not defined"}],
            answers=answers,
        )

    def open(self) -> None:
        self.event.set()


@pytest.fixture
def held() -> Iterator[HeldGrader]:
    grader = HeldGrader()
    yield grader
    grader.open()


@pytest.fixture
def server(sqlite_db: Any, catalog: Any, held: HeldGrader) -> Iterator[tuple[str, Any]]:
    app = make_app(sqlite_db, catalog, WTF_CSRF_ENABLED=True, NOTEBOOK_GRADER=held)
    yield from ((base, app) for base in _serve(app))
    held.open()
    app.extensions["grader"].jobs.shutdown()


def _read_line(browser: webdriver.Chrome, part: str, contains: str) -> Any:
    line = browser.find_element(By.ID, f"read-{part}")
    wait(browser, 20).until(lambda d: contains in line.text and line.is_displayed())
    return line


def test_a_notebooks_page_follows_its_grading_and_shows_its_feedback(
    server: tuple[str, Any], browser: webdriver.Chrome, held: HeldGrader, tmp_path: Path, catalog: Any
) -> None:
    base, app = server
    db = app.extensions["grader"].db
    add_user("s001", db=db)
    student, other = add_user("s003", db=db), add_user("s002", db=db)
    audit = Audit(browser)

    # Hand in a notebook from the page, then open its own page while it waits.
    _log_in(browser, base, student)
    path = tmp_path / "lec4-inclass.ipynb"
    path.write_bytes(notebook_bytes({"gd-parabola": {"iterates": SLIP, "values": "18, 6, 3, 2.25, 2.0625, 2.015625"}}))
    browser.get(f"{base}/")
    browser.find_element(By.CSS_SELECTOR, "form.upload input[type=file]").send_keys(str(path))
    browser.find_element(By.CSS_SELECTOR, "form.upload button").click()
    wait(browser, 20).until(lambda d: d.find_elements(By.ID, "submissions"))
    link = browser.find_element(By.CSS_SELECTOR, "#submissions tbody tr a")
    assert link.text == catalog.assignments["lec4-inclass"].title  # linked to the submission's page
    audit.check("my submissions, a notebook waiting")
    link.click()
    wait(browser, 20).until(lambda d: d.find_elements(By.ID, "submission-status"))
    submission_url = browser.current_url
    status = browser.find_element(By.ID, "submission-status")
    assert status.get_attribute("role") == "status" and status.get_attribute("aria-live") == "polite"
    assert "This page updates itself." in status.text
    audit.check("a notebook's page while it waits")

    # It is graded while the page is open: the page updates in place, never reloaded.
    browser.execute_script("window.notReloaded = true")
    held.open()
    wait(browser, 30).until(lambda d: "Graded:" in d.find_element(By.ID, "submission-status").text)
    assert browser.execute_script("return window.notReloaded") is True
    assert browser.find_element(By.ID, "submission-status").text == "Graded: 11 / 21."
    iterates = browser.find_element(By.ID, "feedback-gd-parabola-iterates")
    assert STEP_TWO in iterates.text and "First wrong step: 2." in iterates.text
    assert iterates.get_attribute("data-status") == "partial"
    assert "Correct." in browser.find_element(By.ID, "feedback-gd-parabola-values").text
    assert browser.find_element(By.ID, "feedback-learning-rate-converges").get_attribute("data-status") == "missing"
    plot = browser.find_element(By.CSS_SELECTOR, "#exercise-gd-parabola img.plot")
    assert "with your path: x₀ = 4, x₁ = 2, x₂ = 1.5" in plot.get_attribute("alt")
    assert "Cell 7: NameError: name 'eta' is not defined" in browser.find_element(By.ID, "submission-result").text
    audit.check("a notebook's page after it was graded")
    audit.visit(submission_url, "a graded notebook's page, loaded afresh")
    audit.visit(f"{base}/submissions", "my submissions, graded")

    # The exercise page reads each answer while it is typed, typeset with KaTeX.
    browser.get(f"{base}/exercises/gd-parabola")
    _ready(browser)
    field = browser.find_element(By.ID, "input-iterates")
    field.send_keys("4, 2, 1, 1/2, 1/4, 1/8")
    line = _read_line(browser, "iterates", "read as:")
    assert line.find_elements(By.CSS_SELECTOR, ".katex")  # typeset, with MathML for screen readers
    assert line.text.endswith("(6 numbers)")
    assert "read-iterates" in field.get_attribute("aria-describedby")
    audit.check("exercise page, an answer read as typed")
    field.send_keys(Keys.CONTROL, "a")
    field.send_keys("four, two")
    line = _read_line(browser, "iterates", "Could not read")
    assert line.get_attribute("data-state") == "unreadable" and "Write 6 numbers" in line.text
    audit.check("exercise page, an answer that cannot be read yet")
    _log_out(browser)

    # Another student: the same address is a page that is not there.
    _log_in(browser, base, other)
    browser.get(submission_url)
    _ready(browser)
    assert browser.find_element(By.TAG_NAME, "h1").text == "Page not found"
    assert STEP_TWO not in browser.page_source
    audit.check("another student's submission (404)")

    assert audit.problems == [], "\n".join(audit.problems)

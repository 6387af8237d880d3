"""Every page in a real browser: headless Chromium, axe-core, reflow at 320 px, the keyboard, cross-site forms.

Needs Debian's ``chromium`` and ``chromium-driver`` (``/usr/bin/chromium``,
``/usr/bin/chromedriver``) and selenium. The app runs in this process on a
free loopback port (werkzeug in a thread), with its CSRF protection on as in
production. axe-core (``tests/vendor/axe-core``, the npm package's own file)
is injected into each page and must find no WCAG 2.1 A/AA violation.

A page added to the service is added to :func:`test_every_page_passes_axe_and_reflows_for_each_role`
in the same change (docs/accessibility.md).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from selenium import webdriver
from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.ui import WebDriverWait
from test_web_helpers import CORRECT, SIGN_ERROR, fake_grade_notebook, make_app, notebook_bytes
from werkzeug.serving import make_server

from grader.store.users import add_user

pytest_plugins = ["test_web_helpers"]  # the shared fixtures

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
AXE = Path(__file__).parent / "vendor" / "axe-core" / "axe.min.js"
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
UNREADABLE = "four, two"
WHY = "Too large overshoots and diverges; too small is slow."
NARROW = 320  # CSS pixels: WCAG 1.4.10 reflow, a phone, or 1280 px at 400 % zoom


class Gate:
    """A notebook grader that holds every notebook until :meth:`open` (so a page can be seen while one waits)."""

    def __init__(self) -> None:
        self.event = threading.Event()

    def __call__(self, *args: Any, **kwargs: Any) -> dict[str, Any]:
        self.event.wait(60)
        return fake_grade_notebook(*args, **kwargs)

    def open(self) -> None:
        self.event.set()


def wait(browser: webdriver.Chrome, seconds: float = 20) -> WebDriverWait:
    """A wait that polls again when an element it read was redrawn meanwhile (the pages replace parts of themselves)."""
    return WebDriverWait(browser, seconds, ignored_exceptions=(StaleElementReferenceException,))


def _serve(app: Any) -> Iterator[str]:
    httpd = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_port}"
    finally:
        httpd.shutdown()
        thread.join(5)


@pytest.fixture
def gate() -> Iterator[Gate]:
    gate = Gate()
    yield gate
    gate.open()


@pytest.fixture
def server(sqlite_db: Any, catalog: Any, gate: Gate) -> Iterator[tuple[str, Any]]:
    app = make_app(sqlite_db, catalog, WTF_CSRF_ENABLED=True, NOTEBOOK_GRADER=gate)
    gate.open()  # by default notebooks are graded at once; a test closes the gate to see one waiting
    yield from ((base, app) for base in _serve(app))
    gate.open()
    app.extensions["grader"].jobs.shutdown()


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[webdriver.Chrome]:
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-quic",
        "--no-first-run",
        "--window-size=1200,1600",
        f"--user-data-dir={tmp_path / 'profile'}",
    ):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(30)
    driver.set_script_timeout(60)
    yield driver
    driver.quit()


def _log_in(browser: webdriver.Chrome, base: str, token: str) -> None:
    browser.get(f"{base}/login")
    browser.find_element(By.ID, "token").send_keys(token)
    browser.find_element(By.ID, "login").click()
    wait(browser, 20).until(lambda d: "/login" not in d.current_url)


def _log_out(browser: webdriver.Chrome) -> None:
    browser.find_element(By.CSS_SELECTOR, "header .who button").click()
    wait(browser, 20).until(expected_conditions.presence_of_element_located((By.ID, "token")))


def _ready(browser: webdriver.Chrome) -> None:
    """The page loaded and its scripts ran (KaTeX typeset where there is maths)."""
    wait(browser, 20).until(lambda d: d.execute_script("return document.readyState") == "complete")
    if browser.find_elements(By.CSS_SELECTOR, ".tex"):
        wait(browser, 20).until(lambda d: d.find_elements(By.CSS_SELECTOR, ".katex"))


def axe_violations(browser: webdriver.Chrome) -> list[str]:
    """axe-core's WCAG 2.1 A/AA violations on the current page, one line each (rule, impact, where, why)."""
    if not browser.execute_script("return typeof window.axe === 'object'"):
        browser.execute_script(AXE.read_text(encoding="utf-8"))
    outcome = browser.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "axe.run(document, {runOnly: {type: 'tag', values: arguments[0]}, resultTypes: ['violations']})"
        "  .then(r => done(r.violations)).catch(e => done([{id: 'axe-error', impact: String(e), nodes: []}]));",
        WCAG_TAGS,
    )
    lines = []
    for violation in outcome:
        for node in violation["nodes"] or [{"target": ["(page)"], "failureSummary": violation.get("help", "")}]:
            where = " ".join(str(t) for t in node["target"])
            lines.append(f"{violation['id']} ({violation['impact']}) at {where}: {node.get('failureSummary', '')}")
    return lines


def reflow_overflow(browser: webdriver.Chrome) -> int:
    """How many CSS pixels the page is wider than a 320 px viewport (0: no horizontal scrolling)."""
    original = browser.get_window_size()
    browser.set_window_size(NARROW, 900)
    try:
        wait(browser, 10).until(lambda d: d.execute_script("return window.innerWidth") <= NARROW)
        return int(
            browser.execute_script(
                "return Math.max(document.documentElement.scrollWidth, document.body.scrollWidth) - window.innerWidth"
            )
        )
    finally:
        browser.set_window_size(original["width"], original["height"])


class Audit:
    """Checks every page it is shown and collects what fails, so one run lists every problem."""

    def __init__(self, browser: webdriver.Chrome) -> None:
        self.browser = browser
        self.problems: list[str] = []
        self.pages: list[str] = []

    def check(self, state: str) -> None:
        _ready(self.browser)
        self.pages.append(state)
        title = self.browser.title.strip()
        lang = self.browser.execute_script("return document.documentElement.lang")
        if not title or not lang:
            self.problems.append(f"{state}: title {title!r}, lang {lang!r}")
        self.problems += [f"{state}: {line}" for line in axe_violations(self.browser)]
        overflow = reflow_overflow(self.browser)
        if overflow > 0:
            self.problems.append(f"{state}: {overflow} px wider than a {NARROW} px screen")

    def visit(self, url: str, state: str) -> None:
        self.browser.get(url)
        self.check(state)


def _answer(browser: webdriver.Chrome, base: str, exercise: str, answers: dict[str, str], reload: bool = True) -> None:
    if reload:
        browser.get(f"{base}/exercises/{exercise}")
    _ready(browser)
    for part, text in answers.items():
        field = browser.find_element(By.ID, f"input-{part}")
        field.clear()
        field.send_keys(text)
    browser.find_element(By.ID, "submit").click()
    wait(browser, 20).until(expected_conditions.presence_of_element_located((By.ID, "result")))


def test_every_page_passes_axe_and_reflows_for_each_role(
    server: tuple[str, Any], browser: webdriver.Chrome, gate: Gate, catalog: Any, tmp_path: Path
) -> None:
    base, app = server
    db = app.extensions["grader"].db
    student, ta = add_user("s001", db=db), add_user("ta1", "ta", db=db)
    audit = Audit(browser)

    # Anonymous: the login form, with and without a refused token; pages they reach are the login or an error.
    audit.visit(f"{base}/login", "login form")
    browser.find_element(By.ID, "token").send_keys("not-a-token")
    browser.find_element(By.ID, "login").click()
    audit.check("login refused")
    assert browser.find_element(By.ID, "token").get_attribute("aria-invalid") == "true"
    audit.visit(f"{base}/no-such-page", "404 page")
    assert browser.find_element(By.TAG_NAME, "h1").text == "Page not found"

    # A TA before anyone submitted: the empty gradebook and analytics without data.
    _log_in(browser, base, ta)
    audit.visit(f"{base}/instructor", "empty gradebook")
    audit.visit(f"{base}/instructor/exercises/gd-parabola", "analytics without data")
    _log_out(browser)

    # A student: every page, before and after a wrong and an unreadable answer, and while a notebook waits.
    _log_in(browser, base, student)
    audit.visit(f"{base}/", "exercise list")
    audit.visit(f"{base}/submissions", "no submissions yet")
    audit.visit(f"{base}/exercises/gd-parabola", "exercise before an answer")
    _answer(browser, base, "gd-parabola", {"iterates": SIGN_ERROR})
    audit.check("after a wrong answer")
    assert browser.find_element(By.ID, "input-iterates").get_attribute("aria-invalid") == "true"
    _answer(browser, base, "gd-parabola", {"iterates": UNREADABLE, "values": "18, 6, 3, 2.25, 2.0625, 2.015625"})
    audit.check("after an unreadable answer")
    assert browser.find_element(By.ID, "input-iterates").get_attribute("aria-invalid") == "true"
    assert browser.find_element(By.ID, "input-values").get_attribute("aria-invalid") is None
    for exercise in catalog.exercises.values():  # typed-answer forms, and the notebook exercises' notes
        audit.visit(f"{base}/exercises/{exercise.id}", f"exercise {exercise.id}")
    _answer(browser, base, "learning-rate", {"converges": "[0, 1]", "why": WHY})
    audit.check("after a boundary-included interval")
    audit.visit(f"{base}/instructor", "a staff page, as a student (403)")
    assert browser.find_element(By.TAG_NAME, "h1").text == "Not allowed"

    gate.event.clear()
    path = tmp_path / "lec4-inclass.ipynb"
    path.write_bytes(notebook_bytes({"gd-parabola": {"iterates": CORRECT}}))
    browser.get(f"{base}/")
    browser.find_element(By.CSS_SELECTOR, "form.upload input[type=file]").send_keys(str(path))
    browser.find_element(By.CSS_SELECTOR, "form.upload button").click()
    wait(browser, 20).until(expected_conditions.presence_of_element_located((By.ID, "submissions")))
    audit.check("a notebook being graded")
    status = browser.find_element(By.ID, "grading-status")
    assert "being graded" in status.text and status.get_attribute("aria-live") == "polite"
    assert not browser.find_elements(By.CSS_SELECTOR, "meta[http-equiv=refresh]")
    browser.execute_script("window.notReloaded = true")
    gate.open()
    wait(browser, 30).until(lambda d: "done" in d.find_element(By.ID, "grading-status").text)
    assert browser.execute_script("return window.notReloaded") is True  # updated in place, never reloaded
    assert "lec4-inclass.ipynb: done, 6 / 12." in status.text  # gd-parabola right, learning-rate missing
    row = browser.find_element(By.CSS_SELECTOR, "#submissions tbody tr")
    assert row.get_attribute("data-status") == "done"
    audit.check("after the notebook was graded")
    _log_out(browser)

    # The TA again: the filled gradebook and analytics with data.
    _log_in(browser, base, ta)
    audit.visit(f"{base}/instructor", "filled gradebook")
    assert browser.find_elements(By.CSS_SELECTOR, "#gradebook tbody tr")
    for exercise in ("gd-parabola", "learning-rate"):
        audit.visit(f"{base}/instructor/exercises/{exercise}", f"analytics of {exercise}")
    cells = browser.find_elements(By.CSS_SELECTOR, "#histogram tbody td")
    assert sum(int(cell.text) for cell in cells) == 1  # the histogram's counts, as text

    # The review pages: the queue, one part scored from the keyboard, the submission's parts.
    audit.visit(f"{base}/review", "review queue")
    browser.find_element(By.ID, "start-review").click()
    audit.check("a part waiting for a TA")
    assert WHY in browser.find_element(By.ID, "student-answer").text
    assert browser.switch_to.active_element.get_attribute("id") == "score"  # ready to type a score
    browser.switch_to.active_element.send_keys("1.5" + Keys.TAB)
    browser.switch_to.active_element.send_keys("Say why small steps are slow." + Keys.ENTER)  # Enter saves
    wait(browser, 20).until(lambda d: d.find_elements(By.CSS_SELECTOR, "p.saved"))
    assert "1.5 / 2" in browser.find_element(By.CSS_SELECTOR, "p.saved").text
    audit.check("the queue after a review")
    browser.get(f"{base}/instructor")
    browser.find_element(By.CSS_SELECTOR, "#gradebook tbody td a").click()
    audit.check("a submission's parts, for review")

    # The HTML feedback files the TA hands out.
    from grader.contract import NotebookResult
    from grader.grading import grade
    from grader.reports.feedback import feedback_html

    answers = {"gd-parabola": {"iterates": [4, 6, 9, 13.5, 20.25, 30.375], "values": UNREADABLE}}
    result = grade({"student": "s001", "answers": answers}, catalog)
    failed = NotebookResult.from_json(
        {
            **result.to_json(),
            "file": "s001.ipynb",
            "error": "the notebook ran out of time",
            "cell_errors": [{"cell": 3, "ename": "ValueError", "evalue": "x"}],
        }
    )
    for name, graded in (("feedback", result), ("feedback-with-errors", failed)):
        page = tmp_path / f"{name}.html"
        page.write_text(feedback_html(graded, catalog, lambda e, p, a=answers: a.get(e, {}).get(p)), encoding="utf-8")
        audit.visit(page.as_uri(), f"feedback file ({name})")
        assert browser.find_elements(By.XPATH, "//th[text()='expected x']")  # the expected path, as text

    assert len(audit.pages) >= 29
    assert audit.problems == [], "\n".join(audit.problems)


def test_open_mode_pages_pass_axe_for_an_anonymous_visitor(
    sqlite_db: Any, catalog: Any, browser: webdriver.Chrome
) -> None:
    """With GRADER_OPEN=1 anyone may try the exercises: the page then asks for a student id too."""
    app = make_app(sqlite_db, catalog, WTF_CSRF_ENABLED=True, GRADER_OPEN=True)
    try:
        for base in _serve(app):
            audit = Audit(browser)
            audit.visit(f"{base}/", "open mode: exercise list")
            audit.visit(f"{base}/exercises/gd-parabola", "open mode: exercise")
            browser.find_element(By.ID, "student").send_keys("-guest")
            _answer(browser, base, "gd-parabola", {"iterates": SIGN_ERROR}, reload=False)
            audit.check("open mode: after a wrong answer")
            assert audit.problems == [], "\n".join(audit.problems)
    finally:
        app.extensions["grader"].jobs.shutdown()


def test_the_answer_form_works_from_the_keyboard_alone(server: tuple[str, Any], browser: webdriver.Chrome) -> None:
    base, app = server
    _log_in(browser, base, add_user("s001", db=app.extensions["grader"].db))
    browser.get(f"{base}/exercises/gd-parabola")
    _ready(browser)
    assert browser.switch_to.active_element.tag_name == "body"  # nothing focused yet: Tab starts at the top

    def tab_to(element_id: str, limit: int = 30) -> list[str]:
        seen = []
        for _ in range(limit):
            browser.switch_to.active_element.send_keys(Keys.TAB)
            active = browser.switch_to.active_element
            seen.append(active.get_attribute("id") or active.tag_name)
            outline = browser.execute_script(
                "const s = getComputedStyle(arguments[0]); return [s.outlineStyle, s.outlineWidth];", active
            )
            assert outline[0] != "none" and outline[1] != "0px", f"no visible focus on {seen[-1]}"
            if seen[-1] == element_id:
                return seen
        raise AssertionError(f"Tab never reached #{element_id}: {seen}")

    order = tab_to("input-iterates")
    assert order[0] != "input-iterates"  # the skip link and the header come first
    browser.switch_to.active_element.send_keys(SIGN_ERROR)
    order = tab_to("input-values")
    assert order == ["input-values"]  # the next field, with nothing in between
    browser.switch_to.active_element.send_keys(UNREADABLE)
    assert tab_to("submit") == ["submit"]
    browser.switch_to.active_element.send_keys(Keys.ENTER)

    wait(browser, 20).until(expected_conditions.presence_of_element_located((By.ID, "result")))
    _ready(browser)
    assert browser.switch_to.active_element.get_attribute("id") == "result"  # the score is read first
    assert browser.find_element(By.ID, "result-heading").text.startswith("Score:")
    field = browser.find_element(By.ID, "input-iterates")
    assert field.get_attribute("aria-invalid") == "true"
    assert field.get_attribute("aria-describedby") == "hint-iterates read-iterates feedback-iterates"
    assert "You moved uphill" in browser.find_element(By.ID, "feedback-iterates").text
    assert browser.find_element(By.ID, "input-values").get_attribute("aria-invalid") == "true"
    # The link in the score summary takes the keyboard to the field, whose description is its feedback.
    link = browser.find_element(By.CSS_SELECTOR, "#result a[href='#input-iterates']")
    link.send_keys(Keys.ENTER)
    assert browser.switch_to.active_element.get_attribute("id") == "input-iterates"
    # The field's accessible name carries its maths as text (not an empty formula).
    name = browser.execute_script(
        "return document.querySelector('label[for=input-values] .visually-hidden').textContent"
    )
    assert "f(x₀)" in name and "x₅" in name, name


def test_student_sees_sign_error_feedback(server: tuple[str, Any], browser: webdriver.Chrome, tmp_path: Path) -> None:
    base, app = server
    token = add_user("s001", db=app.extensions["grader"].db)
    waiting = wait(browser, 20)

    browser.get(f"{base}/exercises/gd-parabola")
    waiting.until(expected_conditions.presence_of_element_located((By.ID, "token")))
    browser.find_element(By.ID, "token").send_keys(token)
    browser.find_element(By.ID, "login").click()

    waiting.until(expected_conditions.presence_of_element_located((By.ID, "input-iterates")))
    assert browser.find_element(By.ID, "whoami").text.startswith("s001")
    waiting.until(lambda d: d.find_elements(By.CSS_SELECTOR, ".prompt .katex"))  # KaTeX rendered, locally

    browser.find_element(By.ID, "input-iterates").send_keys(SIGN_ERROR)
    browser.find_element(By.ID, "submit").click()

    feedback = waiting.until(
        expected_conditions.presence_of_element_located((By.CSS_SELECTOR, "#part-iterates .feedback .sentence"))
    )
    assert "You moved uphill" in feedback.text
    assert "x ← x − η·∇f(x)" in feedback.text
    status = browser.find_element(By.CSS_SELECTOR, "#part-iterates .feedback")
    assert status.get_attribute("data-status") == "partial"
    plot = browser.find_element(By.CSS_SELECTOR, "img.plot")
    assert browser.execute_script("return arguments[0].naturalWidth", plot) > 100
    assert "x₂ = 9" in plot.get_attribute("alt")  # the picture's numbers, as text
    assert browser.get_cookie("grader_token")["httpOnly"] is True
    assert browser.execute_script("return document.cookie") == ""
    browser.save_screenshot(str(tmp_path / "feedback.png"))


ATTACK = """<!doctype html><html lang="en"><head><title>Win a prize</title></head><body>
<form id="attack" method="post" action="{action}">{fields}</form>
<script>document.getElementById("attack").submit();</script></body></html>"""


def _attacker_site(pages: dict[str, str]) -> Iterator[str]:
    """Another site (``localhost`` on its own port, not ``127.0.0.1``) serving the given pages."""
    from werkzeug.wrappers import Request, Response

    @Request.application
    def site(request: Request) -> Response:
        return Response(pages.get(request.path, ""), mimetype="text/html")

    for base in _serve(site):
        yield base.replace("127.0.0.1", "localhost")


def test_another_site_can_neither_log_a_student_in_nor_out_nor_answer_for_them(
    server: tuple[str, Any], browser: webdriver.Chrome
) -> None:
    base, app = server
    db = app.extensions["grader"].db
    victim, attacker = add_user("s001", db=db), add_user("s666", db=db)

    def form(path: str, **fields: str) -> str:
        inputs = "".join(f'<input type="hidden" name="{k}" value="{v}">' for k, v in fields.items())
        return ATTACK.format(action=f"{base}{path}", fields=inputs)

    pages = {
        "/login": form("/login", token=attacker, next="/"),
        "/logout": form("/logout"),
        "/answer": form("/exercises/gd-parabola", **{"part-iterates": SIGN_ERROR}),
    }
    evil = _attacker_site(pages)
    site = next(evil)
    try:
        # Login CSRF: a visitor who is not logged in stays logged out (the attacker's token is never set).
        browser.get(f"{site}/login")
        wait(browser, 20).until(lambda d: d.current_url.startswith(base))
        assert browser.find_element(By.TAG_NAME, "h1").text == "Not allowed"
        assert "another site" in browser.find_element(By.ID, "error-detail").text
        assert browser.get_cookie("grader_token") is None
        browser.get(f"{base}/")
        assert "/login" in browser.current_url

        # A logged-in student is neither logged out nor made to answer by another site.
        _log_in(browser, base, victim)
        for path in ("/logout", "/answer"):
            browser.get(f"{site}{path}")
            wait(browser, 20).until(lambda d: d.current_url.startswith(base))
            assert browser.find_element(By.TAG_NAME, "h1").text == "Not allowed"
        browser.get(f"{base}/")
        assert browser.find_element(By.ID, "whoami").text.startswith("s001")
        assert browser.get_cookie("grader_token")["value"] == victim
        from grader.store import submissions

        assert submissions.history(db, "s001") == [] and submissions.history(db, "s666") == []

        # The same forms sent from the service's own pages work (with their token and this site's Origin).
        _answer(browser, base, "gd-parabola", {"iterates": CORRECT})
        assert len(submissions.history(db, "s001")) == 1
        _log_out(browser)
        assert browser.get_cookie("grader_token") is None
    finally:
        evil.close()


def test_a_form_without_its_token_is_refused_with_a_page(server: tuple[str, Any], browser: webdriver.Chrome) -> None:
    """A same-site post that lost its token (an old copy of the page) is a 400 page that says what to do."""
    base, app = server
    _log_in(browser, base, add_user("s001", db=app.extensions["grader"].db))
    browser.get(f"{base}/exercises/gd-parabola")
    browser.execute_script("document.querySelector('#answers input[name=csrf_token]').value = 'stale'")
    browser.find_element(By.ID, "input-iterates").send_keys(CORRECT)
    browser.find_element(By.ID, "submit").click()
    wait(browser, 20).until(lambda d: d.find_elements(By.ID, "error-detail"))
    assert "reload the page" in browser.find_element(By.ID, "error-detail").text
    assert axe_violations(browser) == []


def test_the_audit_fails_on_what_it_is_meant_to_catch(server: tuple[str, Any], browser: webdriver.Chrome) -> None:
    """The checks above can fail: the old palette, a meta refresh, an unlabelled field and a wide plot are caught."""
    base, _ = server
    browser.get(f"{base}/login")
    _ready(browser)
    assert axe_violations(browser) == [] and reflow_overflow(browser) == 0
    browser.execute_script(
        """
        const style = document.createElement('style');
        style.textContent = 'button, a { color: #2e86c1 !important; background: #fff !important; }';
        document.head.appendChild(style);
        const refresh = document.createElement('meta');
        refresh.httpEquiv = 'refresh'; refresh.content = '3';
        document.head.appendChild(refresh);
        const field = document.createElement('input');
        document.querySelector('main').appendChild(field);
        const plot = document.createElement('img');
        plot.src = 'data:image/gif;base64,R0lGODlhAQABAAAAACw='; plot.width = 593; plot.height = 10;
        document.querySelector('main').appendChild(plot);
        """
    )
    found = {line.split(" ")[0] for line in axe_violations(browser)}
    assert {"color-contrast", "meta-refresh", "label", "image-alt"} <= found, found
    assert reflow_overflow(browser) > 0

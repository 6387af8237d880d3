"""A student in a real browser: headless Chromium logs in, answers gd-parabola wrongly, reads the feedback.

Needs Debian's ``chromium`` and ``chromium-driver`` (``/usr/bin/chromium``,
``/usr/bin/chromedriver``) and selenium. The app runs in this process on a
free loopback port (werkzeug in a thread).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.ui import WebDriverWait
from test_web_helpers import SIGN_ERROR, make_app
from werkzeug.serving import make_server

from grader.store.users import add_user

pytest_plugins = ["test_web_helpers"]  # the shared fixtures

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"


@pytest.fixture
def server(sqlite_db: Any, catalog: Any) -> Iterator[tuple[str, Any]]:
    app = make_app(sqlite_db, catalog)
    httpd = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_port}", app
    httpd.shutdown()
    thread.join(5)
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
    yield driver
    driver.quit()


def test_student_sees_sign_error_feedback(server: tuple[str, Any], browser: webdriver.Chrome, tmp_path: Path) -> None:
    base, app = server
    token = add_user("s001", db=app.extensions["grader"].db)
    wait = WebDriverWait(browser, 20)

    browser.get(f"{base}/exercises/gd-parabola")
    wait.until(expected_conditions.presence_of_element_located((By.ID, "token")))
    browser.find_element(By.ID, "token").send_keys(token)
    browser.find_element(By.ID, "login").click()

    wait.until(expected_conditions.presence_of_element_located((By.ID, "input-iterates")))
    assert browser.find_element(By.ID, "whoami").text.startswith("s001")
    wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, ".prompt .katex"))  # KaTeX rendered, locally

    browser.find_element(By.ID, "input-iterates").send_keys(SIGN_ERROR)
    browser.find_element(By.ID, "submit").click()

    feedback = wait.until(
        expected_conditions.presence_of_element_located((By.CSS_SELECTOR, "#part-iterates .feedback .sentence"))
    )
    assert "You moved uphill" in feedback.text
    assert "x ← x − η·∇f(x)" in feedback.text
    status = browser.find_element(By.CSS_SELECTOR, "#part-iterates .feedback")
    assert status.get_attribute("data-status") == "partial"
    plot = browser.find_element(By.CSS_SELECTOR, "img.plot")
    assert browser.execute_script("return arguments[0].naturalWidth", plot) > 100
    assert browser.get_cookie("grader_token")["httpOnly"] is True
    assert browser.execute_script("return document.cookie") == ""
    browser.save_screenshot(str(tmp_path / "feedback.png"))

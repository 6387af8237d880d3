"""A student's path in Jupyter, end to end: the real service, a generated notebook, a real kernel.

``grader serve`` runs in a subprocess on a free port (SQLite in a private data
folder, the real notebook grader and its sandbox). ``grader notebook``
generates a student's notebook; the answers are filled in with nbformat;
nbclient runs it in a real IPython kernel whose environment holds the
grader's address and the student's token (``GRADER_URL``, ``GRADER_TOKEN``)
and, as Jupyter's server sets it, the notebook's path (``JPY_SESSION_NAME``).
The outputs the kernel rendered must hold the feedback of each ``check()``
and, after ``submit()``, the final score the service stored. Then the failures
a student meets: no server configured, a refused token, a deadline that has
passed (a stand-in server that answers 403 with a reason), and the service
stopped: each is one sentence, never a traceback.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import nbformat
import pytest
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parent.parent
GRADER = str(Path(sys.executable).with_name("grader"))
SIGN_ERROR = "4, 6, 9, 13.5, 20.25, 30.375"
SLIP = "4, 2, 1.5, 0.75, 0.375, 0.1875"  # step 2 is off; the later steps follow from it
DEADLINE = "the deadline of Lecture 4, in class passed on 2025-01-10 at 23:59 UTC, so nothing was stored"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _get(url: str, token: str) -> Any:
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"})
    with urllib.request.urlopen(request, timeout=30) as answer:
        return json.loads(answer.read())


class Service:
    def __init__(self, folder: Path) -> None:
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("GRADER_") and k != "DATABASE_URL"}
        self.env.update(GRADER_DATA=str(folder / "data"), GRADER_CACHE=str(folder / "cache"))
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = open(folder / "serve.log", "w")  # noqa: SIM115 - closed in stop()
        self.process: subprocess.Popen[bytes] | None = None

    def cli(self, *args: str) -> str:
        done = subprocess.run([GRADER, *args], env=self.env, capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr
        return done.stdout.strip()

    def start(self) -> None:
        command = [GRADER, "serve", "--host", "127.0.0.1", "--port", str(self.port), "--workers", "1"]
        self.process = subprocess.Popen(command, env=self.env, stdout=self.log, stderr=subprocess.STDOUT)
        for _ in range(600):  # until it answers (the sandbox proves itself first)
            assert self.process.poll() is None, (Path(self.log.name).read_text())[-3000:]
            try:
                with urllib.request.urlopen(f"{self.url}/healthz", timeout=2) as answer:
                    if answer.status == 200:
                        return
            except OSError:
                time.sleep(0.2)
        raise AssertionError("grader serve did not answer: " + Path(self.log.name).read_text()[-3000:])

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
        self.log.close()


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    server = Service(tmp_path_factory.mktemp("service"))
    server.cli("users", "add", "s001")  # migrates the store first, so serve finds users and prints no token
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def student_token(service: Service) -> str:
    return json.loads(service.cli("users", "add", "s003", "--format", "json"))["token"]


def _generated(service: Service, folder: Path, student: str) -> Path:
    path = folder / f"lec4-inclass-{student}.ipynb"
    service.cli("notebook", "lec4-inclass", "--student", student, "-o", str(path))
    return path


def _fill(path: Path, **sources: str) -> Any:
    """Set the answer cells named in ``sources`` (variable → source) and write the notebook back."""
    notebook = nbformat.read(path, as_version=4)
    for cell in notebook.cells:
        meta = cell.get("metadata", {}).get("grader", {})
        if cell.cell_type == "code" and "part" in meta:
            name = f"{meta['exercise']}_{meta['part']}".replace("-", "_")
            if name in sources:
                cell.source = sources[name]
    nbformat.write(notebook, path)
    return notebook


def _run(notebook: Any, folder: Path, **env: str) -> Any:
    kernel_env = {k: v for k, v in os.environ.items() if not k.startswith(("GRADER_", "JPY_"))}
    kernel_env.update(env)
    client = NotebookClient(notebook, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(folder)}})
    return client.execute(env=kernel_env)


def _outputs(cell: Any) -> tuple[str, str]:
    """(the HTML it displayed, everything it printed or displayed as text)."""
    html, text = [], []
    for output in cell.get("outputs", []):
        if output.output_type == "stream":
            text.append(output.text)
        elif output.output_type in ("display_data", "execute_result"):
            html.append(output.data.get("text/html", ""))
            text.append(output.data.get("text/plain", ""))
        elif output.output_type == "error":
            text.append("\n".join(output.traceback))
    return "".join(html), "".join(text)


def _tagged(notebook: Any, tag: str) -> list[Any]:
    return [c for c in notebook.cells if tag in c.get("metadata", {}).get("tags", [])]


def test_a_student_checks_and_hands_in_from_the_notebook(
    service: Service, student_token: str, tmp_path: Path, catalog: Any
) -> None:
    path = _generated(service, tmp_path, "s003")
    setup = _tagged(nbformat.read(path, as_version=4), "grader-setup")
    assert len(setup) == 1 and setup[0].metadata["jupyter"]["source_hidden"] is True
    assert student_token not in path.read_text() and "GRADER_TOKEN" in setup[0].source
    notebook = _fill(
        path,
        gd_parabola_iterates=f'gd_parabola_iterates = "{SLIP}"',
        gd_parabola_values="gd_parabola_values = np.array([18, 6, 3, 2.25, 2.0625, 2.015625])",
        learning_rate_converges='learning_rate_converges = "0 < eta < 1"',
        learning_rate_classify='learning_rate_classify = "slow, fast, oscillating, stuck, diverging"',
        learning_rate_why='learning_rate_why = "Too large a step overshoots; too small a step is slow."',
    )
    ran = _run(notebook, tmp_path, GRADER_URL=service.url, GRADER_TOKEN=student_token, JPY_SESSION_NAME=str(path))
    for cell in ran.cells:
        assert not any(o.output_type == "error" for o in cell.get("outputs", [])), cell.source[:200]

    checks = {c.source: _outputs(c) for c in _tagged(ran, "grader-check")}
    html, text = checks['check("gd-parabola")']
    step_two = "Step 2 is off: from x₁ = 2 the update gives x₂ = 1; you wrote 1.5."
    assert step_two in text and "Step 2 is off: from x₁ = 2" in html
    assert "~ iterates  5 / 6  partial" in text and "✓ values  6 / 6  correct" in text
    assert "read as: 4, 2, 1.5, 0.75, 0.375, 0.1875 (6 numbers)" in text
    assert "read as: 18, 6, 3, 2.25, 2.0625, 2.015625 (6 numbers)" in text  # a numpy array, sent as numbers
    assert "First wrong step: 2." in text
    assert '<img src="data:image/svg+xml;base64,' in html and "with your path: x₀ = 4, x₁ = 2, x₂ = 1.5" in html
    assert f"Check of {catalog.exercises['gd-parabola'].title} (not handed in)" in text
    html, text = checks['check("learning-rate")']
    assert "read as: (0, 1) (an interval)" in text and "✓ converges" in text
    assert "… why  0 / 2  waiting for a TA" in text  # free text: never "needs review", never failed

    (submitted,) = _tagged(ran, "grader-submit")
    html, text = _outputs(submitted)
    assert "Traceback" not in text
    assert f"Handed in {path.name} as saved at" in text and ": done." in text
    history = _get(f"{service.url}/api/students/s003/submissions", student_token)["submissions"]
    notebooks = [s for s in history if s["kind"] == "notebook"]
    assert len(notebooks) == 1 and notebooks[0]["status"] == "done"
    stored = _get(f"{service.url}/api/submissions/{notebooks[0]['id']}", student_token)
    score = f"Score: {stored['score']:g} / {stored['max_score']:g}"
    assert score in text and score in html
    assert step_two in text.split("Result of")[1]
    assert f"{service.url}/submissions/{notebooks[0]['id']}" in text
    # The notebook the grader ran had the same check() and submit() cells: there they did nothing.
    assert stored["result"]["error"] is None and stored["result"]["cell_errors"] == []
    assert stored["result"]["exercises"][0]["parts"][0]["details"]["first_wrong_step"] == 2


class _Refusing(BaseHTTPRequestHandler):
    """A server that refuses everything as the grader refuses a hand-in after the deadline."""

    def _refuse(self) -> None:
        body = json.dumps({"error": "forbidden", "detail": DEADLINE}).encode()
        self.send_response(403)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = _refuse

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def refusing() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Refusing)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(5)


def test_what_goes_wrong_is_one_sentence(service: Service, refusing: str, tmp_path: Path) -> None:
    path = _generated(service, tmp_path, "s004")
    notebook = _fill(path, gd_parabola_iterates=f'gd_parabola_iterates = "{SIGN_ERROR}"')
    cases = {
        "offline": 'os.environ.pop("GRADER_URL", None)',
        "refused": f'os.environ.update(GRADER_URL="{service.url}", GRADER_TOKEN="gr_not-a-token")',
        "deadline": f'os.environ.update(GRADER_URL="{refusing}", GRADER_TOKEN="gr_any")',
    }
    for name, setting in cases.items():
        source = f"import os\n{setting}\ncheck('gd-parabola')\nsubmit({str(path)!r})"
        notebook.cells.append(nbformat.v4.new_code_cell(source, metadata={"tags": [f"case-{name}"]}))
    ran = _run(notebook, tmp_path)
    said = {name: _outputs(_tagged(ran, f"case-{name}")[0])[1].strip().splitlines() for name in cases}
    assert said["offline"][0].startswith("No grading server is set, so checking cannot be done here")
    assert 'os.environ["GRADER_URL"]' in said["offline"][0]
    assert said["offline"][1].startswith("No grading server is set, so handing in cannot be done here")
    assert (
        said["refused"]
        == [
            "The grader did not accept your token: the token is not valid (unknown, revoked or expired); "
            "check GRADER_TOKEN."
        ]
        * 2
    )
    assert said["deadline"] == [f"The grader refused this: {DEADLINE}."] * 2
    # Without a server configured, the generated cells said how to set one up (or that there is nothing to check).
    shown = {c.source: _outputs(c) for c in [*_tagged(ran, "grader-check"), *_tagged(ran, "grader-submit")]}
    assert shown['check("gd-parabola")'][1].startswith("No grading server is set, so checking cannot be done")
    assert shown['check("learning-rate")'][1].startswith("Nothing to check yet: give learning_rate_converges,")
    assert shown["submit()"][1].startswith("No grading server is set, so handing in cannot be done")
    assert all(html == "" and len(text.strip().splitlines()) == 1 for html, text in shown.values())


def test_with_the_service_stopped_check_and_submit_say_so_in_one_line(
    service: Service, student_token: str, tmp_path: Path
) -> None:
    path = _generated(service, tmp_path, "s003")
    notebook = _fill(path, gd_parabola_iterates=f'gd_parabola_iterates = "{SIGN_ERROR}"')
    service.stop()
    ran = _run(notebook, tmp_path, GRADER_URL=service.url, GRADER_TOKEN=student_token, JPY_SESSION_NAME=str(path))
    expected = (
        f"Could not reach the grader at {service.url} (Connection refused); check GRADER_URL and your "
        "connection, and try again (your answers are safe in this notebook)."
    )
    (check_gd,) = [c for c in _tagged(ran, "grader-check") if "gd-parabola" in c.source]
    assert _outputs(check_gd) == ("", expected + "\n")
    (submitted,) = _tagged(ran, "grader-submit")
    assert _outputs(submitted) == ("", expected + "\n")


def test_the_notebook_keeps_the_servers_address_and_never_a_token(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from grader.cli.notebooks import notebook as command

    out = tmp_path / "s001.ipynb"
    made = CliRunner().invoke(
        command, ["lec4-homework", "--student", "s001", "--server", "https://grader.example.edu/", "-o", str(out)]
    )
    assert made.exit_code == 0, made.output
    notebook = nbformat.read(out, as_version=4)
    assert notebook.metadata["grader"]["server"] == "https://grader.example.edu"
    (setup,) = _tagged(notebook, "grader-setup")
    assert "'url': 'https://grader.example.edu'" in setup.source and "gr_" not in setup.source
    assert setup.source.startswith("# @title") and setup.metadata["cellView"] == "form"
    checks = [c.source for c in _tagged(notebook, "grader-check")]
    assert checks == ['check("gd-step-2d")', 'check("minibatch-gradient")', 'check("updates-per-epoch")']
    assert [c.source for c in _tagged(notebook, "grader-submit")] == ["submit()"]
    refused = CliRunner().invoke(command, ["lec4-homework", "--server", "grader.example.edu", "-o", str(out)])
    assert refused.exit_code == 2 and "--server must be an http:// or https:// address" in refused.output

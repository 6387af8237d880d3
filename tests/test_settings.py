"""One settings object, read in one place, documented in one table."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from grader.settings import SETTINGS, SettingsError, read, table

ROOT = Path(__file__).resolve().parent.parent
# Code that runs in a student's kernel or sets the sandbox child's own environment is not the grader reading it.
NOT_THE_GRADER = {"grader/settings.py", "grader/sandbox/child.py", "grader/notebooks/kernel_tools.py"}


def test_only_the_settings_module_reads_the_environment() -> None:
    readers = []
    for path in sorted((ROOT / "grader").rglob("*.py")):
        relative = path.relative_to(ROOT).as_posix()
        if relative not in NOT_THE_GRADER and re.search(r"os\.environ|os\.getenv|getenv\(", path.read_text()):
            readers.append(relative)
    assert readers == []


def test_the_docs_table_is_the_settings() -> None:
    assert table() in (ROOT / "docs" / "settings.md").read_text()
    assert len({s.env for s in SETTINGS}) == len(SETTINGS) and len({s.name for s in SETTINGS}) == len(SETTINGS)


def test_defaults_environment_and_file(tmp_path: Path) -> None:
    assert read({}).queue == "grader" and read({}).job_workers == 2 and read({}).open is False
    config = tmp_path / "grader.yaml"
    config.write_text(
        "GRADER_QUEUE: course-a\nGRADER_JOB_WORKERS: 4\nGRADER_TRUSTED_ORIGINS: [https://a.edu, https://b.edu]\n"
    )
    from_file = read({"GRADER_CONFIG": str(config)})
    assert (from_file.queue, from_file.job_workers) == ("course-a", 4)
    assert from_file.trusted_origins == ["https://a.edu", "https://b.edu"]
    assert read({"GRADER_CONFIG": str(config), "GRADER_QUEUE": "env-wins"}).queue == "env-wins"
    assert read({"GRADER_DATA": "~/grades"}).data == Path("~/grades").expanduser()


@pytest.mark.parametrize(
    "env, sentence",
    [
        ({"GRADER_JOB_WORKERS": "two"}, "GRADER_JOB_WORKERS='two' cannot be used: it takes a number"),
        ({"GRADER_JOB_WORKERS": "2.5"}, "GRADER_JOB_WORKERS='2.5' cannot be used: it takes a whole number"),
        ({"GRADER_OPEN": "maybe"}, "GRADER_OPEN='maybe' cannot be used: it takes 1/0, true/false"),
    ],
)
def test_a_value_that_cannot_be_read_is_named(env: dict[str, str], sentence: str) -> None:
    with pytest.raises(SettingsError, match=re.escape(sentence)):
        read(env)


def test_an_unknown_key_in_the_file_is_named_with_the_nearest(tmp_path: Path) -> None:
    config = tmp_path / "grader.yaml"
    config.write_text("GRADER_QUEUES: x\n")
    with pytest.raises(SettingsError, match="no setting 'GRADER_QUEUES'; did you mean GRADER_QUEUE"):
        read({"GRADER_CONFIG": str(config)})


def test_the_command_line_says_which_setting_is_wrong(tmp_path: Path) -> None:
    def grader(**env: str) -> subprocess.CompletedProcess:
        command = [sys.executable, "-m", "grader.cli", "exercises", "list"]
        return subprocess.run(command, capture_output=True, text=True, env={**os.environ, **env})

    for run, sentence in (
        (grader(GRADER_JOB_WORKERS="lots"), "GRADER_JOB_WORKERS='lots' cannot be used: it takes a number"),
        (grader(GRADER_CONFIG=str(tmp_path / "missing.yaml")), "cannot read it"),
    ):
        assert run.returncode == 2 and "Traceback" not in run.stderr
        assert sentence in run.stderr and run.stdout == ""

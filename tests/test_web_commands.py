"""``grader users add|import|list|revoke``."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

from click.testing import CliRunner

from grader.cli.users import users
from grader.store.users import authenticate

pytest_plugins = ["test_web_helpers"]  # the shared fixtures


def _run(db: Any, *args: str) -> Any:
    url = db.url.render_as_string(hide_password=False)
    return CliRunner().invoke(users, [*args, "--database", url])


def test_add_prints_a_working_token(sqlite_db: Any) -> None:
    result = _run(sqlite_db, "add", "ta1", "--role", "ta", "--name", "Tom")
    assert result.exit_code == 0
    principal = authenticate(sqlite_db, result.output.strip())
    assert principal.student == "ta1" and principal.role == "ta"
    as_json = json.loads(_run(sqlite_db, "add", "s001", "--format", "json").output)
    assert as_json["role"] == "student" and authenticate(sqlite_db, as_json["token"])


def test_bad_input_exits_2_with_one_line(sqlite_db: Any) -> None:
    result = _run(sqlite_db, "add", "not valid!")
    assert result.exit_code == 2
    assert result.output.count("\n") == 1 and "error:" in result.output
    assert _run(sqlite_db, "add", "s1", "--role", "admin").exit_code == 2


def test_import_list_and_revoke(sqlite_db: Any, tmp_path: Path) -> None:
    roster = tmp_path / "roster.csv"
    roster.write_text("student,name\ns001,Ada\ns002,Grace\n")
    out = tmp_path / "tokens.csv"
    assert _run(sqlite_db, "import", str(roster), "--output", str(out)).exit_code == 0
    assert out.stat().st_mode & 0o077 == 0
    rows = list(csv.DictReader(io.StringIO(out.read_text())))
    assert [r["student"] for r in rows] == ["s001", "s002"]
    assert authenticate(sqlite_db, rows[0]["token"]).student == "s001"
    listing = json.loads(_run(sqlite_db, "list", "--format", "json").output)
    assert [p["student"] for p in listing] == ["s001", "s002"]
    assert "s001\tstudent\t1 active token(s)  Ada" in _run(sqlite_db, "list").output
    assert _run(sqlite_db, "revoke", "s001").exit_code == 0
    assert authenticate(sqlite_db, rows[0]["token"]) is None
    assert _run(sqlite_db, "revoke", "s001").exit_code == 2


def test_import_of_a_bad_roster_exits_2(sqlite_db: Any, tmp_path: Path) -> None:
    roster = tmp_path / "roster.csv"
    roster.write_text("name\nAda\n")
    result = _run(sqlite_db, "import", str(roster))
    assert result.exit_code == 2 and "'student'" in result.output


def test_import_to_a_file_that_cannot_be_written_exits_2_and_issues_nothing(sqlite_db: Any, tmp_path: Path) -> None:
    roster = tmp_path / "roster.csv"
    roster.write_text("student\ns001\n")
    result = _run(sqlite_db, "import", str(roster), "--output", str(tmp_path / "missing" / "tokens.csv"))
    assert result.exit_code == 2 and "no token was issued" in result.output
    assert _run(sqlite_db, "list").output == ""


def test_a_bad_roster_leaves_an_existing_token_file_as_it_was(sqlite_db: Any, tmp_path: Path) -> None:
    roster, out = tmp_path / "roster.csv", tmp_path / "tokens.csv"
    roster.write_text("name\nAda\n")
    out.write_text("student,token\ns009,gr_kept\n")
    assert _run(sqlite_db, "import", str(roster), "--output", str(out)).exit_code == 2
    assert out.read_text() == "student,token\ns009,gr_kept\n"

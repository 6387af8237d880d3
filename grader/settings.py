"""Every setting of the grader, in one place: the only module that reads the environment.

A :class:`Settings` is read by :func:`read` from, in order of precedence,
the environment, then an optional file named by ``GRADER_CONFIG`` (a YAML
mapping of the same variable names to values), then the defaults of
:data:`SETTINGS`. Every entry point (the ``grader`` command, the web app
factory, the Celery worker, the tests) reads them once where it starts and
builds its resources from them; code below that takes what it needs as
arguments, or asks :func:`current` (the same reading, for the few places
that are called from everywhere: where the specs and the data live).
``docs/settings.md`` holds :func:`table`, generated from :data:`SETTINGS`
(a test keeps the two equal).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

CONFIG_FILE = "GRADER_CONFIG"


class SettingsError(ValueError):
    """A setting's value cannot be used; the message names the variable and what it takes."""


def _flag(text: str) -> bool:
    value = text.strip().lower()
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("", "0", "false", "no", "off"):
        return False
    raise ValueError("1/0, true/false, yes/no or on/off")


def _number(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise ValueError("a number") from None


def _whole(text: str) -> int:
    number = _number(text)
    if number != int(number):
        raise ValueError("a whole number")
    return int(number)


def _text(text: str) -> str | None:
    return text.strip() or None


def _path(text: str) -> Path | None:
    return Path(text).expanduser() if text.strip() else None


def _names(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


@dataclass(frozen=True)
class Setting:
    """One setting: its variable, the attribute it becomes, how its text is read, its default and what it does."""

    env: str
    name: str
    parse: Callable[[str], Any]
    default: Any
    doc: str
    shown_default: str = ""  # when the default is worked out (paths), how the table says it


SETTINGS: tuple[Setting, ...] = (
    Setting(
        "GRADER_EXERCISES",
        "exercises",
        _path,
        None,
        "the folder of exercise specs and course.yaml",
        "the project's `exercises/`",
    ),
    Setting(
        "GRADER_DATA",
        "data",
        _path,
        None,
        "the data folder: SQLite database, course secret (kept 0700)",
        "`data/` beside `exercises/`, else `~/.local/share/optgrader`",
    ),
    Setting(
        "GRADER_CACHE",
        "cache",
        _path,
        None,
        "derived formulas, the sandbox's matplotlib font cache",
        "`~/.cache/optgrader`",
    ),
    Setting(
        "DATABASE_URL",
        "database_url",
        _text,
        None,
        "the store (SQLAlchemy URL): SQLite or PostgreSQL",
        "`sqlite:///<data>/grader.db`",
    ),
    Setting(
        "GRADER_BROKER",
        "broker",
        _text,
        None,
        "Celery's broker (`redis://…`): jobs go to Celery workers; none: a thread pool in the server grades",
        "none",
    ),
    Setting(
        "GRADER_QUEUE",
        "queue",
        _text,
        "grader",
        "the broker queue of the grading jobs (workers need the same; one per course on a shared Redis)",
    ),
    Setting(
        "GRADER_SECRET",
        "secret",
        _text,
        None,
        "the course secret that seeds per-student variants and signs sessions",
        "a random one kept in the data folder",
    ),
    Setting(
        "GRADER_VARIANTS",
        "variants",
        _text,
        None,
        "`slides` or `per-student`, over course.yaml's `variants:`",
        "course.yaml's",
    ),
    Setting(
        "GRADER_NOTEBOOK_GRADER",
        "notebook_grader",
        _text,
        None,
        "the notebook grader as `module:function` (a seam for tests)",
        "`grader.notebooks.batch:grade_notebook`",
    ),
    Setting(
        "GRADER_SYMBOLIC_WORKERS",
        "symbolic_workers",
        _whole,
        2,
        "sympy worker processes per server process for typed formulas",
    ),
    Setting("GRADER_MAX_UPLOAD_MB", "max_upload_mb", _number, 5, "the largest request body, MB"),
    Setting(
        "GRADER_QUOTA_MB",
        "quota_mb",
        _number,
        50,
        "stored submissions per student, MB (0: no quota); staff are not limited",
    ),
    Setting("GRADER_OPEN", "open", _flag, False, "accept submissions without a token (a practice server)"),
    Setting(
        "GRADER_RATE_LIMIT",
        "rate_limit",
        _number,
        120,
        "requests a minute per user, else per address (0: no limit); in Redis with a Redis broker",
    ),
    Setting("GRADER_RATE_BURST", "rate_burst", _number, 30, "requests at once"),
    Setting(
        "GRADER_LOGIN_FAILURES_PER_ADDRESS",
        "login_failures_per_address",
        _number,
        20,
        "failed logins per client address at once, then a minute (0: no limit); valid logins are never refused",
    ),
    Setting(
        "GRADER_LOGIN_FAILURES_PER_TOKEN",
        "login_failures_per_token",
        _number,
        10,
        "failed logins with one token at once, then a minute (0: no limit)",
    ),
    Setting(
        "GRADER_TRUSTED_PROXIES",
        "trusted_proxies",
        _whole,
        0,
        "reverse proxies in front (Werkzeug's ProxyFix): the client address and scheme come from their X-Forwarded-* headers; 0 trusts none",
    ),
    Setting(
        "GRADER_CPU_SHARE",
        "cpu_share",
        _number,
        1000,
        "ms of server CPU a minute per user, else per address (0: no limit); past it, 429 until refilled",
    ),
    Setting("GRADER_CPU_BURST", "cpu_burst", _number, 300, "ms of CPU at once"),
    Setting(
        "GRADER_JOB_WORKERS",
        "job_workers",
        _whole,
        2,
        "background grading threads in the server (without a broker), each with a warm forkserver",
    ),
    Setting(
        "GRADER_MAX_WAITING",
        "max_waiting",
        _whole,
        10,
        "submissions of one student queued or running at once; past it a 429 (0: no limit); staff are not limited",
    ),
    Setting(
        "GRADER_MAX_ATTEMPTS",
        "max_attempts",
        _whole,
        3,
        "grading attempts per submission after the grader itself failed",
    ),
    Setting(
        "GRADER_RETRY_DELAY", "retry_delay", _number, 2, "seconds before a Celery job the grader failed is tried again"
    ),
    Setting(
        "GRADER_VISIBILITY_TIMEOUT",
        "visibility_timeout",
        _number,
        3600,
        "seconds before Redis gives a job whose worker died to another (above the longest grading)",
    ),
    Setting(
        "GRADER_RESTORE_INTERVAL", "restore_interval", _number, 10, "seconds between checks for jobs of dead workers"
    ),
    Setting(
        "GRADER_RECOVER_JOBS",
        "recover_jobs",
        _flag,
        False,
        "re-queue unfinished submissions at start (one process only; on in `grader serve`)",
    ),
    Setting(
        "GRADER_COOKIE_SECURE", "cookie_secure", _flag, False, "session cookies over HTTPS only: set it behind HTTPS"
    ),
    Setting(
        "GRADER_TRUSTED_ORIGINS",
        "trusted_origins",
        _names,
        [],
        "other origins forms are accepted from (comma-separated), where a proxy rewrites `Host`",
    ),
    Setting("GRADER_AUTH_CACHE", "auth_cache", _number, 5, "seconds a checked token is trusted without a lookup"),
    Setting(
        "GRADER_SPEC_RELOAD",
        "spec_reload",
        _number,
        2,
        "seconds between checks of the exercises folder for changed specs (0: never; SIGHUP checks at once)",
    ),
    Setting(
        "GRADER_REVIEWER",
        "reviewer",
        _text,
        None,
        "who `grader review set` records as the reviewer (`--by` wins)",
        "the login name",
    ),
    Setting(
        "GRADER_AUTOGRADER_ROOT",
        "autograder_root",
        _path,
        None,
        "the root `run_autograder` reads and writes in (Gradescope's container)",
        "`/autograder`",
    ),
)


class Settings:
    """The settings as read: ``settings.queue``, ``settings.data`` and so on (see :data:`SETTINGS`)."""

    def __init__(self, values: Mapping[str, Any]) -> None:
        self._values = dict(values)

    def __getattr__(self, name: str) -> Any:
        try:
            return self._values[name]
        except KeyError:
            raise AttributeError(f"no setting {name!r}") from None

    def replace(self, **changes: Any) -> Settings:
        unknown = set(changes) - set(self._values)
        if unknown:
            raise AttributeError(f"no setting {sorted(unknown)[0]!r}")
        return Settings({**self._values, **changes})

    def __repr__(self) -> str:
        shown = ", ".join(f"{k}={'…' if k == 'secret' and v else v!r}" for k, v in self._values.items())
        return f"Settings({shown})"


def read(env: Mapping[str, str] | None = None) -> Settings:
    """The settings from ``env`` (default: the process's environment) over ``GRADER_CONFIG``'s file over defaults.

    Raises :class:`SettingsError` naming the variable for a value that cannot be read.
    """
    env = os.environ if env is None else env
    texts = {
        **_config_file(env.get(CONFIG_FILE)),
        **{k: v for k, v in env.items() if k.startswith(("GRADER_", "DATABASE_URL"))},
    }
    values = {}
    for setting in SETTINGS:
        text = texts.get(setting.env)
        if text is None or (isinstance(text, str) and not text.strip() and setting.parse is not _text):
            values[setting.name] = setting.default
            continue
        try:
            parsed = setting.parse(str(text))
        except ValueError as exc:
            raise SettingsError(f"{setting.env}={text!r} cannot be used: it takes {exc}") from None
        values[setting.name] = setting.default if parsed is None else parsed
    return Settings(values)


def current() -> Settings:
    """The settings of this process as they are now (read again each call: cheap, and tests may change them)."""
    return read()


_read_files: dict[tuple[str, int], dict[str, str]] = {}  # (path, mtime) -> its settings: read once, not per call


def _config_file(path: str | None) -> dict[str, str]:
    if not path:
        return {}
    try:
        stamp = (path, os.stat(path).st_mtime_ns)
    except OSError as exc:
        raise SettingsError(f"{CONFIG_FILE}={path}: cannot read it ({exc.strerror})") from None
    if stamp not in _read_files:
        _read_files[stamp] = _parse_config_file(path)
    return _read_files[stamp]


def _parse_config_file(path: str) -> dict[str, str]:
    import yaml

    try:
        loaded = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise SettingsError(f"{CONFIG_FILE}={path}: cannot read it ({exc.strerror})") from None
    except yaml.YAMLError as exc:
        raise SettingsError(f"{CONFIG_FILE}={path}: not YAML ({str(exc).splitlines()[0]})") from None
    if loaded is None:
        return {}
    if not isinstance(loaded, dict):
        raise SettingsError(f"{CONFIG_FILE}={path}: must map setting names (GRADER_QUEUE, …) to values")
    known = {s.env for s in SETTINGS}
    unknown = sorted(str(k) for k in loaded if k not in known)
    if unknown:
        import difflib

        near = difflib.get_close_matches(unknown[0], sorted(known), n=1)
        hint = f"; did you mean {near[0]}?" if near else ""
        raise SettingsError(f"{CONFIG_FILE}={path}: no setting {unknown[0]!r}{hint}")
    return {
        str(k): ",".join(map(str, v)) if isinstance(v, list) else str(v) for k, v in loaded.items() if v is not None
    }


def table() -> str:
    """The Markdown table of every setting (docs/settings.md holds it)."""
    rows = ["| variable | default | what it does |", "|---|---|---|"]
    for setting in SETTINGS:
        default = setting.shown_default or (
            "off" if setting.default is False else "none" if setting.default in (None, []) else f"`{setting.default}`"
        )
        rows.append(f"| `{setting.env}` | {default} | {setting.doc} |")
    return "\n".join(rows) + "\n"

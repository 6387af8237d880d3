"""The database: one engine, read and write sessions, and migrations at start.

``Database(url)`` accepts any SQLAlchemy URL; the default is
``sqlite:///<data_dir>/grader.db``. SQLite connections run in WAL mode with
foreign keys on, ``synchronous=NORMAL`` and a busy timeout, and every write
transaction starts with ``BEGIN IMMEDIATE`` so that concurrent writers (two
gunicorn workers, a Celery worker) queue for the lock instead of failing with
a stale snapshot; writers of one SQLite file also take a lock file beside
it (``<file>.write-lock``, threads and processes alike), so that a waiting
writer wakes the moment the lock is free instead of polling in SQLite's busy
handler (whose sleeps grow to 100 ms). WAL checkpoints run in a background
thread of each writing process (``PRAGMA wal_checkpoint(PASSIVE)`` every
0.25 s) rather than inside whichever request's commit crosses SQLite's
threshold, which keeps checkpoint I/O out of request latency. PostgreSQL (``postgresql+psycopg://…``) needs nothing special;
a ``?options=-csearch_path%3Dname`` query selects a schema.

The hottest write, storing a graded submission, goes through :meth:`Database.raw_write`: statements compiled
once by SQLAlchemy (:class:`RawStatement`) and run on the driver's own cursor in the same locked transaction,
sent to PostgreSQL in one round trip (psycopg's pipeline), with the driver's errors raised as SQLAlchemy's.

:meth:`Database.migrate` runs Alembic's ``upgrade head`` under a lock (a file
lock for SQLite, an advisory lock for PostgreSQL), so several processes that
start at once do not race to create the tables.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import threading
import weakref
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy import exc as errors
from sqlalchemy.engine import URL, make_url
from sqlalchemy.orm import Session, sessionmaker

from grader.paths import PRIVATE_FILE, data_dir, private_dir, private_file
from grader.settings import current

log = logging.getLogger(__name__)

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
CHECKPOINT_INTERVAL = 0.25  # seconds between background WAL checkpoints
AUTOCHECKPOINT_PAGES = 10_000  # SQLite's own checkpoint, a safety net (its default is 1000)
_ADVISORY_LOCK = 0x6772616465  # "grade": serialises migrations on PostgreSQL


def default_url() -> str:
    """``DATABASE_URL`` from the environment, else a SQLite file in the data folder."""
    return current().database_url or f"sqlite:///{data_dir() / 'grader.db'}"


SQLITE_TRANSIENT = (
    "database is locked",
    "database table is locked",
    "disk i/o error",
    "unable to open database file",
    "database or disk is full",
)


def is_unavailable(exc: BaseException) -> bool:
    """True when ``exc`` says the database cannot be used *now* (not that a query is wrong): try again later.

    That is a connection refused, lost or timed out (PostgreSQL's operational
    errors, an invalidated connection, an exhausted pool), and for SQLite a
    file that is locked, unreadable or full. A programming error (a missing
    table, a constraint) is not.
    """
    from sqlalchemy import exc as errors

    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:  # also when wrapped (raised ``from`` the store's error)
        seen.add(id(exc))
        if isinstance(exc, errors.TimeoutError | errors.DisconnectionError):
            return True
        if isinstance(exc, errors.DBAPIError):
            if exc.connection_invalidated or isinstance(exc, errors.InterfaceError):
                return True
            if isinstance(exc, errors.OperationalError):
                if type(exc.orig).__module__.startswith("sqlite3"):
                    return any(phrase in str(exc.orig).lower() for phrase in SQLITE_TRANSIENT)
                return True
            return False
        exc = exc.__cause__
    return False


def _keep_private(database: Path) -> None:
    """Make a SQLite file readable by its owner only (0600), and the folder holding it when it is ours (0700).

    The file is created here, before SQLite opens it, because SQLite gives its
    ``-wal``, ``-shm`` and ``-journal`` files the mode of the database file;
    those of an older database that was readable by others are narrowed too.
    The folder is made private when it is created here or is the data folder;
    another existing folder (a path the operator chose) keeps its mode.
    An existing file is narrowed by path, never opened: closing any descriptor
    of a SQLite file releases every lock this process holds on it, and another
    process would then delete the write-ahead log under this one's connections.
    """
    folder = database.parent
    if not folder.exists() or folder.resolve() == data_dir().resolve():
        private_dir(folder)
    if not database.exists():
        os.close(private_file(database))
    for suffix in ("", "-wal", "-shm", "-journal"):
        with contextlib.suppress(FileNotFoundError, PermissionError):
            os.chmod(f"{database}{suffix}", PRIVATE_FILE)


def _json_dumps(value: Any) -> str:
    return orjson.dumps(value, option=orjson.OPT_SERIALIZE_NUMPY).decode()


class Database:
    """An engine with two session factories: :meth:`read` and :meth:`write` (commits on success)."""

    def __init__(self, url: str | URL | None = None, *, echo: bool = False) -> None:
        self.url = make_url(url or default_url())
        self.is_sqlite = self.url.get_backend_name() == "sqlite"
        options: dict[str, Any] = {
            "echo": echo,
            "json_serializer": _json_dumps,
            "json_deserializer": orjson.loads,
        }
        if self.is_sqlite:
            database = self.url.database
            if database and database != ":memory:" and not database.startswith("file:"):  # not a URI filename
                _keep_private(Path(database))
            options["connect_args"] = {"timeout": 30, "check_same_thread": False}
        else:
            options["pool_pre_ping"] = True
        self.engine: Engine = create_engine(self.url, **options)
        if self.is_sqlite:
            _configure_sqlite(self.engine)
        self._writer = self.engine.execution_options(sqlite_begin="IMMEDIATE")
        self._read = sessionmaker(self.engine, expire_on_commit=False)
        self._write = sessionmaker(self._writer, expire_on_commit=False)
        database = self.url.database if self.is_sqlite else None
        on_disk = bool(database and database != ":memory:")
        self._write_lock = WriteLock(f"{database}.write-lock") if on_disk else contextlib.nullcontext
        self._checkpointer = Checkpointer(self.engine) if on_disk else None
        self.known_students: set[str] = set()  # rows known to exist (students are never deleted)
        self.compiled: dict[Any, Any] = {}  # statements compiled for this database (RawStatement), by their users
        engine = weakref.ref(self.engine)
        # A forked child (gunicorn --preload, Celery prefork) must not reuse the parent's connections.
        os.register_at_fork(after_in_child=lambda: _forget_connections(engine()))

    def __repr__(self) -> str:
        return f"Database({self.url.render_as_string(hide_password=True)!r})"

    @contextlib.contextmanager
    def read(self) -> Iterator[Session]:
        """A session for queries; rolled back (nothing to keep) on exit."""
        with self._read() as session:
            yield session

    @contextlib.contextmanager
    def write(self) -> Iterator[Session]:
        """A session whose transaction commits on success and rolls back on any exception."""
        if self._checkpointer is not None:
            self._checkpointer.ensure_running()
        with self._write_lock(), self._write() as session, session.begin():
            yield session

    @contextlib.contextmanager
    def transaction(self) -> Iterator[Connection]:
        """A Core connection in a write transaction (for hot paths): commits on success."""
        if self._checkpointer is not None:
            self._checkpointer.ensure_running()
        with self._write_lock(), self._writer.begin() as connection:
            yield connection

    @property
    def raw_writes(self) -> bool:
        """Whether :meth:`raw_write` may be used: on SQLite's and psycopg's drivers, and not while something
        listens to the engine's statements (``before_cursor_execute``: what listens must see every statement, as
        tests that cut the database mid-transaction do)."""
        driver = self.engine.dialect.driver
        return driver in ("pysqlite", "psycopg") and not self.engine.dispatch.before_cursor_execute

    def raw_statement(self, statement: Any, columns: Iterable[str] | None = None) -> RawStatement:
        """``statement`` (Core) compiled for this database; an insert takes the ``columns`` named."""
        return RawStatement(statement, self.engine.dialect, None if columns is None else list(columns))

    @contextlib.contextmanager
    def raw_write(self) -> Iterator[RawWrite]:
        """A write transaction on the driver's own connection (for the hottest path): the same lock and
        ``BEGIN IMMEDIATE`` as :meth:`transaction`, committed on success, rolled back on any exception; the
        driver's errors are raised as SQLAlchemy's (:func:`is_unavailable` reads them) and a connection found
        broken is dropped from the pool."""
        if self._checkpointer is not None:
            self._checkpointer.ensure_running()
        dialect = self.engine.dialect
        with self._write_lock():
            try:
                connection = self.engine.raw_connection()
            except dialect.loaded_dbapi.Error as exc:
                raise _wrapped(exc, dialect, invalidated=False) from exc
            write = RawWrite(connection.driver_connection, pipelined=not self.is_sqlite)
            try:
                try:
                    if self.is_sqlite:
                        write.cursor().execute("BEGIN IMMEDIATE")
                    yield write
                    connection.driver_connection.commit()
                except BaseException as exc:
                    broken = isinstance(exc, dialect.loaded_dbapi.Error) and dialect.is_disconnect(
                        exc, connection.dbapi_connection, None
                    )
                    if broken:
                        connection.invalidate(exc)
                    else:
                        with contextlib.suppress(dialect.loaded_dbapi.Error):
                            connection.driver_connection.rollback()
                    if isinstance(exc, dialect.loaded_dbapi.Error):
                        raise _wrapped(exc, dialect, invalidated=broken) from exc
                    raise
            finally:
                connection.close()  # back to the pool

    def migrate(self) -> None:
        """Bring the schema to the newest revision (Alembic ``upgrade head``), once across processes."""
        from alembic import command
        from alembic.config import Config

        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS))
        config.set_main_option("path_separator", "os")
        with self._migration_lock(), self.engine.connect() as connection:
            config.attributes["connection"] = connection
            command.upgrade(config, "head")
            connection.commit()

    @contextlib.contextmanager
    def _migration_lock(self) -> Iterator[None]:
        if self.is_sqlite:
            database = self.url.database
            if not database or database == ":memory:":
                yield
                return
            with open(f"{database}.migrate-lock", "a+") as handle:
                fcntl.flock(handle, fcntl.LOCK_EX)
                try:
                    yield
                finally:
                    fcntl.flock(handle, fcntl.LOCK_UN)
            return
        if self.url.get_backend_name() == "postgresql":
            with self.engine.connect() as connection:
                connection.execute(text("SELECT pg_advisory_lock(:k)"), {"k": _ADVISORY_LOCK})
                connection.commit()
                try:
                    yield
                finally:
                    connection.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": _ADVISORY_LOCK})
                    connection.commit()
            return
        yield

    def dispose(self) -> None:
        """Stop the checkpoint thread and close every pooled connection (at the end of a test)."""
        if self._checkpointer is not None:
            self._checkpointer.stop()
        self.engine.dispose()


class RawStatement:
    """A Core statement compiled once for one database's driver: its SQL, and its parameters from a row of
    values, each converted as SQLAlchemy converts it (dates as text on SQLite, JSON serialised), in the driver's
    parameter style. An insert takes the ``columns`` given (all of them must be in each row)."""

    def __init__(self, statement: Any, dialect: Any, columns: list[str] | None = None) -> None:
        compiled = statement.compile(dialect=dialect, column_keys=columns)
        self.sql = compiled.string
        binds = compiled.binds
        converters = {key: bind.type.dialect_impl(dialect).bind_processor(dialect) for key, bind in binds.items()}
        self._converters = [(key, convert) for key, convert in converters.items() if convert is not None]
        positional = dialect.paramstyle in ("qmark", "numeric", "format")
        self._order = list(compiled.positiontup) if positional else None

    def parameters(self, values: Mapping[str, Any]) -> Any:
        """The driver's parameters for one row (``values`` by column or bound parameter name)."""
        row = dict(values)
        for key, convert in self._converters:
            row[key] = convert(row[key])
        return row if self._order is None else tuple([row[key] for key in self._order])


class RawWrite:
    """The statements of one :meth:`Database.raw_write` transaction, on the driver's connection.

    :meth:`batch` sends the statements inside it to PostgreSQL together (psycopg's pipeline: one round trip);
    a cursor's ``rowcount`` is known once the batch has ended. On SQLite each runs at once.
    """

    def __init__(self, connection: Any, *, pipelined: bool) -> None:
        self.connection = connection
        self._pipelined = pipelined

    def cursor(self) -> Any:
        return self.connection.cursor()

    @contextlib.contextmanager
    def batch(self) -> Iterator[None]:
        if not self._pipelined:
            yield
            return
        with self.connection.pipeline():
            yield

    def execute(self, statement: RawStatement, values: Mapping[str, Any]) -> Any:
        """Run ``statement`` with one row of values; returns its cursor (for ``rowcount``)."""
        cursor = self.connection.cursor()
        cursor.execute(statement.sql, statement.parameters(values))
        return cursor

    def executemany(self, statement: RawStatement, rows: Iterable[Mapping[str, Any]]) -> None:
        parameters = [statement.parameters(row) for row in rows]
        if parameters:
            self.connection.cursor().executemany(statement.sql, parameters)


def _wrapped(exc: BaseException, dialect: Any, *, invalidated: bool) -> BaseException:
    """A driver's error as SQLAlchemy raises it (``OperationalError`` etc. with ``orig``)."""
    return errors.DBAPIError.instance(
        None, None, exc, dialect.loaded_dbapi.Error, connection_invalidated=invalidated, dialect=dialect
    )


def _forget_connections(engine: Engine | None) -> None:
    if engine is not None:
        engine.dispose(close=False)


class Checkpointer:
    """A daemon thread that copies the SQLite WAL into the database file every few moments.

    Started by the first write of each process (and again in a forked child);
    stops when asked, or when its engine is gone.
    """

    def __init__(self, engine: Engine, interval: float = CHECKPOINT_INTERVAL) -> None:
        self._engine = weakref.ref(engine)
        self.interval = interval
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._pid = 0
        self._lock = threading.Lock()

    def ensure_running(self) -> None:
        if self._thread is not None and self._pid == os.getpid() and self._thread.is_alive():
            return
        with self._lock:
            if self._thread is not None and self._pid == os.getpid() and self._thread.is_alive():
                return
            self._stop = threading.Event()
            self._pid = os.getpid()
            self._thread = threading.Thread(target=self._run, args=(self._stop,), name="sqlite-checkpoint", daemon=True)
            self._thread.start()

    def _run(self, stop: threading.Event) -> None:
        while not stop.wait(self.interval):
            engine = self._engine()
            if engine is None:
                return
            try:
                connection = engine.raw_connection()
                try:
                    connection.cursor().execute("PRAGMA wal_checkpoint(PASSIVE)")
                finally:
                    connection.close()
            except Exception:  # a busy or closed database: try again next time
                log.debug("WAL checkpoint skipped", exc_info=True)
            del engine

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None and self._pid == os.getpid():
            self._thread.join(5)


class WriteLock:
    """An exclusive lock for writers, across threads (a mutex) and processes (``flock`` on a file)."""

    def __init__(self, path: str) -> None:
        self.path = path
        self._mutex = threading.Lock()
        self._descriptor: int | None = None
        self._pid = 0

    def __call__(self) -> WriteLock:
        return self

    def __enter__(self) -> None:
        self._mutex.acquire()
        try:
            fcntl.flock(self._file(), fcntl.LOCK_EX)
        except BaseException:
            self._mutex.release()
            raise

    def __exit__(self, *exc: object) -> None:
        try:
            fcntl.flock(self._file(), fcntl.LOCK_UN)
        finally:
            self._mutex.release()

    def _file(self) -> int:
        # A forked child must not share its parent's open file (flock would then be shared too).
        if self._descriptor is None or self._pid != os.getpid():
            self._descriptor = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
            self._pid = os.getpid()
        return self._descriptor


def _configure_sqlite(engine: Engine) -> None:
    """WAL, foreign keys, a busy timeout, and explicit BEGIN (IMMEDIATE for writers)."""

    @event.listens_for(engine, "connect")
    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # SQLAlchemy emits BEGIN itself (below)
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute(f"PRAGMA wal_autocheckpoint={AUTOCHECKPOINT_PAGES}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def on_begin(connection: Any) -> None:
        mode = connection.get_execution_options().get("sqlite_begin", "")
        connection.connection.driver_connection.execute(f"BEGIN {mode}".strip())

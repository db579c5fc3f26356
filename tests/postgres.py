"""PostgreSQL for the tests: a server, and a fresh database for each test that wants one.

Where the server comes from, in order:

1. ``MINIKUBE_PY_TEST_POSTGRES_URL`` (e.g. ``postgresql+psycopg://u:pw@127.0.0.1:5432/db``):
   used as it is. Its role needs CREATEDB, since each test gets a database of its own.
   ``.ci/run`` sets it to a role on the machine's Debian cluster.
2. Otherwise a throwaway server: ``initdb`` into a temporary directory, started with
   ``pg_ctl -w`` on 127.0.0.1 at a free port, its socket inside that directory; as root it
   runs as the ``postgres`` OS user (PostgreSQL refuses to run as root). It is stopped and
   its directory removed when the test session ends.
3. Neither: :func:`postgres_server` yields the reason as a string, and the fixtures skip the
   test, or fail it where PostgreSQL is required (:func:`postgres_required`).

Each fresh database (:meth:`PostgresServer.fresh_database`) is created with a unique name on
the server and dropped afterwards, after ending any connection a test left open.

Every wait here is bounded: connecting, each SQL statement, each command run.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import attrs
import pytest
from sqlalchemy.engine import URL, make_url

ENV_URL = "MINIKUBE_PY_TEST_POSTGRES_URL"
INSTALL_HINT = f"install postgresql or set {ENV_URL}"
DB_PREFIX = "mkpy_test_"

CONNECT_TIMEOUT_S = 10
STATEMENT_TIMEOUT_MS = 60_000
COMMAND_TIMEOUT_S = 120.0
START_TIMEOUT_S = 60
STOP_TIMEOUT_S = 30
START_ATTEMPTS = 3  # a free port can be taken by someone else before the server binds it


class PostgresUnavailable(Exception):
    """No PostgreSQL for the tests; the message says why and what to do."""


def postgres_required() -> bool:
    """Whether a missing PostgreSQL fails the tests instead of skipping them.

    In CI (``CI=true``) nothing is skipped silently; nor when the user named a server
    explicitly with ``MINIKUBE_PY_TEST_POSTGRES_URL`` and it does not work.
    """
    return os.environ.get("CI", "").lower() == "true" or bool(os.environ.get(ENV_URL))


def require(server: PostgresServer | str) -> PostgresServer:
    """The server, or skip (fail where required) the calling test with the reason."""
    if isinstance(server, PostgresServer):
        return server
    if postgres_required():
        pytest.fail(server, pytrace=False)
    pytest.skip(server)


# --- URLs and connections -------------------------------------------------------------------


def _psycopg_url(raw: str) -> URL:
    url = make_url(raw)
    if url.drivername in ("postgresql", "postgres"):
        url = url.set(drivername="postgresql+psycopg")
    if url.drivername != "postgresql+psycopg":
        raise PostgresUnavailable(
            f"{ENV_URL} must be a postgresql+psycopg:// URL, not {url.drivername}://"
        )
    return url


def connect(url: str | URL, *, autocommit: bool = False) -> Any:
    """A psycopg connection for an SQLAlchemy-style URL, with bounded waits."""
    import psycopg  # the extra "postgres"; imported late so SQLite-only runs need not have it

    u = make_url(url) if isinstance(url, str) else url
    params: dict[str, Any] = {
        "host": u.host,
        "port": u.port,
        "user": u.username,
        "password": u.password,
        "dbname": u.database,
    }
    params.update({k: v for k, v in u.query.items() if isinstance(v, str)})
    params = {k: v for k, v in params.items() if v is not None}
    return psycopg.connect(
        **params,
        autocommit=autocommit,
        connect_timeout=CONNECT_TIMEOUT_S,
        options=f"-c statement_timeout={STATEMENT_TIMEOUT_MS}",
    )


@attrs.define
class PostgresServer:
    """A reachable server; ``admin_url`` connects with a role allowed to create databases."""

    admin_url: URL
    description: str

    def create_database(self) -> str:
        """Create a uniquely named empty database; return its URL (password included)."""
        name = f"{DB_PREFIX}{os.getpid()}_{uuid.uuid4().hex[:12]}"
        with connect(self.admin_url, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.admin_url.set(database=name).render_as_string(hide_password=False)

    def drop_database(self, url_or_name: str) -> None:
        """Drop a database made by :meth:`create_database`, ending its connections first."""
        name = make_url(url_or_name).database if "://" in url_or_name else url_or_name
        if not name or not name.startswith(DB_PREFIX):
            raise ValueError(f"refusing to drop {name!r}: not a test database")
        with connect(self.admin_url, autocommit=True) as conn:
            conn.execute(
                # only this role's own sessions: an autovacuum worker (a superuser process)
                # may be in the database too, and a non-superuser may not end it
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                " WHERE datname = %s AND pid <> pg_backend_pid() AND usename = current_user",
                (name,),
            )
            # No WITH (FORCE): it also tries to end autovacuum workers, which a role without
            # pg_signal_backend may not do (InsufficientPrivilege). A plain DROP signals them
            # itself and waits up to 5 s for the backends ended above to exit.
            conn.execute(f'DROP DATABASE IF EXISTS "{name}"')

    def database_exists(self, url_or_name: str) -> bool:
        name = make_url(url_or_name).database if "://" in url_or_name else url_or_name
        with connect(self.admin_url, autocommit=True) as conn:
            row = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
        return row is not None

    @contextlib.contextmanager
    def fresh_database(self) -> Iterator[str]:
        """A new database's URL for the duration of the block; dropped afterwards."""
        url = self.create_database()
        try:
            yield url
        finally:
            self.drop_database(url)


def _check(url: URL, *, need_createdb: bool = False) -> None:
    with connect(url, autocommit=True) as conn:
        row = conn.execute(
            "SELECT rolcreatedb OR rolsuper FROM pg_roles WHERE rolname = current_user"
        ).fetchone()
    if need_createdb and not (row and row[0]):
        raise PostgresUnavailable(
            f"{ENV_URL}: role {url.username!r} may not create databases; "
            f"each test needs one (ALTER ROLE ... CREATEDB)"
        )


# --- a throwaway server ---------------------------------------------------------------------


def find_bindir() -> Path:
    """A directory holding both ``initdb`` and ``pg_ctl``: PATH first, then Debian's."""
    candidates: list[Path] = []
    on_path = shutil.which("initdb")
    if on_path:
        candidates.append(Path(on_path).resolve().parent)
        candidates.append(Path(on_path).parent)

    def version(path: str) -> tuple[int, ...]:
        v = Path(path).parent.name
        return tuple(int(p) for p in v.split(".") if p.isdigit())

    debian = sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=version, reverse=True)
    candidates.extend(Path(d) for d in debian)
    with_initdb = [d for d in candidates if (d / "initdb").is_file()]
    for d in with_initdb:
        if (d / "pg_ctl").is_file():
            return d
    if not with_initdb:
        raise PostgresUnavailable(f"PostgreSQL not available: initdb not found; {INSTALL_HINT}")
    raise PostgresUnavailable(
        f"PostgreSQL not available: pg_ctl not found beside initdb in "
        f"{', '.join(map(str, with_initdb))}; {INSTALL_HINT}"
    )


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _tail(path: Path, lines: int = 20) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


@attrs.define
class _Throwaway:
    bindir: Path
    base: Path
    as_user: str | None  # run the server's commands as this OS user (we are root)

    @property
    def data(self) -> Path:
        return self.base / "data"

    @property
    def sockets(self) -> Path:
        return self.base / "sockets"

    @property
    def log(self) -> Path:
        return self.base / "postgres.log"

    def run(
        self, *args: str, timeout: float = COMMAND_TIMEOUT_S
    ) -> subprocess.CompletedProcess[str]:
        cmd = [str(self.bindir / args[0]), *args[1:]]
        if self.as_user is not None:
            cmd = ["runuser", "-u", self.as_user, "--", *cmd]
        try:
            result = subprocess.run(
                cmd,
                cwd=self.base,  # the server's user may not be able to enter ours
                stdin=subprocess.DEVNULL,
                capture_output=True,
                text=True,
                timeout=timeout,
            )
        except subprocess.TimeoutExpired as e:
            raise PostgresUnavailable(
                f"PostgreSQL not available: {args[0]} took over {timeout:.0f}s"
            ) from e
        return result

    def initdb(self) -> None:
        r = self.run(
            "initdb",
            "-D", str(self.data),
            "--auth=trust",
            "-U", "postgres",
            "--encoding=UTF8",
            "--locale=C",
            "--no-sync",
        )  # fmt: skip
        if r.returncode != 0:
            raise PostgresUnavailable(
                f"PostgreSQL not available: initdb failed ({r.returncode}): "
                f"{(r.stderr or r.stdout).strip()[-2000:]}"
            )

    def configure(self, port: int) -> None:
        # A conf file, not pg_ctl -o: no shell quoting of paths. The last setting wins.
        settings = {
            "listen_addresses": "'127.0.0.1'",
            "port": str(port),
            "unix_socket_directories": f"'{self.sockets}'",
            # Throwaway data: durability of this server is not what the tests check.
            "fsync": "off",
            "full_page_writes": "off",
            "max_connections": "200",
        }
        with open(self.data / "postgresql.conf", "a") as f:
            f.write("\n# minikube_py tests\n")
            f.writelines(f"{k} = {v}\n" for k, v in settings.items())

    def start(self) -> int:
        last = ""
        for _ in range(START_ATTEMPTS):
            port = _free_port()
            self.configure(port)
            r = self.run(
                "pg_ctl", "start", "-w", "-t", str(START_TIMEOUT_S),
                "-D", str(self.data), "-l", str(self.log),
                timeout=START_TIMEOUT_S + 30,
            )  # fmt: skip
            if r.returncode == 0:
                return port
            last = f"{(r.stderr or r.stdout).strip()}\n{_tail(self.log)}"
            self.stop()  # in case it came up after pg_ctl gave up waiting
        raise PostgresUnavailable(f"PostgreSQL not available: pg_ctl start failed: {last}")

    def stop(self) -> None:
        """Stop the server of *our* data directory; kill its postmaster if pg_ctl cannot."""
        if not (self.data / "postmaster.pid").exists():
            return
        with contextlib.suppress(PostgresUnavailable):
            r = self.run(
                "pg_ctl", "stop", "-m", "immediate", "-w", "-t", str(STOP_TIMEOUT_S),
                "-D", str(self.data),
                timeout=STOP_TIMEOUT_S + 15,
            )  # fmt: skip
            if r.returncode == 0:
                return
        self._kill_postmaster()

    def _kill_postmaster(self) -> None:
        try:
            pid = int((self.data / "postmaster.pid").read_text().split("\n", 1)[0])
        except (OSError, ValueError):
            return
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, signal.SIGKILL)  # the postmaster; its children exit when it does
        deadline = time.monotonic() + STOP_TIMEOUT_S
        while time.monotonic() < deadline:
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                return
            time.sleep(0.1)


def _server_user() -> str | None:
    """The OS user to run the server as: None as anyone but root, else ``postgres``."""
    if os.geteuid() != 0:
        return None
    try:
        pwd.getpwnam("postgres")
    except KeyError:
        raise PostgresUnavailable(
            "PostgreSQL not available: running as root and there is no 'postgres' OS user to "
            f"run the server as; {INSTALL_HINT}"
        ) from None
    if shutil.which("runuser") is None:
        raise PostgresUnavailable(
            "PostgreSQL not available: running as root and runuser not found; " + INSTALL_HINT
        )
    return "postgres"


def _temp_parent(as_user: str | None) -> str | None:
    """Where to make the server's directory: the usual temp dir, unless the server's user
    could not reach it (e.g. TMPDIR under root's 0700 home), then /tmp."""
    parent = Path(tempfile.gettempdir()).resolve()
    if as_user is None or all(p.stat().st_mode & 0o001 for p in (parent, *parent.parents)):
        return None
    return "/tmp"


@contextlib.contextmanager
def throwaway_server() -> Iterator[PostgresServer]:
    """Start a private server for the duration of the block. Raises PostgresUnavailable."""
    bindir = find_bindir()
    as_user = _server_user()
    base = Path(tempfile.mkdtemp(prefix="mkpy-pg-", dir=_temp_parent(as_user)))
    server = _Throwaway(bindir, base, as_user)
    try:
        server.sockets.mkdir()
        if as_user is not None:
            pw = pwd.getpwnam(as_user)
            for path in (base, server.sockets):
                os.chown(path, pw.pw_uid, pw.pw_gid)
        server.initdb()
        port = server.start()
        url = URL.create(
            "postgresql+psycopg", username="postgres", host="127.0.0.1", port=port,
            database="postgres",
        )  # fmt: skip
        _check(url)
        yield PostgresServer(url, f"throwaway server in {base} (port {port})")
    finally:
        server.stop()
        shutil.rmtree(base, ignore_errors=True)


@contextlib.contextmanager
def postgres_server() -> Iterator[PostgresServer | str]:
    """A server for the tests, or the reason there is none. See the module docstring."""
    raw = os.environ.get(ENV_URL)
    if raw:
        result: PostgresServer | str
        try:
            url = _psycopg_url(raw)
            _check(url, need_createdb=True)
        except PostgresUnavailable as e:
            result = str(e)
        except Exception as e:
            result = f"{ENV_URL} is set but its server is unusable: {type(e).__name__}: {e}"
        else:
            shown = url.render_as_string(hide_password=True)
            result = PostgresServer(url, f"{ENV_URL} ({shown})")
        yield result
        return

    with contextlib.ExitStack() as stack:
        try:
            result = stack.enter_context(throwaway_server())
        except PostgresUnavailable as e:
            result = str(e)
        except Exception as e:
            result = f"PostgreSQL not available: {type(e).__name__}: {e}"
        yield result

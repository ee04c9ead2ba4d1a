"""A real PostgreSQL + PostGIS server run as a local child process (for `make up` and integration tests)."""

import logging
import os
import shutil
import signal
import subprocess
import time
from collections.abc import Sequence
from pathlib import Path
from urllib.parse import quote

import psycopg
from psycopg import sql
from psycopg.conninfo import make_conninfo

from udaconnect_devstack._process import (
    Account,
    ChildServer,
    log_tail,
    run_checked,
    spawn,
    stop_process,
)
from udaconnect_devstack.errors import InfrastructureError
from udaconnect_devstack.ports import require_free_port

log = logging.getLogger(__name__)

_PG_LIB_ROOT = Path("/usr/lib/postgresql")
_SUPERUSER = "postgres"
# Linux limits a Unix socket path (sun_path) to 107 bytes plus NUL.
_MAX_SOCKET_PATH = 107


def find_postgres_bindir(major: int | None = None) -> Path:
    """Return the directory holding `postgres`/`initdb`.

    With `major`, only that version will do (an existing cluster can only be run by its own major
    version). Otherwise the highest version under /usr/lib/postgresql wins, then `pg_config --bindir`.
    """
    candidates: list[tuple[int, Path]] = []
    if _PG_LIB_ROOT.is_dir():
        for entry in _PG_LIB_ROOT.iterdir():
            if entry.name.isdigit() and (entry / "bin" / "postgres").is_file():
                candidates.append((int(entry.name), entry / "bin"))
    if major is not None:
        candidates = [c for c in candidates if c[0] == major]
    if candidates:
        return max(candidates)[1]
    pg_config = shutil.which("pg_config")
    if pg_config is not None:
        bindir = Path(run_checked([pg_config, "--bindir"], what="pg_config", cwd=Path.cwd()).strip())
        version = run_checked([pg_config, "--version"], what="pg_config", cwd=Path.cwd())
        # "PostgreSQL 15.18 (Debian ...)" -> 15
        found_major = int(version.split()[1].split(".")[0])
        if (bindir / "postgres").is_file() and (major is None or major == found_major):
            return bindir
    wanted = f"PostgreSQL {major}" if major is not None else "the PostgreSQL server"
    raise InfrastructureError(
        f"could not find {wanted} (no {_PG_LIB_ROOT}/<N>/bin/postgres, no usable pg_config); run scripts/bootstrap.sh"
    )


def find_untraversable_dir(path: Path, user: str = _SUPERUSER) -> Path | None:
    """Return the first existing ancestor of `path` (or `path` itself) that `user` cannot enter, else None.

    As root we run PostgreSQL as `user`, which must be able to reach its data directory. Callers
    (e.g. test fixtures) can use this to pick a usable place before starting a server: pytest's
    own temp root (/tmp/pytest-of-root) is mode 0700 and therefore NOT usable.
    """
    account = Account.lookup(user)
    current = path.absolute()
    chain = [current, *current.parents]
    for directory in reversed(chain):
        if not directory.exists():
            break
        if not account.can_traverse(directory):
            return directory
    return None


def _locale() -> str:
    """C.UTF-8 when the system has it (proper character classes for non-ASCII text), else plain C.

    Both give byte-order collation, which is deterministic and does not depend on the machine's
    glibc locale data.
    """
    try:
        listed = subprocess.run(["locale", "-a"], capture_output=True, text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError) as exc:
        log.warning("`locale -a` failed (%s); using the C locale for the new cluster", exc)
        return "C"
    names = {name.strip().lower() for name in listed.splitlines()}
    return "C.UTF-8" if {"c.utf8", "c.utf-8"} & names else "C"


class PostgresServer(ChildServer):
    """One PostgreSQL cluster in `data_dir`, served on `host:port` by a child process.

    The data directory is initialised on first start and kept across stop/start.
    """

    default_start_timeout = 60.0

    def __init__(
        self,
        data_dir: Path,
        port: int,
        host: str = "127.0.0.1",
        # A throwaway local dev/test cluster on loopback; real deployments pass their own secret.
        superuser_password: str = "postgres",  # noqa: S107
        *,
        log_path: Path | None = None,
        max_connections: int = 200,
    ) -> None:
        self.data_dir = data_dir.absolute()
        self.port = port
        self.host = host
        self.superuser_password = superuser_password
        self.log_path = (log_path if log_path is not None else self.data_dir.parent / "postgres.log").absolute()
        self.max_connections = max_connections
        self._proc: subprocess.Popen[bytes] | None = None

    # -- lifecycle ---------------------------------------------------------------------------------

    @property
    def pid(self) -> int | None:
        """PID of the postmaster while it runs, else None."""
        return self._proc.pid if self.is_running() and self._proc is not None else None

    def is_running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def start(self, timeout: float = 60.0) -> None:
        """Initialise the cluster if needed, start the server and wait until it accepts connections."""
        if self.is_running():
            raise InfrastructureError(f"PostgreSQL on port {self.port} is already running (pid {self.pid})")
        require_free_port(self.host, self.port, "PostgreSQL")
        run_as = Account.lookup(_SUPERUSER) if os.geteuid() == 0 else None
        self._prepare_data_dir(run_as)
        existing_major = self._cluster_major()
        bindir = find_postgres_bindir(existing_major)
        if existing_major is None:
            self._initdb(bindir, run_as)

        # The socket lives in the data dir (private to this cluster). Too long a path would stop the
        # server from starting; we only use TCP ourselves, so then go without a socket.
        socket_path = self.data_dir / f".s.PGSQL.{self.port}"
        socket_dirs = "" if len(str(socket_path)) > _MAX_SOCKET_PATH else str(self.data_dir)
        settings = {
            "listen_addresses": self.host,
            "unix_socket_directories": socket_dirs,
            "max_connections": str(self.max_connections),
            # The benchmark's conference is 470 MB of table and indexes: with the default 128 MB most
            # reads of a busy query go to the operating system's cache, a system call each.
            "shared_buffers": "1GB",
            # fsync/synchronous_commit/full_page_writes keep their (safe) defaults on purpose:
            # chaos tests kill this server and expect committed data to survive.
            # UTC so timestamps in logs and ad-hoc queries read the same on every machine.
            "timezone": "UTC",
            "log_timezone": "UTC",
            "log_line_prefix": "%m [%p] %q%u@%d ",
        }
        argv = [str(bindir / "postgres"), "-D", str(self.data_dir), "-p", str(self.port)]
        for name, value in settings.items():
            argv += ["-c", f"{name}={value}"]
        started = time.monotonic()
        self._proc = spawn(argv, log_path=self.log_path, cwd=self.data_dir.parent, run_as=run_as)
        try:
            self._wait_ready(timeout)
        except BaseException:
            # Don't leave a half-started server behind (it would hold the port and the data dir lock).
            self._stop_quietly_after_failure()
            raise
        log.info(
            "PostgreSQL ready on %s:%d after %.1fs (pid %d)",
            self.host,
            self.port,
            time.monotonic() - started,
            self._proc.pid,
        )

    def stop(self, timeout: float = 30.0) -> int | None:
        """Fast shutdown (SIGINT: roll back open transactions, checkpoint, exit); SIGKILL after `timeout`.

        The data directory is kept. Returns the postmaster's exit status (None when it was not running).
        """
        proc = self._proc
        if proc is None:
            return None
        status = stop_process(proc, name="postgres", graceful_signal=signal.SIGINT, timeout=timeout)
        self._proc = None
        return status

    def start_standby(self, data_dir: Path, port: int, timeout: float = 120.0) -> "PostgresServer":
        """A streaming replica of this running server: a base backup into ``data_dir`` with the standby's
        settings written (``pg_basebackup -R``), then started as a hot standby that serves reads."""
        run_as = Account.lookup(_SUPERUSER) if os.geteuid() == 0 else None
        standby = PostgresServer(
            data_dir, port, self.host, self.superuser_password, log_path=data_dir.parent / f"standby-{port}.log"
        )
        standby._prepare_data_dir(run_as)
        if not (standby.data_dir / "PG_VERSION").exists():
            bindir = find_postgres_bindir(self._cluster_major())
            argv = [
                str(bindir / "pg_basebackup"),
                *("-h", self.host, "-p", str(self.port), "-U", _SUPERUSER),
                *("-D", str(standby.data_dir)),
                "--write-recovery-conf",
                "--wal-method=stream",
                "--checkpoint=fast",
            ]
            # The password by environment, never on the command line.
            env = {**os.environ, "PGPASSWORD": self.superuser_password}
            run_checked(
                argv, what="pg_basebackup", cwd=standby.data_dir.parent, run_as=run_as, env=env, timeout=timeout
            )
        standby.start(timeout)
        return standby

    # -- connection strings ------------------------------------------------------------------------

    def dsn(self, user: str, password: str, database: str) -> str:
        """SQLAlchemy URL using the psycopg 3 driver."""
        return (
            f"postgresql+psycopg://{quote(user, safe='')}:{quote(password, safe='')}"
            f"@{self.host}:{self.port}/{quote(database, safe='')}"
        )

    def libpq_dsn(self, user: str, password: str, database: str) -> str:
        """libpq key=value connection string for plain psycopg / psql."""
        return make_conninfo(host=self.host, port=self.port, user=user, password=password, dbname=database)

    def superuser_dsn(self, database: str = "postgres") -> str:
        return self.libpq_dsn(_SUPERUSER, self.superuser_password, database)

    # -- provisioning ------------------------------------------------------------------------------

    def ensure_database(
        self,
        name: str,
        owner: str,
        owner_password: str,
        reader: str,
        reader_password: str,
        extensions: Sequence[str] = ("postgis", "btree_gist"),
    ) -> None:
        """Idempotently create roles, database, extensions and grants.

        * `owner` owns the database and may create objects in schema public (run migrations as it).
        * `reader` can connect and SELECT every table in public, including tables `owner` creates
          later (default privileges), and nothing else; its sessions are read-only by default too.
        * Extensions are created as superuser: PostGIS is not a trusted extension.
        Passwords are (re)set on every call, so the configured password always works.
        """
        with psycopg.connect(self.superuser_dsn(), autocommit=True) as conn:
            for role, password in ((owner, owner_password), (reader, reader_password)):
                exists = conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (role,)).fetchone()
                verb = sql.SQL("ALTER") if exists else sql.SQL("CREATE")
                # Utility statements cannot take bind parameters, so the password goes in as a
                # client-side quoted literal.
                conn.execute(
                    sql.SQL("{} ROLE {} LOGIN PASSWORD {}").format(verb, sql.Identifier(role), sql.Literal(password))
                )
            conn.execute(sql.SQL("ALTER ROLE {} SET default_transaction_read_only = on").format(sql.Identifier(reader)))
            db_owner = conn.execute(
                "SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = %s", (name,)
            ).fetchone()
            if db_owner is None:
                conn.execute(
                    sql.SQL("CREATE DATABASE {} OWNER {} ENCODING 'UTF8'").format(
                        sql.Identifier(name), sql.Identifier(owner)
                    )
                )
            elif db_owner[0] != owner:
                conn.execute(
                    sql.SQL("ALTER DATABASE {} OWNER TO {}").format(sql.Identifier(name), sql.Identifier(owner))
                )
            conn.execute(
                sql.SQL("GRANT CONNECT ON DATABASE {} TO {}").format(sql.Identifier(name), sql.Identifier(reader))
            )

        with psycopg.connect(self.superuser_dsn(name), autocommit=True) as conn:
            for extension in extensions:
                conn.execute(sql.SQL("CREATE EXTENSION IF NOT EXISTS {}").format(sql.Identifier(extension)))
            owner_id, reader_id = sql.Identifier(owner), sql.Identifier(reader)
            # PG15+ already limits CREATE on public to its owner (pg_database_owner = our owner); older
            # versions granted it to PUBLIC, which would let the reader create tables. Spelling it out
            # gives the same result on every version.
            conn.execute("REVOKE CREATE ON SCHEMA public FROM PUBLIC")
            conn.execute(sql.SQL("GRANT USAGE, CREATE ON SCHEMA public TO {}").format(owner_id))
            conn.execute(sql.SQL("GRANT USAGE ON SCHEMA public TO {}").format(reader_id))
            conn.execute(
                sql.SQL("ALTER DEFAULT PRIVILEGES FOR ROLE {} IN SCHEMA public GRANT SELECT ON TABLES TO {}").format(
                    owner_id, reader_id
                )
            )
            conn.execute(sql.SQL("GRANT SELECT ON ALL TABLES IN SCHEMA public TO {}").format(reader_id))

    # -- internals ---------------------------------------------------------------------------------

    def _cluster_major(self) -> int | None:
        version_file = self.data_dir / "PG_VERSION"
        if not version_file.is_file():
            return None
        return int(version_file.read_text().strip().split(".")[0])

    def _prepare_data_dir(self, run_as: Account | None) -> None:
        self.data_dir.parent.mkdir(parents=True, exist_ok=True)
        if run_as is not None:
            blocked = find_untraversable_dir(self.data_dir.parent, run_as.name)
            if blocked is not None:
                raise InfrastructureError(
                    f"running as root, PostgreSQL runs as OS user {run_as.name!r}, which cannot enter "
                    f"{blocked} (mode {blocked.stat().st_mode & 0o777:o}, needed to reach {self.data_dir}); "
                    f"use a data directory elsewhere or allow traversal, e.g. `chmod o+x {blocked}`"
                )
        # 0700 is what the server insists on for its data directory.
        self.data_dir.mkdir(mode=0o700, exist_ok=True)
        if run_as is not None and self.data_dir.stat().st_uid != run_as.uid:
            if any(self.data_dir.iterdir()):
                raise InfrastructureError(
                    f"{self.data_dir} is not empty and not owned by {run_as.name!r}; "
                    f"fix with `chown -R {run_as.name}: {self.data_dir}` or remove it"
                )
            os.chown(self.data_dir, run_as.uid, run_as.gid)

    def _initdb(self, bindir: Path, run_as: Account | None) -> None:
        # The password goes through a file, never the command line (visible in ps). It sits beside
        # the data dir because initdb wants the data dir itself empty.
        pwfile = self.data_dir.parent / f".{self.data_dir.name}.initdb-pw"
        fd = os.open(pwfile, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            with os.fdopen(fd, "w") as fh:
                fh.write(self.superuser_password + "\n")
            if run_as is not None:
                os.chown(pwfile, run_as.uid, run_as.gid)
            argv = [
                str(bindir / "initdb"),
                "-D",
                str(self.data_dir),
                "-U",
                _SUPERUSER,
                f"--pwfile={pwfile}",
                "--encoding=UTF8",
                f"--locale={_locale()}",
                "--auth-local=peer",
                "--auth-host=scram-sha-256",
            ]
            started = time.monotonic()
            run_checked(argv, what="initdb", cwd=self.data_dir.parent, run_as=run_as, timeout=300)
            log.info("initdb of %s took %.1fs", self.data_dir, time.monotonic() - started)
        finally:
            pwfile.unlink(missing_ok=True)

    def _wait_ready(self, timeout: float) -> None:
        assert self._proc is not None
        deadline = time.monotonic() + timeout
        last_error: Exception | None = None
        while True:
            code = self._proc.poll()
            if code is not None:
                raise InfrastructureError(
                    f"PostgreSQL exited with code {code} while starting on {self.host}:{self.port}; "
                    f"log {self.log_path}:\n{log_tail(self.log_path)}"
                )
            try:
                with psycopg.connect(self.superuser_dsn(), connect_timeout=2) as conn:
                    row = conn.execute("SELECT current_setting('data_directory')").fetchone()
            except psycopg.OperationalError as exc:
                # Expected until the server listens and finishes recovery; kept for the timeout message.
                last_error = exc
            else:
                # Whoever answers must be *our* server: another cluster that grabbed the port
                # (same default password) would otherwise pass for ready while ours dies on bind.
                served = Path(row[0]) if row is not None else None
                if served is not None and served.exists() and os.path.samefile(served, self.data_dir):
                    return
                raise InfrastructureError(
                    f"{self.host}:{self.port} is served by another PostgreSQL (data directory {served}), "
                    f"not by ours ({self.data_dir}); log {self.log_path}:\n{log_tail(self.log_path)}"
                )
            if time.monotonic() >= deadline:
                raise InfrastructureError(
                    f"PostgreSQL on {self.host}:{self.port} not ready after {timeout:.0f}s "
                    f"(last error: {last_error}); log {self.log_path}:\n{log_tail(self.log_path)}"
                )
            time.sleep(0.1)

    def _stop_quietly_after_failure(self) -> None:
        """Best-effort cleanup while another exception is already propagating."""
        try:
            self.stop(timeout=10)
        except Exception:
            # The original startup error matters more; this one is only logged (not swallowed silently).
            log.exception("could not stop PostgreSQL after a failed start")

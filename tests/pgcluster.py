"""A private PostgreSQL cluster for the server tests and the server benchmark.

It uses the machine's own PostgreSQL binaries (Debian's ``/usr/lib/postgresql/<n>/bin``, or
``initdb`` on the PATH, or the folder named by ``SAFECASE_PG_BIN``) to make a cluster in a new
temporary folder with ``initdb`` and start it with ``pg_ctl``. It listens on a Unix socket in
that folder only (``listen_addresses = ''``), unless a TLS cluster is asked for, which listens on
127.0.0.1 with a certificate and accepts TLS connections only. ``initdb`` refuses to run as
root, and CI runs as root: there the cluster runs as the unprivileged ``postgres`` account
(``runuser -u postgres``), the folder owned by it. fsync is off: the cluster is thrown away.

The superuser ``postgres`` signs in over the socket without a password (trust, for the test's
own set-up and its scans of the server); every other role signs in with its password.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from app.sync.server import PostgresTransport as Transport
    from app.sync.server import ServerAddress as ServerAddressType

SUPERUSER = "postgres"
RUN_AS = "postgres"


class NoPostgres(Exception):
    """No PostgreSQL can be started here; ``str()`` says why, in one sentence."""


def find_bin() -> Path | None:
    """The folder of the newest PostgreSQL binaries on this machine, or None."""
    named = os.environ.get("SAFECASE_PG_BIN")
    if named:
        return Path(named) if (Path(named) / "initdb").exists() else None
    found = sorted(
        Path("/usr/lib/postgresql").glob("*/bin/initdb"),
        key=lambda p: int(p.parent.parent.name) if p.parent.parent.name.isdigit() else 0,
    )
    if found:
        return found[-1].parent
    on_path = shutil.which("initdb")
    return Path(on_path).parent if on_path else None


def _as_root() -> bool:
    return os.geteuid() == 0


def _run(args: list[str], *, log: Path | None = None) -> None:
    command = ["runuser", "-u", RUN_AS, "--", *args] if _as_root() else args
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        detail = (done.stderr or done.stdout).strip().splitlines()[-3:]
        if log is not None and log.exists():
            detail += log.read_text(errors="replace").strip().splitlines()[-5:]
        raise NoPostgres(f"{Path(args[0]).name} failed: {' | '.join(detail)}")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Cluster:
    """A running private cluster; ``stop()`` ends it and removes its folder."""

    bin: Path
    folder: Path  # the socket lives here; the cluster's files in ``data``
    port: int
    tls_host: str | None = None  # 127.0.0.1 when started with a certificate

    @property
    def data(self) -> Path:
        return self.folder / "data"

    def owner_conninfo(self, database: str = "postgres") -> str:
        """The superuser's address over the socket (trusted, no password)."""
        return f"host={self.folder} port={self.port} user={SUPERUSER} dbname={database}"

    def conninfo(self, user: str, password: str, database: str) -> str:
        return (
            f"host={self.folder} port={self.port} user={user} password={password} dbname={database}"
        )

    def sql(self, statement: str, database: str = "postgres") -> None:
        """Run one statement as the superuser (set-up only)."""
        import psycopg

        with psycopg.connect(self.owner_conninfo(database), autocommit=True) as conn:
            conn.execute(statement.encode())

    def stop(self) -> None:
        with contextlib.suppress(NoPostgres):
            _run([str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "stop"])
        shutil.rmtree(self.folder, ignore_errors=True)


def start(*, certificate: tuple[bytes, bytes] | None = None) -> Cluster:
    """Make and start a cluster. ``certificate`` (PEM certificate, PEM key): listen on
    127.0.0.1 with TLS only, on a free port. Raises NoPostgres with the reason."""
    binaries = find_bin()
    if binaries is None:
        raise NoPostgres("No PostgreSQL binaries are installed (initdb not found).")
    if _as_root():
        if shutil.which("runuser") is None:
            raise NoPostgres("Running as root, and runuser is missing to run PostgreSQL.")
        try:
            account = pwd.getpwnam(RUN_AS)
        except KeyError:
            raise NoPostgres("Running as root, and there is no 'postgres' account.") from None
    # Outside pytest's private temporary folders, which the postgres account may not enter.
    folder = Path(tempfile.mkdtemp(prefix="safecase-pg-"))
    try:
        if _as_root():
            os.chown(folder, account.pw_uid, account.pw_gid)
        data = folder / "data"
        _run(
            [
                str(binaries / "initdb"),
                "-D",
                str(data),
                "-U",
                SUPERUSER,
                "-E",
                "UTF8",
                "--no-locale",
                "--no-sync",
                "--no-instructions",
                "--auth-local=trust",
                "--auth-host=scram-sha-256",
            ]
        )
        port = free_port() if certificate else 5432
        settings = [
            f"port = {port}",
            f"unix_socket_directories = '{folder}'",
            "fsync = off",
            "synchronous_commit = off",
            "full_page_writes = off",
            "shared_buffers = 128MB",
            "max_connections = 200",
            "log_min_messages = warning",
        ]
        hba = [f"local all {SUPERUSER} trust", "local all all scram-sha-256"]
        if certificate:
            cert, key = certificate
            for name, content in (("server.crt", cert), ("server.key", key)):
                path = data / name
                path.write_bytes(content)
                path.chmod(0o600)
                if _as_root():
                    os.chown(path, account.pw_uid, account.pw_gid)
            settings += ["listen_addresses = '127.0.0.1'", "ssl = on"]
            hba += ["hostssl all all 127.0.0.1/32 scram-sha-256"]
        else:
            settings.append("listen_addresses = ''")
        with (data / "postgresql.conf").open("a", encoding="utf-8") as conf:
            conf.write("\n".join(settings) + "\n")
        (data / "pg_hba.conf").write_text("\n".join(hba) + "\n", encoding="utf-8")
        log = folder / "server.log"
        if _as_root():
            log.touch()
            os.chown(log, account.pw_uid, account.pw_gid)
        _run(
            [str(binaries / "pg_ctl"), "-D", str(data), "-l", str(log), "-w", "-s", "start"],
            log=log,
        )
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    return Cluster(binaries, folder, port, "127.0.0.1" if certificate else None)


def self_signed(host: str = "127.0.0.1") -> tuple[bytes, bytes]:
    """A new self-signed server certificate for ``host`` (an IP address), and its key, in PEM."""
    import datetime as dt
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "safecase-test-server")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address(host))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    return (
        cert.public_bytes(serialization.Encoding.PEM),
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ),
    )


OWNER, OWNER_PASSWORD = "safecase_owner", "owner-pw-for-tests-only"


def skip_or_fail(reason: str) -> None:
    """Skip a test that needs PostgreSQL here, with the reason; in CI (CI=true) fail it, so a
    CI machine without PostgreSQL cannot pass the run without the server tests."""
    import pytest

    if os.environ.get("CI", "").strip().lower() in ("true", "1", "yes"):
        pytest.fail(f"CI must run the PostgreSQL tests, but: {reason}", pytrace=False)
    pytest.skip(f"needs PostgreSQL: {reason}")


@dataclass
class TeamServer:
    """One team's database on the test cluster, set up by ``init_server`` as its owner (a role
    with CREATEROLE, not a superuser), and a way to enrol devices on it."""

    cluster: Cluster
    database: str
    team: str

    @property
    def owner_dsn(self) -> str:
        return self.cluster.conninfo(OWNER, OWNER_PASSWORD, self.database)

    def address(self) -> ServerAddressType:
        from app.sync.server import ServerAddress

        return ServerAddress(
            host=str(self.cluster.folder),
            port=self.cluster.port,
            database=self.database,
            tls="disable",
        )

    def enrol(self, device: str, *, admin: bool = False, team: str | None = None) -> Transport:
        """The device's login role made on the server, and that device's transport."""
        import psycopg

        from app.sync.server import PostgresTransport, create_device_role

        password = f"pw-{device}"
        with psycopg.connect(self.owner_dsn, autocommit=True) as conn:
            create_device_role(conn, team or self.team, device, password, admin=admin)
        return PostgresTransport(self.address(), device, password)

    def device_conn(self, device: str) -> Any:
        """A raw connection as the device's login role (to try what it may not do)."""
        import psycopg

        from app.sync.server import login_for

        return psycopg.connect(
            self.cluster.conninfo(login_for(device), f"pw-{device}", self.database),
            autocommit=True,
        )


def owner_database(cluster: Cluster, database: str) -> None:
    """A new database ``database`` owned by the owner role (a role with CREATEROLE, made the
    first time), with nothing of Safecase in it yet."""
    import psycopg

    with psycopg.connect(cluster.owner_conninfo(), autocommit=True) as conn:
        if conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (OWNER,)).fetchone() is None:
            conn.execute(f"CREATE ROLE {OWNER} LOGIN CREATEROLE PASSWORD '{OWNER_PASSWORD}'")
        conn.execute(f'CREATE DATABASE "{database}" OWNER {OWNER}')


def team_server(cluster: Cluster, database: str, team: str) -> TeamServer:
    """A new database ``database`` owned by the owner role, with the server set up in it."""
    from app.sync.server import init_server

    owner_database(cluster, database)
    server = TeamServer(cluster, database, team)
    init_server(server.owner_dsn)
    return server

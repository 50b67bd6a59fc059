"""The PostgreSQL team server: the same Transport as the shared folder, for a bigger service.

The server stays blind: it stores and relays envelopes (ciphertext, sealed and signed on the
laptops) and never holds a key. What it can see: which device sent each envelope and when,
its number, its size, and the plaintext scope in its header (``case:<gid>``, a random id that
names no one), which compaction needs; the orders and receipts it carries are signed bytes.

Schema (``init_server``, schema ``safecase``, run once with the database owner's DSN; running it
again changes nothing that is there):

- ``devices``: each device's team, its login role (``sc_<device id>``), whether it is an admin's
  device, and when the server began to refuse it. No device role may read it; small SECURITY
  DEFINER functions answer "which device am I", "which team", "am I refused" for the session's
  login only.
- ``envelopes``: append-only, (team, sender, seq, scope, data, received), primary key
  (sender, seq). ``team`` is the sending device's team as the server knows it, not what the
  envelope says; ``scope`` is read from the envelope's plaintext header by the publishing laptop
  (``envelope_scope``), so compaction can find a purged case's envelopes without a key.
- ``orders``: append-only signed orders to one device (kind ``order``, from an admin's device)
  and that device's receipts (kind ``receipt``); the newest of each kind counts.

Roles: ``safecase_device`` (a group: every device's login role is in it) may INSERT and SELECT
envelopes and orders, never UPDATE or DELETE; row-level security lets a device insert only under
its own sender id and its own team, read only its own team's envelopes, and read only its own
orders and write only its own receipts. ``safecase_compactor`` is the only role with DELETE on
envelopes (its own team's). ``safecase_admin`` may make device login roles and refuse devices,
through SECURITY DEFINER functions (``add_device``, ``refuse_device``) that can do nothing else;
an admin's device is in all three groups. A refused device's new envelopes are refused by a
trigger with SQLSTATE ``SC403`` (``DeviceRefused``); it reads nothing but its own order, and may
still write its receipt. Passwords reach the server only as SCRAM verifiers, never in clear.

Wake-up: a statement trigger on ``envelopes`` notifies channel ``sc_<team>`` with the sender's
id for each statement that adds envelopes; ``PostgresTransport.wait`` returns as soon as another
device of the team publishes.

Reading cheaply: ``incoming(have)`` sends, per sender, the ranges of numbers it does not hold
(below, between and above what it holds: a laptop up to date asks one range per sender, above
its newest), plus every device of the team it holds nothing from, and the server answers from
the primary key: nothing already held is read or sent, however many rows the table has.
Rows are whole by construction, so no frame is needed; rows are streamed with a server-side
cursor, so a laptop joining a large team does not hold every envelope in memory at once.

TLS: over the network a laptop connects with ``sslmode=verify-full`` and the team's pinned server
certificate as the only trusted root (written to a file only this process reads, as libpq
needs), so a server with any other certificate is refused with one sentence and no password is
sent to it. A Unix socket (a server on the same machine, development and tests) carries no TLS.

psycopg (and psycopg_pool) are imported only when a transport is made or the server is set up:
nothing here is loaded when the app or the command line starts.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import secrets
import shutil
import socket
import tempfile
import time
from collections.abc import Iterator, Mapping, Sequence, Set
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from app.errors import EXIT_SIGN_IN, EXIT_USAGE, SafecaseError
from app.sync.transport import (
    EnvelopeNumberTaken,
    Incoming,
    ProblemSink,
    Transport,
    TransportStatus,
    TransportUnavailable,
)

if TYPE_CHECKING:
    import psycopg
    from psycopg_pool import ConnectionPool

log = logging.getLogger("safecase.sync")

SCHEMA = "safecase"
DEVICE_GROUP = "safecase_device"
COMPACTOR_GROUP = "safecase_compactor"
ADMIN_GROUP = "safecase_admin"
LOGIN_PREFIX = "sc_"
REFUSED_STATE = "SC403"
# Envelope numbers are below this; "everything above n" is the range (n + 1, LAST).
LAST = 2**63 - 1
# A device id as the server takes it: the folder's rule, short enough for a role name.
_SERVER_DEVICE = re.compile(r"[a-z0-9][a-z0-9_-]{0,59}")
TLS_MODES = ("verify-full", "disable")


# -- errors ------------------------------------------------------------------------------------


class DeviceRefused(TransportUnavailable):
    """The server refuses this device's envelopes: an admin removed it from the team."""

    default_message = "The team server refuses this laptop: it was removed from the team."


class ServerCertificateRefused(TransportUnavailable):
    default_message = (
        "The team server did not show the certificate pinned for this team, so Safecase did not "
        "connect. Ask your admin whether the server's certificate was changed."
    )


class ServerSignInRefused(SafecaseError):
    exit_code = EXIT_SIGN_IN
    default_message = "The team server refused the user name or password."


class ServerRightsMissing(SafecaseError):
    default_message = (
        "That account may not do this on the team server: use the database owner's account, "
        "which must be allowed to create roles (CREATEROLE)."
    )


class BadServerAddress(SafecaseError):
    exit_code = EXIT_USAGE
    default_message = (
        "That is not a PostgreSQL address: give it as postgresql://USER@HOST:PORT/DATABASE "
        "or as 'host=... dbname=... user=...'."
    )


# -- the address -------------------------------------------------------------------------------


@dataclass(frozen=True)
class ServerAddress:
    """Where the team's server is, as the team's settings keep it (``to_json``).

    ``host`` is a host name or address, or an absolute path: the folder holding the server's
    Unix socket (same machine only; no TLS there). Over the network TLS is ``verify-full`` and
    ``certificate`` (PEM) is what the team pins as the only trusted root: the server's own
    certificate when it is self-signed (the usual case for an internal PostgreSQL server), or
    else the certificate of the authority that issued it (libpq verifies a chain up to a root,
    so a CA-issued server certificate cannot be pinned alone); the server's name must match it.
    """

    host: str
    port: int = 5432
    database: str = "safecase"
    tls: str = "verify-full"
    certificate: str = ""

    def __post_init__(self) -> None:
        if not self.host or not self.database or not 0 < self.port < 65536:
            raise ValueError("a server address needs a host, a port and a database")
        if self.tls not in TLS_MODES:
            raise ValueError(f"TLS is one of {', '.join(TLS_MODES)}")
        if self.is_socket and self.tls != "disable":
            raise ValueError("a Unix socket carries no TLS: tls must be 'disable'")
        if not self.is_socket and (
            self.tls != "verify-full" or "BEGIN CERTIFICATE" not in self.certificate
        ):
            raise ValueError("over the network a server address needs its pinned certificate")

    @property
    def is_socket(self) -> bool:
        return self.host.startswith("/")

    @property
    def fingerprint(self) -> str:
        """SHA-256 of the pinned certificate (DER), for an admin to compare; '' on a socket."""
        if not self.certificate:
            return ""
        from cryptography import x509
        from cryptography.hazmat.primitives import hashes

        cert = x509.load_pem_x509_certificate(self.certificate.encode("ascii"))
        return cert.fingerprint(hashes.SHA256()).hex(":")

    def describe(self) -> str:
        where = self.host if self.is_socket else f"{self.host}:{self.port}"
        return f"the team server {where} (database {self.database})"

    def to_json(self) -> dict[str, object]:
        return {
            "host": self.host,
            "port": self.port,
            "database": self.database,
            "tls": self.tls,
            "certificate": self.certificate,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ServerAddress:
        return cls(
            host=str(data["host"]),
            port=int(data.get("port", 5432)),
            database=str(data.get("database", "safecase")),
            tls=str(data.get("tls", "verify-full")),
            certificate=str(data.get("certificate", "")),
        )

    def conninfo(self, user: str, password: str, rootcert: Path | None) -> str:
        from psycopg.conninfo import make_conninfo

        params: dict[str, Any] = {
            "host": self.host,
            "port": self.port,
            "dbname": self.database,
            "user": user,
            "password": password,
            "connect_timeout": 10,
            "application_name": "safecase",
            # No password file or service file of the machine's account is consulted.
            "passfile": os.devnull,
        }
        if self.is_socket:
            params["sslmode"] = "disable"
        else:
            params.update(sslmode="verify-full", sslrootcert=str(rootcert), sslcrl="")
        return make_conninfo("", **params)


def read_certificate(path: Path) -> str:
    """The PEM server certificate in ``path``, checked to be one; ValueError otherwise."""
    from cryptography import x509

    text = path.read_text(encoding="ascii", errors="replace")
    try:
        x509.load_pem_x509_certificate(text.encode("ascii", errors="replace"))
    except ValueError:
        raise ValueError("that file is not a PEM certificate") from None
    return text


def login_for(device: str) -> str:
    if not _SERVER_DEVICE.fullmatch(device):
        raise ValueError("a device id is 1 to 60 lower-case letters, digits, '-' or '_'")
    return LOGIN_PREFIX + device


# -- errors from psycopg, sorted by SQLSTATE ----------------------------------------------------


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:]


def _reachable(host: str, port: int) -> bool:
    """Whether anything answers at the address: a Unix socket there, or a TCP port open."""
    if host.startswith("/"):
        return os.path.exists(os.path.join(host, f".s.PGSQL.{port}"))
    try:
        with socket.create_connection((host, port), timeout=5):
            return True
    except OSError:
        return False


# libpq reports a failed start-up with no SQLSTATE (there is no result to carry one), only the
# server's or its own message: these words sort it, after the code when there is one.
_SIGN_IN_WORDS = ("password authentication failed", "no password supplied", "no pg_hba.conf")
_TLS_WORDS = ("certificate", "ssl", "tls")


def connect_failed(exc: Exception, where: str, host: str, port: int, tls: bool) -> SafecaseError:
    """The one sentence for a connection that could not be made."""
    state = getattr(exc, "sqlstate", None)
    said = str(exc).lower()
    where = _cap(where)
    if not _reachable(host, port):
        return TransportUnavailable(
            f"{where} cannot be reached. Check the network connection, then sync again."
        )
    if tls and any(word in said for word in _TLS_WORDS):
        return ServerCertificateRefused(
            f"{where} did not show the certificate pinned for this team, so Safecase did not "
            "connect. Ask your admin whether the server's certificate was changed."
        )
    if state in ("28P01", "28000") or any(word in said for word in _SIGN_IN_WORDS):
        return ServerSignInRefused(f"{where} refused the user name or password.")
    if state == "3D000" or ("database" in said and "does not exist" in said):
        return TransportUnavailable(f"{where} has no such database.")
    return TransportUnavailable(
        f"{where} is not accepting connections now. Check the network connection, then sync again."
    )


def _query_failed(exc: Exception, where: str) -> SafecaseError | None:
    """The sentence for a failed statement a user can meet, or None for a bug."""
    import psycopg

    state = getattr(exc, "sqlstate", None)
    if state == REFUSED_STATE:
        return DeviceRefused()
    if state == "42501":
        return ServerRightsMissing(
            f"{_cap(where)} does not allow this laptop to do that; ask your admin."
        )
    if state in ("53100", "53200"):
        return TransportUnavailable(
            f"{_cap(where)} is out of space; nothing was sent. Tell your admin."
        )
    if isinstance(exc, psycopg.OperationalError) or (state or "").startswith(("08", "57")):
        return TransportUnavailable(
            f"{_cap(where)} stopped answering. Check the network connection, then sync again."
        )
    return None


@contextlib.contextmanager
def _sorted_errors(where: str) -> Iterator[None]:
    import psycopg

    try:
        yield
    except psycopg.Error as exc:
        known = _query_failed(exc, where)
        if known is None:
            raise
        raise known from None


# -- the transport -----------------------------------------------------------------------------


@dataclass
class PostgresTransport:
    """Envelopes in the team server's append-only table, as one device's login role."""

    address: ServerAddress
    device: str
    password: str = field(repr=False)
    pool_size: int = 2
    _pool: ConnectionPool[psycopg.Connection[Any]] | None = field(default=None, repr=False)
    _listener: psycopg.Connection[Any] | None = field(default=None, repr=False)
    _channel: str | None = field(default=None, repr=False)
    _certs: Path | None = field(default=None, repr=False)

    @property
    def login(self) -> str:
        return login_for(self.device)

    # -- connections -------------------------------------------------------------------------

    def _conninfo(self) -> str:
        rootcert = None
        if not self.address.is_socket:
            if self._certs is None:
                self._certs = Path(tempfile.mkdtemp(prefix="safecase-server-"))
            rootcert = self._certs / "team-server.pem"
            if not rootcert.exists():
                rootcert.write_text(self.address.certificate, encoding="ascii")
        return self.address.conninfo(self.login, self.password, rootcert)

    def _connect(self) -> psycopg.Connection[Any]:
        import psycopg

        try:
            return psycopg.connect(self._conninfo(), autocommit=True)
        except psycopg.Error as exc:
            raise connect_failed(
                exc,
                self.address.describe(),
                self.address.host,
                self.address.port,
                not self.address.is_socket,
            ) from None

    def _open_pool(self) -> ConnectionPool[psycopg.Connection[Any]]:
        if self._pool is None:
            from psycopg_pool import ConnectionPool

            # One connection made here first: its failure is the sentence the user sees (the
            # pool would only time out, its reason in a log).
            self._connect().close()
            self._pool = ConnectionPool(
                self._conninfo(),
                kwargs={"autocommit": True},
                min_size=1,
                max_size=max(2, self.pool_size),  # incoming holds one while status asks
                open=False,
                check=ConnectionPool.check_connection,
                timeout=15,
                max_idle=120,
                name=f"safecase-{self.device}",
            )
            self._pool.open(wait=False)
        return self._pool

    @contextlib.contextmanager
    def _conn(self) -> Iterator[psycopg.Connection[Any]]:
        from psycopg_pool import PoolTimeout

        pool = self._open_pool()
        try:
            with pool.connection() as conn, _sorted_errors(self.address.describe()):
                yield conn
        except PoolTimeout:
            self._connect().close()  # says why, if it can
            raise TransportUnavailable(
                f"{_cap(self.address.describe())} is too busy to answer now; sync again "
                "in a moment."
            ) from None

    def close(self) -> None:
        if self._pool is not None:
            self._pool.close()
            self._pool = None
        if self._listener is not None:
            with contextlib.suppress(Exception):
                self._listener.close()
            self._listener = None
        if self._certs is not None:
            shutil.rmtree(self._certs, ignore_errors=True)
            self._certs = None

    def __enter__(self) -> PostgresTransport:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- the interface -----------------------------------------------------------------------

    def publish(self, sender: str, seq: int, data: bytes) -> None:
        from app.crypto.envelopes import envelope_scope

        login_for(sender)
        if seq < 0:
            raise ValueError("an envelope number is 0 or more")
        with self._conn() as conn:
            added = conn.execute(
                f"INSERT INTO {SCHEMA}.envelopes (sender, seq, scope, data) "
                "VALUES (%s, %s, %s, %s) ON CONFLICT (sender, seq) DO NOTHING",
                (sender, seq, envelope_scope(data), data),
            ).rowcount
            if added:
                return
            row = conn.execute(
                f"SELECT data FROM {SCHEMA}.envelopes WHERE sender = %s AND seq = %s",
                (sender, seq),
            ).fetchone()
        if row is not None and bytes(row[0]) == data:
            return  # published before (a retry after a crash): nothing to do
        raise EnvelopeNumberTaken(
            "The team server already holds a different envelope with this laptop's next "
            "number: this laptop may have been restored from an old copy. Ask your admin to "
            "re-enrol it."
        )

    def incoming(
        self, have: Mapping[str, Set[int]], *, problems: ProblemSink | None = None
    ) -> Iterator[Incoming]:
        """Every envelope of the team not in ``have``, streamed; read when first iterated."""
        senders, lows, highs = missing_ranges(have)
        params = {"senders": senders, "lows": lows, "highs": highs, "held": sorted(have)}
        with self._conn() as conn, conn.transaction():
            cursor = conn.cursor(name="safecase_incoming")
            cursor.itersize = 256
            cursor.execute(INCOMING_SQL, params)
            for sender, seq, data in cursor:
                yield Incoming(str(sender), int(seq), bytes(data))

    def status(self) -> TransportStatus:
        """Reachable or not, and each team device's count: its highest number + 1 (numbers run
        from 0; envelopes compaction removed still count), one index entry read per device."""
        try:
            with self._conn() as conn:
                rows = conn.execute(
                    f"SELECT d, (SELECT max(seq) FROM {SCHEMA}.envelopes WHERE sender = d) "
                    f"FROM {SCHEMA}.team_devices() AS d"
                ).fetchall()
        except TransportUnavailable:
            return TransportStatus(reachable=False)
        return TransportStatus(
            reachable=True,
            published={str(d): int(top) + 1 for d, top in rows if top is not None},
        )

    def compact(self, scopes: Set[str]) -> int:
        """Delete the team's envelopes whose header names one of ``scopes`` (the admin's
        device, which alone is in the compaction role)."""
        if not scopes:
            return 0
        with self._conn() as conn:
            return conn.execute(
                f"DELETE FROM {SCHEMA}.envelopes WHERE team = {SCHEMA}.my_team() "
                "AND scope = ANY(%s::text[])",
                (sorted(scopes),),
            ).rowcount

    def post_order(self, device: str, data: bytes) -> None:
        self._put(device, "order", data)

    def order_for(self, device: str) -> bytes | None:
        return self._get(device, "order")

    def post_receipt(self, device: str, data: bytes) -> None:
        self._put(device, "receipt", data)

    def receipt_for(self, device: str) -> bytes | None:
        return self._get(device, "receipt")

    def refuse_device(self, device: str) -> None:
        """From now on the server refuses ``device``'s new envelopes (admins only)."""
        login_for(device)
        with self._conn() as conn:
            conn.execute(f"SELECT {SCHEMA}.refuse_device(%s)", (device,))

    def add_device(self, device: str, password: str) -> str:
        """Make ``device``'s login role in this device's team (an admin's device: a laptop
        invited to a team on the server); returns the login name."""
        with self._conn() as conn:
            row = conn.execute(f"SELECT {SCHEMA}.my_team()").fetchone()
            if row is None or row[0] is None:
                raise DeviceRefused()
            return create_device_role(conn, str(row[0]), device, password)

    def _put(self, device: str, kind: str, data: bytes) -> None:
        login_for(device)
        with self._conn() as conn:
            conn.execute(
                f"INSERT INTO {SCHEMA}.orders (device, kind, data) VALUES (%s, %s, %s)",
                (device, kind, data),
            )

    def _get(self, device: str, kind: str) -> bytes | None:
        login_for(device)
        with self._conn() as conn:
            row = conn.execute(
                f"SELECT data FROM {SCHEMA}.orders WHERE device = %s AND kind = %s "
                "ORDER BY id DESC LIMIT 1",
                (device, kind),
            ).fetchone()
        return None if row is None else bytes(row[0])

    def import_from(self, source: Transport, problems: ProblemSink | None = None) -> MoveReport:
        """Copy every envelope ``source`` (the team's shared folder) holds into the server,
        under the devices that sent them (the admin's device only: a team moving from its
        folder to the server). What the server holds already is left as it is; running it
        again copies only what is new. Different envelopes under one number are counted, never
        replaced (the folder's copy stays where it is)."""
        from app.crypto.envelopes import envelope_scope

        counts = {"added": 0, "held": 0, "different": 0}
        with self._conn() as conn:
            for inc in source.incoming({}, problems=problems):
                row = conn.execute(
                    f"SELECT {SCHEMA}.import_envelope(%s, %s, %s, %s)",
                    (inc.sender, inc.seq, envelope_scope(inc.data), inc.data),
                ).fetchone()
                counts[str(row[0]) if row else "different"] += 1
        return MoveReport(counts["added"], counts["held"], counts["different"])

    # -- waking up ---------------------------------------------------------------------------

    def listen(self) -> None:
        """Start hearing of the team's new envelopes (``wait`` does this on its first call)."""
        if self._listener is not None:
            return
        from psycopg import sql

        conn = self._connect()
        with _sorted_errors(self.address.describe()):
            row = conn.execute(f"SELECT {SCHEMA}.my_team()").fetchone()
            if row is None or row[0] is None:
                conn.close()
                raise DeviceRefused()
            self._channel = f"sc_{row[0]}"
            conn.execute(sql.SQL("LISTEN {}").format(sql.Identifier(self._channel)))
        self._listener = conn

    def wait(self, timeout: float) -> bool:
        """True as soon as another device of the team publishes (since ``listen``), False
        after ``timeout`` seconds without."""
        import psycopg

        self.listen()
        assert self._listener is not None
        deadline = time.monotonic() + timeout
        try:
            while (left := deadline - time.monotonic()) > 0:
                for note in self._listener.notifies(timeout=left, stop_after=1):
                    if note.payload != self.device:
                        return True
        except psycopg.Error:
            with contextlib.suppress(Exception):
                self._listener.close()
            self._listener = None
            raise TransportUnavailable(
                f"{_cap(self.address.describe())} stopped answering. Check the network "
                "connection, then sync again."
            ) from None
        return False


# Each range not held is looked up in the primary key, one range after another: a nested loop
# the planner may not turn into a scan of the whole table (OFFSET 0 keeps the lookup a
# subquery run once per range, whatever the planner guesses of the ranges' sizes).
INCOMING_SQL = (
    "SELECT e.sender, e.seq, e.data FROM ("
    "  SELECT * FROM unnest(%(senders)s::text[], %(lows)s::bigint[], %(highs)s::bigint[])"
    "    AS w(sender, lo, hi)"
    "  UNION ALL"
    f"  SELECT d, 0, {LAST} FROM {SCHEMA}.team_devices() AS d"
    "    WHERE d <> ALL(%(held)s::text[])"
    ") AS w CROSS JOIN LATERAL ("
    f"  SELECT e.sender, e.seq, e.data FROM {SCHEMA}.envelopes e"
    "    WHERE e.sender = w.sender AND e.seq BETWEEN w.lo AND w.hi OFFSET 0"
    ") AS e"
)


@dataclass(frozen=True)
class MoveReport:
    """What moving a folder's envelopes to the server did."""

    added: int  # copied to the server
    held: int  # the server held the same envelope already
    different: int  # the server holds a different envelope under that number: not copied


def missing_ranges(have: Mapping[str, Set[int]]) -> tuple[list[str], list[int], list[int]]:
    """For each sender in ``have``, the ranges of numbers not held (inclusive), as three
    columns. A sender held from its first number up to its newest costs one range."""
    senders: list[str] = []
    lows: list[int] = []
    highs: list[int] = []
    for sender in sorted(have):
        held = have[sender]
        start = 0
        if held:
            low, high = min(held), max(held)
            if high - low + 1 == len(held):
                runs: Sequence[tuple[int, int]] = ((low, high),)
            else:
                runs = _runs(sorted(held))
            for first, last in runs:
                if first > start:
                    senders.append(sender)
                    lows.append(start)
                    highs.append(first - 1)
                start = last + 1
        senders.append(sender)
        lows.append(start)
        highs.append(LAST)
    return senders, lows, highs


def _runs(numbers: list[int]) -> list[tuple[int, int]]:
    runs: list[tuple[int, int]] = []
    first = last = numbers[0]
    for n in numbers[1:]:
        if n != last + 1:
            runs.append((first, last))
            first = n
        last = n
    runs.append((first, last))
    return runs


# -- setting the server up ---------------------------------------------------------------------


@dataclass(frozen=True)
class InitReport:
    """What ``init_server`` made, and what was already there."""

    made: tuple[str, ...]
    present: tuple[str, ...]


_GROUPS = (DEVICE_GROUP, COMPACTOR_GROUP, ADMIN_GROUP)

_FUNCTIONS = f"""
CREATE OR REPLACE FUNCTION {SCHEMA}.my_device() RETURNS text
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS
$$ SELECT device FROM {SCHEMA}.devices WHERE login = session_user AND refused_at IS NULL $$;

CREATE OR REPLACE FUNCTION {SCHEMA}.my_team() RETURNS text
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS
$$ SELECT team FROM {SCHEMA}.devices WHERE login = session_user AND refused_at IS NULL $$;

CREATE OR REPLACE FUNCTION {SCHEMA}.my_device_even_refused() RETURNS text
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS
$$ SELECT device FROM {SCHEMA}.devices WHERE login = session_user $$;

CREATE OR REPLACE FUNCTION {SCHEMA}.refused() RETURNS boolean
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS
$$ SELECT EXISTS (SELECT 1 FROM {SCHEMA}.devices
                  WHERE login = session_user AND refused_at IS NOT NULL) $$;

CREATE OR REPLACE FUNCTION {SCHEMA}.team_of(p_device text) RETURNS text
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS
$$ SELECT team FROM {SCHEMA}.devices WHERE device = p_device $$;

CREATE OR REPLACE FUNCTION {SCHEMA}.team_devices() RETURNS SETOF text
LANGUAGE sql STABLE SECURITY DEFINER ROWS 50 SET search_path = pg_catalog, pg_temp AS
$$ SELECT device FROM {SCHEMA}.devices
   WHERE team = (SELECT team FROM {SCHEMA}.devices
                 WHERE login = session_user AND refused_at IS NULL)
   ORDER BY device $$;

CREATE OR REPLACE FUNCTION {SCHEMA}.may_manage(p_team text) RETURNS boolean
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS
$$ SELECT pg_has_role(session_user, (SELECT nspowner FROM pg_namespace
                                     WHERE nspname = '{SCHEMA}'), 'MEMBER')
       OR EXISTS (SELECT 1 FROM {SCHEMA}.devices WHERE login = session_user
                  AND refused_at IS NULL AND admin AND team = p_team) $$;

CREATE OR REPLACE FUNCTION {SCHEMA}.add_device(
    p_team text, p_device text, p_verifier text, p_admin boolean) RETURNS name
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v_login name := '{LOGIN_PREFIX}' || p_device;
BEGIN
    IF p_device !~ '^[a-z0-9][a-z0-9_-]{{0,59}}$' OR p_verifier !~ '^SCRAM-SHA-256[$]' THEN
        RAISE EXCEPTION 'a device id and a SCRAM verifier are needed' USING ERRCODE = '22023';
    END IF;
    IF NOT {SCHEMA}.may_manage(p_team) THEN
        RAISE EXCEPTION 'only the team''s admin adds devices' USING ERRCODE = '42501';
    END IF;
    IF EXISTS (SELECT 1 FROM {SCHEMA}.devices WHERE device = p_device AND team <> p_team) THEN
        RAISE EXCEPTION 'that device is in another team' USING ERRCODE = '42501';
    END IF;
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = v_login) THEN
        IF NOT pg_has_role(v_login, '{DEVICE_GROUP}', 'MEMBER') THEN
            RAISE EXCEPTION 'that role is not a device' USING ERRCODE = '42501';
        END IF;
        EXECUTE format('ALTER ROLE %I WITH LOGIN PASSWORD %L', v_login, p_verifier);
    ELSE
        EXECUTE format('CREATE ROLE %I WITH LOGIN PASSWORD %L IN ROLE {DEVICE_GROUP}',
                       v_login, p_verifier);
    END IF;
    IF p_admin THEN
        EXECUTE format('GRANT {ADMIN_GROUP}, {COMPACTOR_GROUP} TO %I', v_login);
    END IF;
    INSERT INTO {SCHEMA}.devices (device, team, login, admin)
    VALUES (p_device, p_team, v_login, p_admin)
    ON CONFLICT (device) DO UPDATE SET login = EXCLUDED.login, admin = EXCLUDED.admin;
    RETURN v_login;
END $$;

CREATE OR REPLACE FUNCTION {SCHEMA}.refuse_device(p_device text) RETURNS boolean
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v_login name;
BEGIN
    IF NOT {SCHEMA}.may_manage({SCHEMA}.team_of(p_device)) THEN
        RAISE EXCEPTION 'only the team''s admin refuses devices' USING ERRCODE = '42501';
    END IF;
    UPDATE {SCHEMA}.devices SET refused_at = coalesce(refused_at, now())
    WHERE device = p_device RETURNING login INTO v_login;
    IF v_login IS NOT NULL THEN
        EXECUTE format('REVOKE {ADMIN_GROUP}, {COMPACTOR_GROUP} FROM %I', v_login);
    END IF;
    RETURN v_login IS NOT NULL;
END $$;

CREATE OR REPLACE FUNCTION {SCHEMA}.import_envelope(
    p_sender text, p_seq bigint, p_scope text, p_data bytea) RETURNS text
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v_team text := (SELECT team FROM {SCHEMA}.devices
                    WHERE login = session_user AND refused_at IS NULL AND admin);
    v_held bytea;
BEGIN
    IF v_team IS NULL THEN
        RAISE EXCEPTION 'only the team''s admin moves envelopes in' USING ERRCODE = '42501';
    END IF;
    IF p_sender !~ '^[a-z0-9][a-z0-9_-]{{0,59}}$' OR p_seq < 0 THEN
        RAISE EXCEPTION 'a device id and a number are needed' USING ERRCODE = '22023';
    END IF;
    INSERT INTO {SCHEMA}.devices (device, team) VALUES (p_sender, v_team)
    ON CONFLICT (device) DO NOTHING;
    IF {SCHEMA}.team_of(p_sender) <> v_team THEN
        RAISE EXCEPTION 'that device is in another team' USING ERRCODE = '42501';
    END IF;
    INSERT INTO {SCHEMA}.envelopes (team, sender, seq, scope, data)
    VALUES (v_team, p_sender, p_seq, p_scope, p_data) ON CONFLICT (sender, seq) DO NOTHING;
    IF FOUND THEN
        RETURN 'added';
    END IF;
    SELECT data INTO v_held FROM {SCHEMA}.envelopes WHERE sender = p_sender AND seq = p_seq;
    RETURN CASE WHEN v_held = p_data THEN 'held' ELSE 'different' END;
END $$;

CREATE OR REPLACE FUNCTION {SCHEMA}.envelopes_guard() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF {SCHEMA}.refused() THEN
        RAISE EXCEPTION 'this device was removed from the team' USING ERRCODE = '{REFUSED_STATE}';
    END IF;
    RETURN NEW;
END $$;

CREATE OR REPLACE FUNCTION {SCHEMA}.envelopes_notify() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('sc_' || s.team, s.sender)
    FROM (SELECT DISTINCT team, sender FROM added) AS s;
    RETURN NULL;
END $$;
"""

_TABLES = f"""
CREATE TABLE IF NOT EXISTS {SCHEMA}.devices (
    device text PRIMARY KEY,
    team text NOT NULL,
    login name UNIQUE,
    admin boolean NOT NULL DEFAULT false,
    added timestamptz NOT NULL DEFAULT now(),
    refused_at timestamptz
);
CREATE TABLE IF NOT EXISTS {SCHEMA}.envelopes (
    team text NOT NULL,
    sender text NOT NULL,
    seq bigint NOT NULL CHECK (seq >= 0),
    scope text,
    data bytea NOT NULL,
    received timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (sender, seq)
);
CREATE TABLE IF NOT EXISTS {SCHEMA}.orders (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    device text NOT NULL,
    kind text NOT NULL CHECK (kind IN ('order', 'receipt')),
    data bytea NOT NULL,
    posted timestamptz NOT NULL DEFAULT now()
);
"""

_RULES = f"""
ALTER TABLE {SCHEMA}.envelopes ALTER COLUMN team SET DEFAULT {SCHEMA}.my_team();
-- Envelopes are ciphertext: compressing them only costs time.
ALTER TABLE {SCHEMA}.envelopes ALTER COLUMN data SET STORAGE EXTERNAL;
CREATE INDEX IF NOT EXISTS orders_by_device ON {SCHEMA}.orders (device, kind, id);
ALTER TABLE {SCHEMA}.envelopes ENABLE ROW LEVEL SECURITY;
ALTER TABLE {SCHEMA}.orders ENABLE ROW LEVEL SECURITY;
ALTER TABLE {SCHEMA}.devices ENABLE ROW LEVEL SECURITY;

REVOKE ALL ON ALL TABLES IN SCHEMA {SCHEMA} FROM PUBLIC;
REVOKE ALL ON ALL FUNCTIONS IN SCHEMA {SCHEMA} FROM PUBLIC;
GRANT USAGE ON SCHEMA {SCHEMA} TO {DEVICE_GROUP}, {COMPACTOR_GROUP}, {ADMIN_GROUP};
GRANT SELECT, INSERT ON {SCHEMA}.envelopes, {SCHEMA}.orders TO {DEVICE_GROUP};
GRANT SELECT, DELETE ON {SCHEMA}.envelopes TO {COMPACTOR_GROUP};
GRANT SELECT, INSERT ON {SCHEMA}.orders TO {ADMIN_GROUP};
GRANT EXECUTE ON FUNCTION {SCHEMA}.my_device(), {SCHEMA}.my_team(),
    {SCHEMA}.my_device_even_refused(), {SCHEMA}.refused(), {SCHEMA}.team_devices(),
    {SCHEMA}.team_of(text), {SCHEMA}.envelopes_guard(), {SCHEMA}.envelopes_notify()
    TO {DEVICE_GROUP}, {COMPACTOR_GROUP}, {ADMIN_GROUP};
GRANT EXECUTE ON FUNCTION {SCHEMA}.add_device(text, text, text, boolean),
    {SCHEMA}.refuse_device(text), {SCHEMA}.may_manage(text),
    {SCHEMA}.import_envelope(text, bigint, text, bytea) TO {ADMIN_GROUP};

DROP POLICY IF EXISTS device_reads ON {SCHEMA}.envelopes;
CREATE POLICY device_reads ON {SCHEMA}.envelopes FOR SELECT TO {DEVICE_GROUP}
    USING (team = (SELECT {SCHEMA}.my_team()));
DROP POLICY IF EXISTS device_writes ON {SCHEMA}.envelopes;
CREATE POLICY device_writes ON {SCHEMA}.envelopes FOR INSERT TO {DEVICE_GROUP}
    WITH CHECK (sender = {SCHEMA}.my_device() AND team = {SCHEMA}.my_team());
DROP POLICY IF EXISTS compactor_reads ON {SCHEMA}.envelopes;
CREATE POLICY compactor_reads ON {SCHEMA}.envelopes FOR SELECT TO {COMPACTOR_GROUP}
    USING (team = (SELECT {SCHEMA}.my_team()));
DROP POLICY IF EXISTS compactor_deletes ON {SCHEMA}.envelopes;
CREATE POLICY compactor_deletes ON {SCHEMA}.envelopes FOR DELETE TO {COMPACTOR_GROUP}
    USING (team = (SELECT {SCHEMA}.my_team()));

DROP POLICY IF EXISTS own_orders ON {SCHEMA}.orders;
CREATE POLICY own_orders ON {SCHEMA}.orders FOR SELECT TO {DEVICE_GROUP}
    USING (device = (SELECT {SCHEMA}.my_device_even_refused()));
DROP POLICY IF EXISTS own_receipts ON {SCHEMA}.orders;
CREATE POLICY own_receipts ON {SCHEMA}.orders FOR INSERT TO {DEVICE_GROUP}
    WITH CHECK (kind = 'receipt' AND device = {SCHEMA}.my_device_even_refused());
DROP POLICY IF EXISTS team_orders ON {SCHEMA}.orders;
CREATE POLICY team_orders ON {SCHEMA}.orders FOR SELECT TO {ADMIN_GROUP}
    USING ({SCHEMA}.team_of(device) = (SELECT {SCHEMA}.my_team()));
DROP POLICY IF EXISTS admin_orders ON {SCHEMA}.orders;
CREATE POLICY admin_orders ON {SCHEMA}.orders FOR INSERT TO {ADMIN_GROUP}
    WITH CHECK (kind = 'order' AND {SCHEMA}.team_of(device) = {SCHEMA}.my_team());

CREATE OR REPLACE TRIGGER envelopes_guard BEFORE INSERT ON {SCHEMA}.envelopes
    FOR EACH ROW EXECUTE FUNCTION {SCHEMA}.envelopes_guard();
CREATE OR REPLACE TRIGGER envelopes_notify AFTER INSERT ON {SCHEMA}.envelopes
    REFERENCING NEW TABLE AS added FOR EACH STATEMENT
    EXECUTE FUNCTION {SCHEMA}.envelopes_notify();
"""


def _owner_connect(owner_dsn: str) -> psycopg.Connection[Any]:
    import psycopg
    from psycopg.conninfo import conninfo_to_dict

    try:
        params = conninfo_to_dict(owner_dsn)
    except psycopg.ProgrammingError:
        raise BadServerAddress() from None
    host = str(params.get("host") or "localhost")
    port = int(str(params.get("port") or 5432).split(",")[0])
    where = f"the server {host}" if host.startswith("/") else f"the server {host}:{port}"
    try:
        return psycopg.connect(owner_dsn, autocommit=True, connect_timeout=10)
    except psycopg.Error as exc:
        tls = str(params.get("sslmode", "")) in ("verify-ca", "verify-full")
        raise connect_failed(exc, where, host, port, tls) from None


def init_server(owner_dsn: str) -> InitReport:
    """Make (or complete) the schema, the roles and the rules in the DSN's database, as its
    owner; what is there already is left as it is (tables) or brought up to date (functions,
    grants, policies). Raises a SafecaseError with one sentence on failure."""
    import psycopg

    made: list[str] = []
    present: list[str] = []
    with _owner_connect(owner_dsn) as conn:
        try:
            with conn.transaction():
                for group in _GROUPS:
                    there = conn.execute(
                        "SELECT 1 FROM pg_roles WHERE rolname = %s", (group,)
                    ).fetchone()
                    if there:
                        present.append(f"role {group}")
                    else:
                        conn.execute(f"CREATE ROLE {group} NOLOGIN")
                        made.append(f"role {group}")
                there = conn.execute(
                    "SELECT 1 FROM pg_namespace WHERE nspname = %s", (SCHEMA,)
                ).fetchone()
                (made if not there else present).append(f"schema {SCHEMA}")
                conn.execute(f"CREATE SCHEMA IF NOT EXISTS {SCHEMA}")
                for table in ("devices", "envelopes", "orders"):
                    found = conn.execute(
                        "SELECT to_regclass(%s)", (f"{SCHEMA}.{table}",)
                    ).fetchone()
                    (made if found is None or found[0] is None else present).append(
                        f"table {SCHEMA}.{table}"
                    )
                conn.execute(_TABLES)
                conn.execute(_FUNCTIONS)
                conn.execute(_RULES)
                database = conn.execute("SELECT current_database()").fetchone()
                assert database is not None
                db = psycopg.sql.Identifier(str(database[0]))
                conn.execute(
                    psycopg.sql.SQL("GRANT CONNECT ON DATABASE {} TO {}").format(
                        db, psycopg.sql.SQL(", ").join(map(psycopg.sql.Identifier, _GROUPS))
                    )
                )
        except psycopg.Error as exc:
            if getattr(exc, "sqlstate", None) == "42501":
                raise ServerRightsMissing() from None
            known = _query_failed(exc, "the server")
            if known is None:
                raise
            raise known from None
    return InitReport(tuple(made), tuple(present))


def scram_verifier(password: str, login: str, conn: psycopg.Connection[Any]) -> str:
    """The SCRAM-SHA-256 verifier of ``password``, made here by libpq: the server never
    receives the password itself."""
    raw = conn.pgconn.encrypt_password(password.encode(), login.encode(), b"scram-sha-256")
    return raw.decode("ascii")


def create_device_role(
    conn: psycopg.Connection[Any], team: str, device: str, password: str, *, admin: bool = False
) -> str:
    """Make (or give a new password to) ``device``'s login role in ``team``, as the owner or an
    admin's device of that team; returns the login name. ``admin``: the device may also add
    and refuse devices and compact."""
    login = login_for(device)
    with _sorted_errors("the team server"):
        conn.execute(
            f"SELECT {SCHEMA}.add_device(%s, %s, %s, %s)",
            (team, device, scram_verifier(password, login, conn), admin),
        )
    return login


def refuse_device(conn: psycopg.Connection[Any], device: str) -> bool:
    """Refuse ``device`` from now on (the owner or an admin's device of its team)."""
    login_for(device)
    with _sorted_errors("the team server"):
        row = conn.execute(f"SELECT {SCHEMA}.refuse_device(%s)", (device,)).fetchone()
    return bool(row and row[0])


def new_device_password() -> str:
    """A random password for a device's login role (kept in the device's encrypted store)."""
    return secrets.token_urlsafe(32)

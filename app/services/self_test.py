"""The self-test helpdesk staff run when something is wrong: ``safecase --self-test``.

Each check proves one thing an installation needs, without touching anyone's records: the
encrypted store (SQLCipher's version, full-text search, that what it writes is ciphertext),
the keyring backend this operating system's Safecase uses (the ``fail`` and ``null`` backends
are refused; nothing is written to the keyring), the Unicode font embedded in a one-page
PDF, and that the team server's client (psycopg and its libpq) loads. The store check works
on a temporary file keyed with a throw-away key, deleted afterwards. A check never raises:
what went wrong is its one line. The Qt check (the platform plugin) is added by
``app.ui.self_test``, since the core never imports Qt.
"""

from __future__ import annotations

import importlib
import io
import secrets
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from keyring.backend import KeyringBackend
from keyring.backends import fail, null

from app.crypto import connection, device


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str

    def line(self) -> str:
        return f"{'ok  ' if self.ok else 'FAIL'} {self.name}: {self.detail}"


class CheckFailed(Exception):
    """A check's own failure, with the sentence for its line."""


def run_check(name: str, check: Callable[[], str]) -> Check:
    """Run one check: its detail when it passes, one sentence when it does not."""
    try:
        return Check(name, True, check())
    except CheckFailed as exc:
        return Check(name, False, str(exc))
    except Exception as exc:  # the self-test reports, it never stops with a traceback
        return Check(name, False, f"an unexpected problem stopped the check ({type(exc).__name__})")


def store_check() -> str:
    """A temporary store keyed with a throw-away key: versions, FTS5, ciphertext on disk."""
    with tempfile.TemporaryDirectory(prefix="safecase-self-test-") as folder:
        path = Path(folder) / "self-test.safecase"
        key = bytearray(secrets.token_bytes(32))
        conn = connection.connect(path, key, create=True)
        try:
            cipher = conn.execute("PRAGMA cipher_version").fetchone()
            sqlite = conn.execute("SELECT sqlite_version()").fetchone()[0]
            if not cipher or not cipher[0]:
                raise CheckFailed("this SQLite is not SQLCipher, so the store cannot be opened")
            try:
                conn.execute("CREATE VIRTUAL TABLE probe USING fts5(body)")
            except Exception:
                raise CheckFailed(
                    f"SQLCipher {cipher[0]} has no FTS5, so search cannot work"
                ) from None
            conn.execute("INSERT INTO probe(body) VALUES ('self test marker')")
            found = conn.execute("SELECT count(*) FROM probe WHERE probe MATCH 'marker'")
            if found.fetchone()[0] != 1:
                raise CheckFailed("FTS5 did not find the word just written")
        finally:
            conn.close()
            connection.zero(key)
        if path.read_bytes()[:16] == b"SQLite format 3\x00" or b"marker" in path.read_bytes():
            raise CheckFailed("the store was written unencrypted")
        version = str(cipher[0]).split()[0]
        return f"SQLCipher {version} (SQLite {sqlite}), FTS5 present, store encrypted"


def backend_modules() -> tuple[str, ...]:
    """What the pinned backend of this operating system imports (a bundle must carry them)."""
    if sys.platform == "win32":
        return ("keyring.backends.Windows", "win32ctypes.core")
    if sys.platform == "darwin":
        return ("keyring.backends.macOS",)
    return ("keyring.backends.SecretService", "secretstorage", "jeepney")


def keyring_check(factory: Callable[[], KeyringBackend] | None = None) -> str:
    """Which keyring backend holds the device key here; nothing is read or written. A backend
    missing from the installation is told apart from a keyring that does not answer."""
    for name in backend_modules():
        try:
            importlib.import_module(name)
        except ImportError:
            raise CheckFailed(
                f"the keyring backend is missing from this installation ({name}); "
                "reinstall Safecase"
            ) from None
    try:
        backend = (factory or device.pinned_backend)()
    except Exception as exc:
        raise CheckFailed(str(exc) or "no secure keyring answers on this computer") from None
    if isinstance(backend, fail.Keyring):
        raise CheckFailed("the fail backend stores nothing")
    if isinstance(backend, null.Keyring):
        raise CheckFailed("the null backend stores nothing")
    return f"{type(backend).__module__.rsplit('.', 1)[-1]} backend in use"


def pdf_check() -> str:
    """A one-page PDF with text outside WinAnsi: the shipped Unicode font must be embedded."""
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    from app.errors import SafecaseError
    from app.services import pdf_text

    buffer = io.BytesIO()
    page = canvas.Canvas(buffer, pagesize=A4)
    try:
        pdf_text.draw(page, 72, 720, "Zoë Łukasz Ελένη Мария", "Helvetica", 12)
    except SafecaseError as exc:
        raise CheckFailed(str(exc)) from None
    page.showPage()
    page.save()
    data = buffer.getvalue()
    if b"/FontFile2" not in data:
        raise CheckFailed("the Unicode font was not embedded in the PDF")
    return f"Unicode font embedded in a one-page PDF ({len(data):,} bytes)"


def libpq_version(number: int) -> str:
    """libpq's version number as people write it: 180006 is 18.6."""
    return f"{number // 10000}.{number % 10000}"


def server_check() -> str:
    """The team server's client loads: the transport, psycopg and its pool, and libpq (with
    the OpenSSL it connects over); nothing is connected to."""
    try:
        import psycopg
        import psycopg_pool  # noqa: F401
        from psycopg import pq

        from app.sync import server  # noqa: F401
    except ImportError as exc:
        missing = exc.name or "psycopg"
        raise CheckFailed(
            f"the team server's client is missing from this installation ({missing}); "
            "reinstall Safecase"
        ) from None
    return f"psycopg {psycopg.__version__} ({pq.__impl__}) with libpq {libpq_version(pq.version())}"


CORE_CHECKS: tuple[tuple[str, Callable[[], str]], ...] = (
    ("store", store_check),
    ("keyring", keyring_check),
    ("PDF", pdf_check),
    ("server", server_check),
)


def run_core() -> list[Check]:
    return [run_check(name, check) for name, check in CORE_CHECKS]

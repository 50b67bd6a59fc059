"""Reading every page of a store as plaintext, free pages and the write-ahead log included, to
prove that destroyed records left no trace (tests only: the key comes out of the Vault).

The simplest way would be SQLCipher's own decryption through the ``sqlite_dbpage`` virtual
table, which returns each page (free ones too) as stored. The sqlcipher3 build we use does not
compile it in (``ENABLE_DBPAGE_VTAB`` is missing from ``PRAGMA compile_options``), and
``sqlcipher_export`` or the backup API copy live rows only, never free pages or the log. So the
pages are decrypted here exactly as SQLCipher 4 writes them with a raw key:

- the file is a run of 4096-byte pages; each ends with an 80-byte reserve: a 16-byte IV, then
  a 64-byte HMAC-SHA512;
- page 1 starts with the database's 16-byte salt in the clear; the rest of each page up to the
  reserve is AES-256-CBC under the raw data key with the page's IV;
- the HMAC key is PBKDF2-HMAC-SHA512(data key, salt XOR 0x3a, 2 rounds), over the ciphertext,
  the IV and the page number (4 bytes, little-endian);
- the write-ahead log is a 32-byte header, then frames: a 24-byte header and one page each.

Every page's HMAC is checked, so a wrong guess about the format fails loudly instead of
silently finding nothing.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from app.crypto.connection import Connection
from app.services.session import Session

PAGE = 4096
SALT = 16
IV = 16
MAC = 64
RESERVE = IV + MAC
WAL_HEADER = 32
FRAME_HEADER = 24


def dbpage_available(conn: Connection) -> bool:
    """Whether SQLCipher could hand us decrypted pages itself (it cannot in this build)."""
    options = {str(r[0]) for r in conn.execute("PRAGMA compile_options").fetchall()}
    return "ENABLE_DBPAGE_VTAB" in options


def data_key(session: Session) -> bytes:
    """The store's raw data key. Tests only: nothing in the product reads it from outside."""
    return bytes(session.vault._payload.data_key)


@dataclass
class Pages:
    """A store's plaintext pages: the file's, then every frame in its write-ahead log."""

    file_pages: list[bytes]
    wal_pages: list[bytes]

    @property
    def all(self) -> list[bytes]:
        return self.file_pages + self.wal_pages

    def containing(self, needle: bytes) -> int:
        return sum(needle in page for page in self.all)


def _decrypt_page(raw: bytes, number: int, key: bytes, mac_key: bytes) -> bytes:
    start = SALT if number == 1 else 0
    body, iv, mac = raw[start : PAGE - RESERVE], raw[PAGE - RESERVE : PAGE - MAC], raw[PAGE - MAC :]
    expected = hmac.new(mac_key, body + iv + number.to_bytes(4, "little"), hashlib.sha512)
    if not hmac.compare_digest(expected.digest(), mac):
        raise AssertionError(f"page {number} fails its HMAC: the page format is not as assumed")
    decryptor = Cipher(algorithms.AES(key), modes.CBC(iv)).decryptor()
    plain = decryptor.update(body) + decryptor.finalize()
    return raw[:start] + plain


def read_pages(store: Path, key: bytes) -> Pages:
    """Decrypt every page of ``store`` and of its write-ahead log (if there is one)."""
    raw = store.read_bytes()
    assert len(raw) % PAGE == 0 and raw, "the store is not a whole number of pages"
    salt = raw[:SALT]
    mac_key = hashlib.pbkdf2_hmac("sha512", key, bytes(b ^ 0x3A for b in salt), 2, 32)
    pages = [
        _decrypt_page(raw[i : i + PAGE], i // PAGE + 1, key, mac_key)
        for i in range(0, len(raw), PAGE)
    ]
    # Page 1's header after the salt: page size 4096, WAL format, an 80-byte reserve.
    assert pages[0][16:24] == b"\x10\x00\x02\x02\x50\x40\x20\x20", "page 1 did not decrypt"
    wal_pages: list[bytes] = []
    wal = store.with_name(store.name + "-wal")
    if wal.exists():
        log = wal.read_bytes()
        offset = WAL_HEADER
        while offset + FRAME_HEADER + PAGE <= len(log):
            number = int.from_bytes(log[offset : offset + 4], "big")
            frame = log[offset + FRAME_HEADER : offset + FRAME_HEADER + PAGE]
            wal_pages.append(_decrypt_page(frame, number, key, mac_key))
            offset += FRAME_HEADER + PAGE
    return Pages(pages, wal_pages)


def pages_readable(path: Path, key: bytes) -> int:
    """How many pages of a store file, or frames of its write-ahead log, pass their HMAC under
    ``key``: 0 means nothing in the file can be decrypted with it."""
    store = path.with_name(path.name.removesuffix("-wal"))
    salt = store.read_bytes()[:SALT]
    mac_key = hashlib.pbkdf2_hmac("sha512", key, bytes(b ^ 0x3A for b in salt), 2, 32)
    raw = path.read_bytes() if path.exists() else b""
    if path.name.endswith("-wal"):
        step, offsets = (
            FRAME_HEADER + PAGE,
            range(WAL_HEADER, len(raw) - PAGE + 1, FRAME_HEADER + PAGE),
        )
        frames = [
            (int.from_bytes(raw[o : o + 4], "big"), raw[o + FRAME_HEADER : o + step])
            for o in offsets
        ]
    else:
        frames = [(i // PAGE + 1, raw[i : i + PAGE]) for i in range(0, len(raw), PAGE)]
    readable = 0
    for number, page in frames:
        try:
            _decrypt_page(page, number, key, mac_key)
        except AssertionError:
            continue
        readable += 1
    return readable


def needles(sentinel: str) -> list[bytes]:
    """The forms a text can take in the store: as typed, lower-cased (the search index keeps
    words lower-cased), and its last 8 characters (the index keeps a word after the first on
    a page as only what differs from the word before it)."""
    lower = sentinel.lower()
    forms = {sentinel, lower, lower[-8:]}
    return [f.encode("utf-8") for f in sorted(forms)]


def found(pages: Pages, sentinels: Iterable[str]) -> dict[str, int]:
    """Each sentinel that appears anywhere, with the number of pages it appears on."""
    result: dict[str, int] = {}
    for sentinel in sentinels:
        hits = sum(pages.containing(n) for n in needles(sentinel))
        if hits:
            result[sentinel] = hits
    return result

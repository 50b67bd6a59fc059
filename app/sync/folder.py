"""The shared-folder transport: a network share, a OneDrive or SharePoint sync folder, a USB stick.

Layout. The admin chooses a folder (the root); ``prepare()`` makes ``<root>/devices``, and a
root without it counts as unreachable (an unmounted share or a stick not plugged in), so
Safecase never writes into an empty mount point. Each device writes only into its own
subfolder and reads everyone else's::

    <root>/devices/<device id>/<seq, zero-padded to 8 digits>.env
    <root>/devices/0192b3c4-.../00000000.env, 00000001.env, ...

Device ids are lower case letters, digits, ``-`` and ``_`` (a UUID's text form), so two
devices never collide on a case-insensitive disk (Windows, macOS); folder names and
extensions are read without regard to case. A file is never replaced once there; the admin's
compaction deletes the envelopes of purged cases (whose keys no longer exist anywhere).

Orders. ``<root>/orders/<device id>.order`` holds one signed order for that device (the admin's
"destroy your store" to a revoked laptop), written atomically and replaced by a newer one;
``<root>/orders/<device id>.receipt`` the device's signed answer.

Frame. Each file holds one envelope (opaque bytes) in a small frame, 14 bytes before it::

    magic   6 bytes  b"SCENV" then the frame version, 1
    length  4 bytes  big-endian unsigned, the envelope's length in bytes
    crc32   4 bytes  big-endian unsigned, zlib.crc32 of the envelope
    envelope  length bytes, and nothing after it

A file that is shorter or longer than its header says, or whose CRC does not match, is still
being written or copied (or is damaged): it is skipped this time and read again on the next
sync. The frame only tells a whole file from a part; the envelope inside carries its own
signature, which the receiver checks (app/crypto).

Writing. ``publish`` writes the frame to a hidden temporary file in the device's own folder
(``.<seq>.<random>.tmp``: readers skip names that start with a dot or do not end in ``.env``),
fsyncs it, gives it its final name with a hard link (which refuses an existing name; on a disk
without hard links, a rename after checking the name is free, and on Windows a rename, which
refuses an existing name), removes the temporary name and fsyncs the folder. Publishing a
number again with the same envelope is a no-op; with a different one it is refused.

Reading. A sync client may leave copies of a file beside it: ``00000012 (1).env``,
``00000012-LAPTOP-7.env``, ``00000012 - Copy.env``, ``Copy of 00000012.env``, conflicted
copies. Every name in a device folder that is a number, optionally wrapped like those, and
``.env`` counts as a copy of that number. Copies with the same envelope are one envelope;
copies with different envelopes are reported as a conflict and none of them is handed over
(a person decides); an incomplete copy beside a whole one is ignored; a copy the system
refuses to read holds that number back (reported) until it can be read. Hidden files, other
names and other folders are ignored. Files already held (named in ``have``) are never read,
so a sync with nothing new lists the folders and reads no file (nor looks one up); a copy that
turns up after its number was received is therefore not compared. ``status()`` counts each
device's numbers from the names alone.

A PostgreSQL transport offers the same interface with an append-only table keyed by
(sender, seq) holding the envelope bytes; rows are whole by construction, so it needs no frame.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import re
import secrets
import struct
import sys
import zlib
from collections.abc import Iterator, Mapping, Set
from pathlib import Path

from app.sync.transport import (
    EnvelopeNumberTaken,
    Incoming,
    Problem,
    ProblemKind,
    ProblemSink,
    TransportStatus,
    TransportUnavailable,
)

log = logging.getLogger("safecase.sync")

MAGIC = b"SCENV\x01"
HEADER = struct.Struct(">6sII")
SEQ_DIGITS = 8
SUFFIX = ".env"
# Larger files are not envelopes: a stray file is never read whole into memory.
MAX_ENVELOPE = 64 * 1024 * 1024
DEVICES = "devices"
ORDERS = "orders"
ORDER_SUFFIX = ".order"
RECEIPT_SUFFIX = ".receipt"

_DEVICE_ID = re.compile(r"[a-z0-9][a-z0-9_-]{0,63}")
# "00000012.env" and what sync clients make of it: "00000012 (1).env",
# "00000012-LAPTOP-7.env", "00000012 - Copy.env", "Copy of 00000012.env",
# "Copy (2) of 00000012.env", "00000012 (Sam's conflicted copy 2026-01-02).env".
_COPY_NAME = re.compile(
    r"(?:copy (?:\(\d+\) )?of )?(\d+)(?:\D.*)?\.env", re.IGNORECASE | re.DOTALL | re.ASCII
)
# Errors that mean "this disk has no hard links", not "this name is taken".
_NO_LINKS = {errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.ENOSYS, errno.EMLINK, errno.EXDEV}

_EMPTY: frozenset[int] = frozenset()


def frame(envelope: bytes) -> bytes:
    """The envelope as one file's content: header, then the envelope."""
    if len(envelope) > MAX_ENVELOPE:
        raise ValueError("an envelope is larger than a shared-folder file may be")
    return HEADER.pack(MAGIC, len(envelope), zlib.crc32(envelope)) + envelope


def unframe(content: bytes) -> bytes | None:
    """The envelope in a file's content, or None when the file is not whole (yet)."""
    if len(content) < HEADER.size:
        return None
    magic, length, crc = HEADER.unpack_from(content)
    if magic != MAGIC or len(content) != HEADER.size + length:
        return None
    envelope = content[HEADER.size :]
    return envelope if zlib.crc32(envelope) == crc else None


def envelope_name(seq: int) -> str:
    return f"{seq:0{SEQ_DIGITS}d}{SUFFIX}"


def parse_name(name: str) -> int | None:
    """The number a file in a device folder holds a copy of, or None for any other file."""
    stem = name[: -len(SUFFIX)]
    if name[-len(SUFFIX) :] == SUFFIX and stem.isdigit() and stem.isascii():
        return int(stem)  # the common case, without the pattern
    if name.startswith((".", "~")):
        return None
    match = _COPY_NAME.fullmatch(name)
    return int(match.group(1)) if match else None


def check_device_id(device: str) -> None:
    if not _DEVICE_ID.fullmatch(device):
        raise ValueError("a device id is 1 to 64 lower-case letters, digits, '-' or '_'")


def _read_file(path: str) -> bytes:
    """The file's content, or its first bytes past the largest envelope (then not whole)."""
    with open(path, "rb", buffering=0) as handle:
        size = os.fstat(handle.fileno()).st_size
        # One byte more than the size: a file still growing reads as longer than its frame.
        return handle.read(min(size, HEADER.size + MAX_ENVELOPE) + 1)


def _write_new(path: Path, content: bytes) -> None:
    """Write a file that must not exist yet, and fsync it."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    fd = os.open(path, flags, 0o644)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(content)
            handle.flush()
            os.fsync(handle.fileno())
    except BaseException:
        path.unlink(missing_ok=True)
        raise


def _place(tmp: Path, final: Path) -> None:
    """Give ``tmp`` the name ``final``; FileExistsError if that name is taken (never replaced)."""
    if sys.platform == "win32":
        os.rename(tmp, final)  # MoveFileEx without REPLACE_EXISTING refuses a taken name
        return
    try:
        os.link(tmp, final)
    except FileExistsError:
        raise
    except OSError as exc:
        if exc.errno not in _NO_LINKS:
            raise
        # A disk without hard links (FAT on a USB stick, some network shares). Only this device
        # writes into its folder, so checking the name first leaves no one to race with.
        if os.path.lexists(final):
            raise FileExistsError(errno.EEXIST, "taken") from None
        os.rename(tmp, final)


def _fsync_folder(folder: Path) -> None:
    if sys.platform == "win32":
        return
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError as exc:
        # Some network file systems cannot fsync a folder; the file itself was synced.
        if exc.errno not in (errno.EINVAL, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EBADF):
            raise
    finally:
        os.close(fd)


class FolderTransport:
    """Envelopes as numbered files, one subfolder per device, in a folder the admin chose."""

    def __init__(self, root: Path | str) -> None:
        self.root = Path(root)
        self.devices = self.root / DEVICES

    # -- errors ------------------------------------------------------------------------------

    def _unavailable(self) -> TransportUnavailable:
        return TransportUnavailable(
            f"The team's shared folder {self.root} cannot be reached. Check that it is "
            "connected, then sync again."
        )

    def _write_failed(self, exc: OSError) -> TransportUnavailable:
        if exc.errno in (errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC)):
            return TransportUnavailable(
                f"The team's shared folder {self.root} is full. Free some space there, then "
                "sync again; nothing was sent."
            )
        if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
            return TransportUnavailable(
                f"Safecase may not write to the team's shared folder {self.root}. Check its "
                "permissions, then sync again; nothing was sent."
            )
        return self._unavailable()

    def _still_there(self, folder: str) -> None:
        """Raise TransportUnavailable unless the device folder and the root are still there."""
        if not (os.path.isdir(self.devices) and os.path.isdir(folder)):
            raise self._unavailable()

    # -- the interface -----------------------------------------------------------------------

    def prepare(self) -> None:
        """Make ``<root>/devices`` in a folder that exists (when a team is created)."""
        if not self.root.is_dir():
            raise self._unavailable()
        try:
            self.devices.mkdir(exist_ok=True)
        except OSError as exc:
            raise self._write_failed(exc) from None

    def publish(self, sender: str, seq: int, data: bytes) -> None:
        check_device_id(sender)
        if seq < 0:
            raise ValueError("an envelope number is 0 or more")
        content = frame(data)
        if not self.devices.is_dir():
            raise self._unavailable()
        folder = self.devices / sender
        final = folder / envelope_name(seq)
        tmp = folder / f".{envelope_name(seq)}.{secrets.token_hex(6)}.tmp"
        try:
            folder.mkdir(exist_ok=True)
            _write_new(tmp, content)
            try:
                _place(tmp, final)
            finally:
                with contextlib.suppress(OSError):  # a hidden leftover, skipped by readers
                    tmp.unlink(missing_ok=True)
            _fsync_folder(folder)
        except FileExistsError:
            if self._holds(final, data):
                return  # published before (a retry after a crash): nothing to do
            raise EnvelopeNumberTaken() from None
        except OSError as exc:
            raise self._write_failed(exc) from None

    def _holds(self, path: Path, data: bytes) -> bool:
        try:
            return unframe(_read_file(str(path))) == data
        except OSError as exc:
            raise self._write_failed(exc) from None

    def incoming(
        self, have: Mapping[str, Set[int]], *, problems: ProblemSink | None = None
    ) -> Iterator[Incoming]:
        """Every envelope not in ``have``; the folders are listed now, files read as yielded."""
        wanted: dict[tuple[str, int], list[str]] = {}
        for sender, folder, names in self._list(problems):
            held = have.get(sender, _EMPTY)
            for name in names:
                seq = parse_name(name)
                if seq is not None and seq not in held:
                    wanted.setdefault((sender, seq), []).append(os.path.join(folder, name))
        return self._read(sorted(wanted.items()), problems)

    def status(self) -> TransportStatus:
        """Reachable or not, and each device's envelopes counted by their names alone."""
        try:
            listing = self._list(None)
        except TransportUnavailable:
            return TransportStatus(reachable=False)
        published: dict[str, set[int]] = {}
        for sender, _folder, names in listing:
            seqs = published.setdefault(sender, set())
            seqs.update(seq for seq in map(parse_name, names) if seq is not None)
        return TransportStatus(
            reachable=True, published={sender: len(seqs) for sender, seqs in published.items()}
        )

    def compact(self, scopes: Set[str]) -> int:
        """Delete every envelope file (copies too) whose header names one of ``scopes``."""
        from app.crypto.envelopes import envelope_scope

        if not scopes:
            return 0
        removed = 0
        for _sender, folder, names in self._list(None):
            touched = False
            for name in names:
                if parse_name(name) is None:
                    continue
                path = os.path.join(folder, name)
                try:
                    envelope = unframe(_read_file(path))
                except OSError:
                    self._still_there(folder)
                    continue
                if envelope is None or envelope_scope(envelope) not in scopes:
                    continue
                try:
                    os.unlink(path)
                except FileNotFoundError:
                    continue
                except OSError as exc:
                    raise self._write_failed(exc) from None
                removed, touched = removed + 1, True
            if touched:
                _fsync_folder(Path(folder))
        return removed

    def post_order(self, device: str, data: bytes) -> None:
        self._put_order(device, ORDER_SUFFIX, data)

    def order_for(self, device: str) -> bytes | None:
        return self._get_order(device, ORDER_SUFFIX)

    def post_receipt(self, device: str, data: bytes) -> None:
        self._put_order(device, RECEIPT_SUFFIX, data)

    def receipt_for(self, device: str) -> bytes | None:
        return self._get_order(device, RECEIPT_SUFFIX)

    def refuse_device(self, device: str) -> None:
        """A shared folder cannot refuse anyone: receivers ignore a revoked device instead."""
        check_device_id(device)

    def _put_order(self, device: str, suffix: str, data: bytes) -> None:
        check_device_id(device)
        if not self.devices.is_dir():
            raise self._unavailable()
        folder = self.root / ORDERS
        tmp = folder / f".{device}.{secrets.token_hex(6)}.tmp"
        try:
            folder.mkdir(exist_ok=True)
            _write_new(tmp, frame(data))
            os.replace(tmp, folder / f"{device}{suffix}")
            _fsync_folder(folder)
        except OSError as exc:
            with contextlib.suppress(OSError):
                tmp.unlink(missing_ok=True)
            raise self._write_failed(exc) from None

    def _get_order(self, device: str, suffix: str) -> bytes | None:
        check_device_id(device)
        if not self.devices.is_dir():
            raise self._unavailable()
        try:
            content = _read_file(str(self.root / ORDERS / f"{device}{suffix}"))
        except FileNotFoundError:
            return None
        except OSError:
            raise self._unavailable() from None
        return unframe(content)  # None while it is still being copied

    # -- listing and reading -----------------------------------------------------------------

    def _list(self, problems: ProblemSink | None) -> list[tuple[str, str, list[str]]]:
        """(device id, its folder, the names in it) for each device folder, by device id.

        Names only: nothing is read or even looked up (stat) here, so a sync with nothing
        new costs one directory listing per device. A device folder whose name a sync client
        changed in case is read as the same device.
        """
        try:
            with os.scandir(self.devices) as entries:
                folders = sorted((entry.name.lower(), entry.path) for entry in entries)
        except OSError:
            raise self._unavailable() from None
        listing: list[tuple[str, str, list[str]]] = []
        for sender, folder in folders:
            if not _DEVICE_ID.fullmatch(sender):
                continue  # hidden or stray
            try:
                listing.append((sender, folder, os.listdir(folder)))
            except NotADirectoryError:
                continue  # a stray file with a device-like name
            except FileNotFoundError:
                if not os.path.isdir(self.devices):
                    raise self._unavailable() from None
                continue  # gone before it was listed: nothing was read from it
            except OSError:
                if not os.path.isdir(self.devices):
                    raise self._unavailable() from None
                _report(problems, Problem(ProblemKind.UNREADABLE, sender, None))
        return listing

    def _read(
        self, wanted: list[tuple[tuple[str, int], list[str]]], problems: ProblemSink | None
    ) -> Iterator[Incoming]:
        for (sender, seq), paths in wanted:
            copies: dict[bytes, list[str]] = {}
            incomplete: list[str] = []
            unreadable: list[str] = []
            for path in sorted(paths):
                name = os.path.basename(path)
                try:
                    content = _read_file(path)
                except (FileNotFoundError, IsADirectoryError):
                    self._still_there(os.path.dirname(path))
                    continue  # renamed or removed by a sync client since the listing
                except OSError:
                    self._still_there(os.path.dirname(path))
                    unreadable.append(name)
                    continue
                envelope = unframe(content)
                if envelope is None:
                    incomplete.append(name)
                else:
                    copies.setdefault(envelope, []).append(name)
            if unreadable:
                _report(problems, Problem(ProblemKind.UNREADABLE, sender, seq, tuple(unreadable)))
            elif len(copies) > 1:
                names = tuple(sorted(name for group in copies.values() for name in group))
                _report(problems, Problem(ProblemKind.CONFLICT, sender, seq, names))
            elif copies:
                (envelope,) = copies
                yield Incoming(sender, seq, envelope)
            elif incomplete:
                _report(problems, Problem(ProblemKind.INCOMPLETE, sender, seq, tuple(incomplete)))


def _report(problems: ProblemSink | None, problem: Problem) -> None:
    if problem.kind is ProblemKind.INCOMPLETE:
        log.info("%s", problem.sentence)
    else:
        log.warning("%s", problem.sentence)
    if problems is not None:
        problems(problem)

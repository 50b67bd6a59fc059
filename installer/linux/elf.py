"""Just enough of ELF (64-bit, little-endian: x86-64 and arm64 Linux) for the bundle's spec:
the libraries a shared object needs, and the bytes of one exported symbol."""

from __future__ import annotations

import re
import struct
from pathlib import Path

SHT_DYNAMIC, SHT_DYNSYM, DT_NEEDED = 6, 11, 1
Section = tuple[int, int, int, int, int, int, int, int, int, int]


def _sections(blob: bytes, path: Path) -> list[Section]:
    if blob[:4] != b"\x7fELF" or blob[4] != 2 or blob[5] != 1:
        raise ValueError(f"{path} is not a 64-bit little-endian ELF file")
    (offset,) = struct.unpack_from("<Q", blob, 0x28)
    size, count = struct.unpack_from("<HH", blob, 0x3A)
    return [struct.unpack_from("<IIQQQQIIQQ", blob, offset + i * size) for i in range(count)]


def _string(blob: bytes, at: int) -> str:
    return blob[at : blob.index(b"\0", at)].decode()


def needed(path: Path) -> list[str]:
    """The DT_NEEDED names of ``path`` (empty for a file that is not ELF)."""
    blob = path.read_bytes()
    try:
        sections = _sections(blob, path)
    except ValueError:
        return []
    names = []
    for _n, kind, _f, _a, offset, size, link, _i, _al, entsize in sections:
        if kind == SHT_DYNAMIC:
            strings = sections[link][4]
            for at in range(offset, offset + size, entsize):
                tag, value = struct.unpack_from("<qQ", blob, at)
                if tag == DT_NEEDED:
                    names.append(_string(blob, strings + value))
    return names


def with_needed_renamed(path: Path, renames: dict[str, str]) -> bytes:
    """The bytes of ``path`` with DT_NEEDED names changed (each to a name no longer than the
    old one, written over it in the string table, so nothing else in the file moves); the
    version requirements naming those libraries share the string, so they change with it."""
    blob = bytearray(path.read_bytes())
    sections = _sections(bytes(blob), path)
    for _n, kind, _f, _a, offset, size, link, _i, _al, entsize in sections:
        if kind != SHT_DYNAMIC:
            continue
        strings = sections[link][4]
        for at in range(offset, offset + size, entsize):
            tag, value = struct.unpack_from("<qQ", blob, at)
            name = _string(bytes(blob), strings + value) if tag == DT_NEEDED else ""
            if name in renames:
                new = renames[name].encode()
                if len(new) > len(name.encode()):
                    raise ValueError(f"{renames[name]} is longer than {name}")
                start = strings + value
                blob[start : start + len(name) + 1] = new.ljust(len(name) + 1, b"\0")
    return bytes(blob)


def exported_data(path: Path, pattern: str) -> tuple[str, bytes]:
    """The name and bytes of the first dynamic symbol whose name matches ``pattern``."""
    blob = path.read_bytes()
    sections = _sections(blob, path)
    for _n, kind, _f, _a, offset, size, link, _i, _al, entsize in sections:
        if kind != SHT_DYNSYM:
            continue
        strings = sections[link][4]
        for at in range(offset, offset + size, entsize):
            (name_at,) = struct.unpack_from("<I", blob, at)
            index, value, length = struct.unpack_from("<HQQ", blob, at + 6)
            name = _string(blob, strings + name_at)
            if re.fullmatch(pattern, name) and 0 < index < len(sections):
                _n2, _k, _f2, address, start, *_rest = sections[index]
                begin = value - address + start
                return name, blob[begin : begin + length]
    raise ValueError(f"{path} exports no symbol matching {pattern}")

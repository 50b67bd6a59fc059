"""Cut Qt's ICU data library down to what Safecase uses (Linux bundles).

PySide6's wheel carries ICU's full data (``libicudata.so.NN``, 32 MB): collation, locale,
time-zone, currency, unit and converter data for every language ICU knows. Qt uses ICU for
sorting (``QCollator``, the file dialog), locale-aware upper and lower case, time-zone names
and text codecs Safecase never asks for. This keeps, for the languages Safecase is used in
and ICU's root (the fallback of every locale):

* collation (root's order, ``ucadata``, and the tailorings of the kept languages: Welsh
  sorts "ch" after "c"), the locale, time-zone-name and calendar data;
* every ICU table that is not per-language and not a converter: likely subtags, plurals,
  time zones (``zoneinfo64``, ``metaZones``), normalisation, the converter alias table;

and drops the other languages, the legacy character-set converters (``*.cnv``: UTF-8,
UTF-16 and Latin-1 are built into ICU's code), break iteration with its dictionaries (Qt
finds word and line breaks itself), display names of languages, regions, currencies and
units (Qt has its own), number spelling, transliteration, StringPrep profiles, character
names and the spoof-detection table.

ICU finds its data through one exported symbol (``icudtNN_dat``) in that library, so the
cut-down data is packed back into a library with the same name and symbol, as ICU's own
``genccode``/``pkgdata`` do. Needs ``icupkg`` (Debian's ``icu-devtools``; any ICU version
reads and writes the package format) and a C compiler.

``python installer/linux/icu_data.py LIBICUDATA OUTPUT_FOLDER [LANGUAGE ...]`` writes the new
library into the folder and prints its path; the spec calls :func:`cut_down` at bundle time.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterable
from pathlib import Path

from elf import exported_data

# Item names in the package look like "coll/cy.res" or "en_GB.res"; a locale is a language
# code with optional script, region and variant parts.
LOCALE_ITEM = re.compile(r"^(?:[a-z]+/)?([a-z]{2,3})(?:_[A-Za-z0-9]*)*\.res$")
# Per-locale items that are not locales although they look like one.
NOT_LOCALES = {"pool", "root", "res_index", "icuver", "icustd", "units", "plurals", "metadata"}
# Trees and items Qt never reads: display names of currencies, languages, regions and units
# (Qt has its own), number spelling, transliteration, break iteration (Qt finds word and
# line breaks itself), converters, StringPrep, spoof detection and character names.
DROPPED_TREES = ("brkitr/", "curr/", "lang/", "rbnf/", "region/", "translit/", "unit/")
DROPPED_SUFFIXES = (".cnv", ".spp", ".cfu")
DROPPED_ITEMS = {"unames.icu"}


def dropped(item: str, languages: Iterable[str]) -> bool:
    """Whether the package item ``item`` is left out of the cut-down data."""
    if item.startswith(DROPPED_TREES) or item.endswith(DROPPED_SUFFIXES) or item in DROPPED_ITEMS:
        return True
    match = LOCALE_ITEM.match(item)
    if match is None:
        return False
    stem = item.rsplit("/", 1)[-1].removesuffix(".res")
    if stem in NOT_LOCALES:
        return False
    return match.group(1) not in set(languages)


def _tool(name: str) -> str:
    # Debian puts icupkg in /usr/sbin, which is not on an ordinary user's PATH.
    found = shutil.which(name) or shutil.which(name, path="/usr/sbin:/sbin")
    if found is None:
        raise SystemExit(
            f"{name} is needed to cut ICU's data down for the bundle: run "
            "installer/linux/build-deps.sh (as root it installs icu-devtools and gcc)"
        )
    return found


def cut_down(library: Path, folder: Path, languages: Iterable[str]) -> Path:
    """Write a library named like ``library`` into ``folder`` with the cut-down data."""
    keep = sorted(set(languages))
    icupkg, compiler = _tool("icupkg"), _tool("cc")
    symbol, data = exported_data(library, r"icudt\d+_dat")
    folder.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="safecase-icu-") as work_name:
        work = Path(work_name)
        # icupkg wants the file named as the package: icudt73l (l: little-endian, ASCII).
        package = symbol.removesuffix("_dat") + "l"
        (work / "full").mkdir()
        full = work / "full" / f"{package}.dat"
        full.write_bytes(data)
        listed = subprocess.run(
            [icupkg, "-l", str(full)], check=True, capture_output=True, text=True
        ).stdout.split()
        removed = [item for item in listed if dropped(item, keep)]
        (work / "remove.txt").write_text("\n".join(removed) + "\n")
        small = work / f"{package}.dat"
        done = subprocess.run(
            [icupkg, "-r", str(work / "remove.txt"), str(full), str(small)],
            capture_output=True,
            text=True,
        )
        if done.returncode != 0:  # an item kept needs one dropped: the lists above are wrong
            raise SystemExit(f"icupkg refused the cut-down ICU data:\n{done.stderr}")
        source = work / "data.S"
        source.write_text(
            "\t.section .rodata\n"
            f"\t.globl {symbol}\n\t.type {symbol}, @object\n\t.balign 16\n"
            f'{symbol}:\n\t.incbin "{small}"\n\t.size {symbol}, . - {symbol}\n'
            '\t.section .note.GNU-stack,"",@progbits\n'
        )
        out = folder / library.name
        subprocess.run(
            [compiler, "-shared", "-nostdlib", f"-Wl,-soname,{library.name}", "-o", str(out),
             str(source)],
            check=True,
        )  # fmt: skip
    return out


if __name__ == "__main__":
    print(cut_down(Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3:] or ("en", "cy")))

"""Text from the store, ready for a PDF: any script, right-to-left text in reading order.

reportlab's built-in fonts (Helvetica and friends) only have the Western European letters of
WinAnsi; anything else came out as filled squares, which on a subject access pack reads as a
redaction. Text with such characters is set in DejaVu Sans (shipped in ``resources/fonts``
with its licence, embedded and subset by reportlab); everything else keeps Helvetica, which
is several times faster to lay out, so a large pack stays fast. reportlab does not reorder
right-to-left text itself, so each line with Arabic or Hebrew is joined into its contextual
letter forms (arabic-reshaper) and put in visual order (the Unicode bidi algorithm, through
python-bidi) before layout. A line is reordered on its own, so a long right-to-left line that
the PDF wraps onto several lines keeps its words in order within each line but is read
top to bottom as written.

reportlab is imported only when a PDF is built, never at start-up.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from typing import Any
from xml.sax.saxutils import escape

from app import paths
from app.errors import SafecaseError

REGULAR = "SafecaseSans"
BOLD = "SafecaseSans-Bold"
FONT_FILES = {REGULAR: "DejaVuSans.ttf", BOLD: "DejaVuSans-Bold.ttf"}
BASE_FONTS = {"Helvetica": REGULAR, "Helvetica-Bold": BOLD}

# WinAnsi (cp1252): what the built-in fonts can show. Anything outside it needs DejaVu.
_OUTSIDE_WINANSI = re.compile("[^\x00-\x7f\xa0-\xff€‚ƒ„…†‡ˆ‰Š‹ŒŽ‘’“”•–—˜™š›œžŸ]")
# Hebrew, Arabic, Syriac, Thaana, NKo, Samaritan and their presentation forms.
_RIGHT_TO_LEFT = re.compile("[\u0590-\u08ff\ufb1d-\ufdff\ufe70-\ufeff]")


def needs_unicode_font(text: str) -> bool:
    """Whether ``text`` has a character that the built-in PDF fonts cannot show."""
    return _OUTSIDE_WINANSI.search(text) is not None


def has_right_to_left(text: str) -> bool:
    return _RIGHT_TO_LEFT.search(text) is not None


@functools.cache
def _reshape() -> Callable[[str], str]:
    """Arabic letters into their joined forms, keeping the vowel marks (nothing typed is
    dropped), and with no ligature the shipped font lacks (DejaVu has lam-alef, not Allah)."""
    import arabic_reshaper

    reshaper = arabic_reshaper.ArabicReshaper(
        configuration={"delete_harakat": False, "ARABIC LIGATURE ALLAH": False}
    )
    return lambda line: str(reshaper.reshape(line))


def visual(text: str) -> str:
    """``text`` with each right-to-left line shaped and in visual (left-to-right drawing)
    order; text with no right-to-left letters comes back unchanged."""
    if not has_right_to_left(text):
        return text
    from bidi import get_display

    reshape = _reshape()
    return "\n".join(
        str(get_display(reshape(line))) if has_right_to_left(line) else line
        for line in text.split("\n")
    )


@functools.cache
def register_fonts() -> tuple[str, str]:
    """Register the shipped Unicode font with reportlab (once); returns its regular and bold
    names. An installation that lost its fonts is refused in a sentence: Helvetica would
    print the text as filled squares."""
    from reportlab.lib.fonts import addMapping
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    folder = paths.resources_dir() / "fonts"
    if not all((folder / file_name).is_file() for file_name in FONT_FILES.values()):
        raise SafecaseError(
            "Safecase's PDF font is missing from this installation, so text in some "
            "alphabets cannot be printed; reinstall Safecase."
        )
    for name, file_name in FONT_FILES.items():
        pdfmetrics.registerFont(TTFont(name, str(folder / file_name)))
    # <b> inside a run set in the Unicode font picks its bold face.
    for bold, italic, face in ((0, 0, REGULAR), (1, 0, BOLD), (0, 1, REGULAR), (1, 1, BOLD)):
        addMapping(REGULAR, bold, italic, face)
    return REGULAR, BOLD


def font_for(text: str, font: str) -> str:
    """The font to draw ``text`` in: ``font`` itself when it can show every character, else
    the Unicode face of the same weight."""
    if not needs_unicode_font(text):
        return font
    register_fonts()
    return BOLD if font.endswith("Bold") else REGULAR


def markup(text: str, *, bold: bool = False) -> str:
    """``text`` as reportlab paragraph markup: escaped, line breaks kept, right-to-left lines in
    visual order, and in the Unicode font only when it has characters Helvetica lacks."""
    if text.isascii():  # most of a pack: skip the scans below
        return escape(text).replace("\n", "<br/>")
    body = escape(visual(text)).replace("\n", "<br/>")
    if not needs_unicode_font(text):
        return body
    register_fonts()
    return f'<font name="{BOLD if bold else REGULAR}">{body}</font>'


def draw(
    canvas: Any, x: float, y: float, text: str, font: str, size: float, *, right: bool = False
) -> None:
    """Draw one line on a reportlab canvas (its right end at ``x`` when ``right``) in the font
    that can show it, right-to-left text in visual order. The canvas keeps that font."""
    canvas.setFont(font_for(text, font), size)
    (canvas.drawRightString if right else canvas.drawString)(x, y, visual(text))

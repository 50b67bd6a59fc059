"""Text in any script in the PDFs: the SAR pack and the destruction certificate embed a Unicode
font for text Helvetica cannot show (no filled squares that read as redactions), with Arabic
joined and in reading order."""

from __future__ import annotations

import datetime as dt
import io
import unicodedata
from collections.abc import Iterator

import pytest
from pypdf import PdfReader
from reportlab.pdfbase.ttfonts import TTFont

from app import paths
from app.models import cases as case_model
from app.models.records import CaseDetails, NoteKind
from app.models.retention import LogEntry, Rule
from app.services import cases, notes, pdf_text, retention, rights, sar, sar_pdf
from app.services.sar import SarPack
from tests.helpers import MANAGER, StoreCopy, copy_store
from tests.services.casework import TODAY, person, signed_in
from tests.services.sar_world import new_request

NAME = ("ليلى", "حسن")  # Layla Hassan, invented
NOTE = "اتصلت ليلى لتأكيد موعد الغد"  # "Layla called to confirm tomorrow's appointment"
HEBREW = "שלום רב"


@pytest.fixture(scope="module")
def pack(template_store: StoreCopy, tmp_path_factory: pytest.TempPathFactory) -> Iterator[SarPack]:
    """The pack for a client whose name and a note are in Arabic."""
    folder = tmp_path_factory.mktemp("arabic")
    store = StoreCopy(copy_store(template_store.path, folder), template_store.keyring, "")
    with signed_in(store, MANAGER) as s:
        case = cases.create_referral(
            s,
            person(*NAME),
            CaseDetails(referral_date=TODAY - dt.timedelta(days=20), other_services=HEBREW),
        )
        notes.add_note(
            s, case, NoteKind.CALL, NOTE, dt.datetime.now(dt.UTC) - dt.timedelta(hours=3)
        )
        client = case_model.client_id(s.conn, case)
        assert client is not None
    reference = new_request(store, client, TODAY - dt.timedelta(days=2), TODAY)
    with signed_in(store, MANAGER) as s:
        yield sar.preview(s, rights.find_request(s, reference).id)


def _runs(pdf: bytes) -> list[tuple[str, str]]:
    """Each piece of text drawn, as a reader extracts it, with the font it is drawn in."""
    runs: list[tuple[str, str]] = []
    for page in PdfReader(io.BytesIO(pdf)).pages:
        page.extract_text(
            visitor_text=lambda text, _cm, _tm, font, _size: runs.append(
                (text.strip(), str(font.get("/BaseFont", "")) if font else "")
            )
        )
    return [(text, font) for text, font in runs if text]


def _embedded_fonts(pdf: bytes) -> set[str]:
    """The fonts whose glyphs are inside the file (not left to the reader's machine)."""
    found = set()
    for page in PdfReader(io.BytesIO(pdf)).pages:
        for font in page["/Resources"]["/Font"].values():
            font = font.get_object()
            descriptor = font.get("/FontDescriptor")
            if descriptor is not None and "/FontFile2" in descriptor.get_object():
                found.add(str(font["/BaseFont"]))
    return found


@pytest.fixture(scope="module")
def shipped_glyphs() -> set[int]:
    """The code points the shipped font has a glyph for (anything else would be a box)."""
    face = TTFont("check", str(paths.resources_dir() / "fonts" / "DejaVuSans.ttf")).face
    return set(face.charToGlyph)


def _shown_as(runs: list[tuple[str, str]], text: str) -> tuple[str, str]:
    """The run that reads as ``text`` once its joined letter forms are unfolded."""
    return next((raw, font) for raw, font in runs if text in unicodedata.normalize("NFKC", raw))


def test_an_arabic_name_and_note_are_embedded_joined_and_in_reading_order(
    pack: SarPack, shipped_glyphs: set[int]
) -> None:
    pdf = sar_pdf.render(pack, generated_on=TODAY)
    runs = _runs(pdf)
    assert any("DejaVuSans" in name for name in _embedded_fonts(pdf))
    for text in (" ".join(NAME), NOTE, HEBREW):
        # A reader gets the words back in the order they were typed: drawn right to left.
        raw, font = _shown_as(runs, text)
        assert "DejaVuSans" in font, (text, font)  # not Helvetica, which has no such letters
        assert all(ord(c) in shipped_glyphs for c in raw if not c.isspace()), text
    # The Arabic letters are drawn in their joined (contextual) forms, not as isolated ones.
    raw, _ = _shown_as(runs, NOTE)
    assert any("\ufe70" <= c <= "\ufeff" for c in raw)
    # English text stays in Helvetica, the fast built-in font.
    _, font = _shown_as(runs, "Your request for a copy of your information")
    assert font == "/Helvetica-Bold"


def test_visual_order_reverses_a_right_to_left_line_and_leaves_others_alone() -> None:
    assert pdf_text.visual("Zoë – “ok”") == "Zoë – “ok”"
    shown = pdf_text.visual(f"{NOTE}\nsecond line")
    first, second = shown.split("\n")
    assert unicodedata.normalize("NFKC", first)[::-1] == NOTE
    assert second == "second line"
    # Vowel marks are kept: nothing typed is dropped.
    assert "\u064e" in pdf_text.visual("كَتَبَ")


def test_the_certificate_sets_a_service_and_approver_in_any_script(
    shipped_glyphs: set[int],
) -> None:
    entry = LogEntry(
        run_id="run-1",
        reference="SC-2019-000004",
        closed_date=dt.date(2018, 1, 5),
        due_date=dt.date(2025, 1, 5),
        rule=Rule.CLOSURE,
        reason="",
        approved_by=3,
        approved_by_name="مريم",
        approved_at="2025-02-01T10:00:00Z",
        destroyed_by=3,
        destroyed_by_name="مريم",
        destroyed_at="2025-02-01T10:05:00Z",
        counts={"cases": 1},
    )
    pdf = retention.certificate_pdf([entry], "خدمة الأمان", "2025-02-01 10:06 UTC by مريم")
    runs = _runs(pdf)
    assert any("DejaVuSans" in name for name in _embedded_fonts(pdf))
    for text in ("خدمة الأمان", "مريم"):
        raw, font = _shown_as(runs, text)
        assert "DejaVuSans" in font and all(ord(c) in shipped_glyphs for c in raw if c != " ")
    _, font = _shown_as(runs, "Certificate of destruction")
    assert font == "/Helvetica-Bold"

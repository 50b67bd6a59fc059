"""The subject access pack as a print-ready A4 PDF, built in memory with reportlab.

A cover letter on the service's details with the facts the law requires, an index, then each
section with its dates. Redacted text never reaches the PDF: each redacted run is replaced by
a black box labelled with its exemption code. Every page has a confidential footer with the
request's reference and "Page x of y". reportlab is imported here, inside ``render``, so that
starting the app never loads it.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any
from xml.sax.saxutils import escape

from app.models.redaction import code_label
from app.services import pdf_text
from app.services.pdf_text import markup
from app.services.sar import (
    AUTOMATED,
    PURPOSES,
    REDACTION_NOTE,
    RIGHTS,
    PackItem,
    SarPack,
)

_START, _STOP = "\x00", "\x01"
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
_MARK = re.compile(f"{_START}([a-z_, ]+){_STOP}")
SECTION_STYLE = "SarSection"
INDEX_LEADING = 15.0  # points between the index's lines
ENTRY_COLOUR = "#1F3A5F"


def _long_date(day: dt.date) -> str:
    return f"{day.day} {day:%B %Y}"


def item_markup(item: PackItem) -> str:
    """The item's disclosed text as reportlab paragraph markup, each redacted run a black box
    labelled with its code. The redacted characters themselves are never in the markup."""
    # Control characters are replaced one for one, so the spans' offsets still hold.
    clean = _CONTROL.sub(lambda m: "\n" if m.group() == "\r" else " ", item.text)
    safe = PackItem(item.key, item.label, clean, item.spans, item.stale)
    text = safe.disclosed(lambda code: f"{_START}{code}{_STOP}")
    # Each disclosed run is set on its own (any script, right-to-left in reading order).
    parts, done = [], 0
    for mark in _MARK.finditer(text):
        parts += [
            markup(text[done : mark.start()]),
            '<font backColor="#000000" color="#FFFFFF">'
            f"&nbsp;REDACTED: {escape(code_label(mark.group(1)))}&nbsp;</font>",
        ]
        done = mark.end()
    parts.append(markup(text[done:]))
    return "".join(parts)


def render(pack: SarPack, *, generated_on: dt.date, compress: bool = True) -> bytes:
    """The whole pack as PDF bytes (``compress`` False leaves page streams readable, for tests)."""
    import io

    from reportlab.lib import colors
    from reportlab.lib.enums import TA_RIGHT
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
    from reportlab.lib.units import mm
    from reportlab.pdfgen import canvas
    from reportlab.platypus import (
        BaseDocTemplate,
        CondPageBreak,
        Flowable,
        Frame,
        KeepTogether,
        PageBreak,
        PageTemplate,
        Paragraph,
        Spacer,
    )

    reference = pack.request.reference
    head = pack.cover.letterhead
    service = head.name or "Safecase"
    width, height = A4
    margin = 20 * mm

    styles = getSampleStyleSheet()
    body = ParagraphStyle("SarBody", parent=styles["BodyText"], fontSize=10, leading=13.5)
    small = ParagraphStyle("SarSmall", parent=body, fontSize=9, leading=12)
    bullet = ParagraphStyle("SarBullet", parent=body, leftIndent=12, bulletIndent=2)
    right = ParagraphStyle("SarRight", parent=small, alignment=TA_RIGHT)
    title = ParagraphStyle("SarTitle", parent=styles["Title"], fontSize=16, leading=20)
    service_style = ParagraphStyle(
        "SarService", parent=styles["Heading1"], fontSize=18, leading=22, spaceAfter=2
    )
    heading = ParagraphStyle("SarHeading", parent=styles["Heading3"], fontSize=11, spaceBefore=8)
    section = ParagraphStyle(
        SECTION_STYLE,
        parent=styles["Heading1"],
        fontSize=15,
        leading=19,
        spaceBefore=14,
        spaceAfter=2,
    )
    entry_style = ParagraphStyle(
        "SarEntry",
        parent=styles["Heading4"],
        fontSize=10.5,
        spaceBefore=9,
        spaceAfter=3,
        textColor=colors.HexColor(ENTRY_COLOUR),
    )
    field_style = ParagraphStyle("SarField", parent=body, leftIndent=8, spaceAfter=2)
    # An entry's title over its first field: the title line sits out at the margin.
    entry_field_style = ParagraphStyle(
        "SarEntryField", parent=field_style, firstLineIndent=-8, spaceBefore=9
    )

    def para(text: str, style: ParagraphStyle = body) -> Paragraph:
        return Paragraph(text, style)

    def plain(text: str) -> str:
        return markup(text)

    # -- the cover letter -------------------------------------------------------------------------
    story: list[Any] = [para(plain(service), service_style)]
    contact = [line for line in (head.address, head.phone, head.email) if line.strip()]
    if contact:
        story.append(para("<br/>".join(plain(c) for c in contact), small))
    story.append(Spacer(1, 6 * mm))
    if pack.addressed_to:  # only ever the safe address, when the safe-contact rules allow post
        story.append(para("<br/>".join(plain(line) for line in pack.addressed_to)))
    elif pack.by_hand:
        story.append(para("<b>By hand: not to be posted.</b>", small))
    story += [
        para(_long_date(generated_on), right),
        para(f"Our reference: <b>{escape(reference)}</b>", right),
        Spacer(1, 6 * mm),
        para("Your request for a copy of your information", title),
    ]
    request = pack.request
    opening = f"We received your request on {_long_date(request.received_on)}"
    if request.identity_confirmed_on and request.identity_confirmed_on != request.received_on:
        opening += f" and confirmed your identity on {_long_date(request.identity_confirmed_on)}"
    story.append(
        para(
            opening + ". The pages that follow are a copy of the personal information we hold "
            "about you, with the facts the law says we must give you. A machine-readable copy "
            f"of the same information comes with this letter (the file {escape(reference)}.json)."
        )
    )

    def block(name: str, paragraphs: list[Paragraph]) -> None:
        story.append(KeepTogether([para(name, heading), *paragraphs]))

    def bullets(values: tuple[str, ...] | list[str]) -> list[Paragraph]:
        return [Paragraph(plain(v), bullet, bulletText="•") for v in values]

    block("Why we hold your information", [para(plain(PURPOSES))])
    block("What kinds of information we hold", bullets(pack.cover.categories))
    if pack.cover.recipients:
        block(
            "Who we have shared it with",
            [
                *bullets(pack.cover.recipients),
                para("Each disclosure is listed, with its date, in the section for its case."),
            ],
        )
    else:
        block(
            "Who we have shared it with",
            [para("Our records show no sharing of your information outside the service.")],
        )
    block("Where it came from", bullets(pack.cover.sources))
    block("How long we keep it", [para(plain(pack.cover.retention))])
    block("Automated decisions", [para(plain(AUTOMATED))])
    block("Information we have removed", [para(plain(REDACTION_NOTE))])
    block(
        "Your rights",
        [para("You have the right:"), *bullets(list(RIGHTS))],
    )
    ask = "If you have any questions about this response, please contact us"
    if head.email or head.phone:
        ways = " or ".join(plain(w) for w in (head.phone, head.email) if w.strip())
        ask += f" on {ways}"
    story += [
        para(ask + f", quoting our reference {escape(reference)}."),
        Spacer(1, 8 * mm),
        para("Yours sincerely,"),
        Spacer(1, 10 * mm),
        para(plain(service)),
    ]
    if head.dpo.strip():
        story.append(para(f"Our data protection officer: {plain(head.dpo)}", small))
    story.append(PageBreak())

    # -- the index ----------------------------------------------------------------------------
    # Room for one line per section is kept here, and the lines are written into it when the
    # pages are saved, once every section's page is known. reportlab's TableOfContents would
    # need the whole document laid out twice, which was half the time of a large pack.
    # (title, page, bookmark) of each section, as laid out
    sections_found: list[tuple[str, int, str]] = []
    # (page, x, top, width, first line, lines) of each piece of the index's room
    index_room: list[tuple[int, float, float, float, int, int]] = []

    class IndexRoom(Flowable):  # type: ignore[misc]
        def __init__(self, first: int, count: int) -> None:
            super().__init__()
            self.first, self.count = first, count

        def wrap(self, available_width: float, _available_height: float) -> tuple[float, float]:
            self.width = available_width
            return available_width, self.count * INDEX_LEADING

        def split(self, available_width: float, available_height: float) -> list[Flowable]:
            fits = int(available_height // INDEX_LEADING)
            if fits < 1:
                return []
            if fits >= self.count:
                return [self]
            rest = self.count - fits
            return [IndexRoom(self.first, fits), IndexRoom(self.first + fits, rest)]

        def drawOn(self, canv: Any, x: float, y: float, _sW: float = 0) -> None:
            top = y + self.count * INDEX_LEADING
            index_room.append((canv.getPageNumber(), x, top, self.width, self.first, self.count))

    story += [para("Index", title), Spacer(1, 4 * mm)]
    if pack.sections:
        story.append(IndexRoom(0, len(pack.sections)))
    story.append(PageBreak())

    # -- the sections -------------------------------------------------------------------------
    for number, part in enumerate(pack.sections, start=1):
        if number > 1:
            story.append(CondPageBreak(60 * mm))
        title_para = para(markup(part.title), section)
        title_para.safecase_title = part.title  # as typed, for the outline and the index
        story.append(title_para)
        if part.dates:
            story.append(para(f"Dates: {markup(part.dates)}", small))
        for entry in part.entries:
            title_line = markup(entry.heading, bold=True)
            if entry.date:
                title_line += f" &nbsp;&nbsp;<font color='#555555'>{markup(entry.date)}</font>"
            fields = [f"<b>{markup(item.label)}:</b> {item_markup(item)}" for item in entry.items]
            if fields:
                # The title and the first field are one paragraph, so a title never ends a
                # page alone (cheaper than KeepTogether, which lays its contents out twice).
                heading_line = (
                    f'<font name="Helvetica-Bold" size="10.5" color="{ENTRY_COLOUR}">'
                    f"{title_line}</font>"
                )
                story.append(para(f"{heading_line}<br/>{fields[0]}", entry_field_style))
                story += [para(f, field_style) for f in fields[1:]]
            else:
                story.append(para(title_line, entry_style))
    if not pack.sections:
        story.append(para("We hold no personal information about you."))

    footer = f"CONFIDENTIAL · {service} · Response to subject access request {reference}"

    class NumberedCanvas(canvas.Canvas):  # type: ignore[misc]
        """Holds each page until the end, so every footer can say "Page x of y"."""

        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self._pages: list[dict[str, Any]] = []

        def showPage(self) -> None:
            self._pages.append(dict(self.__dict__))
            self._startPage()

        def write_index(self) -> None:
            """Fill this page's share of the index: each section's title and its page."""
            for page, x, top, room_width, first, count in index_room:
                if page != self._pageNumber:
                    continue
                for line, (name, on_page, key) in enumerate(sections_found[first : first + count]):
                    baseline = top - (line + 1) * INDEX_LEADING + 3
                    number = str(on_page)
                    font = pdf_text.font_for(name, "Helvetica")
                    self.setFillColor(colors.black)
                    room = room_width - self.stringWidth(number, "Helvetica", 10.5) - 12
                    while len(name) > 1 and self.stringWidth(name, font, 10.5) > room:
                        name = name[:-2] + "…"
                    pdf_text.draw(self, x, baseline, name, font, 10.5)
                    self.setFont("Helvetica", 10.5)
                    self.drawRightString(x + room_width, baseline, number)
                    self.linkRect(
                        "",
                        key,
                        (x, baseline - 3, x + room_width, baseline - 3 + INDEX_LEADING),
                        relative=0,
                        thickness=0,
                        # Named here: the canvas's own counter goes back with each page's state.
                        name=f"SarIndex{first + line}",
                    )

        def save(self) -> None:
            total = len(self._pages)
            for state in self._pages:
                self.__dict__.update(state)
                self.write_index()
                self.setFillColor(colors.HexColor("#333333"))
                pdf_text.draw(self, margin, 12 * mm, footer, "Helvetica", 8)
                self.setFont("Helvetica", 8)
                self.drawRightString(width - margin, 12 * mm, f"Page {self._pageNumber} of {total}")
                self.setStrokeColor(colors.HexColor("#999999"))
                self.line(margin, 15 * mm, width - margin, 15 * mm)
                super().showPage()
            super().save()

    class Document(BaseDocTemplate):  # type: ignore[misc]
        def afterFlowable(self, flowable: Any) -> None:
            if isinstance(flowable, Paragraph) and flowable.style.name == SECTION_STYLE:
                text = getattr(flowable, "safecase_title", None) or flowable.getPlainText()
                key = f"section-{self.seq.nextf('sarsection')}"
                self.canv.bookmarkPage(key)
                self.canv.addOutlineEntry(text, key, level=0, closed=True)
                sections_found.append((text, self.page, key))

    buffer = io.BytesIO()
    doc = Document(
        buffer,
        pagesize=A4,
        leftMargin=margin,
        rightMargin=margin,
        topMargin=margin,
        bottomMargin=22 * mm,
        title=f"Subject access response {reference}",
        author=service,
        subject="Confidential",
        creator="Safecase",
        pageCompression=1 if compress else 0,
    )
    frame = Frame(margin, 22 * mm, width - 2 * margin, height - margin - 22 * mm, id="body")
    doc.addPageTemplates([PageTemplate(id="page", frames=[frame])])
    doc.build(story, canvasmaker=NumberedCanvas)
    return buffer.getvalue()

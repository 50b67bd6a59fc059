"""The MARAC referral form as an A4 PDF, built in memory with reportlab.

The sections and their values come from :func:`app.services.marac_form.sections` (which
already leaves out a confidential address and the code word); text in any script is set in
the shipped Unicode font and right-to-left lines in reading order (app/services/pdf_text.py,
as the subject access pack does). Every page carries a confidential footer with the case
reference and "Page x of y". reportlab is imported here, inside ``render``.
"""

from __future__ import annotations

import io
from typing import Any

from app.services import pdf_text
from app.services.marac_form import MaracForm, sections
from app.services.pdf_text import markup

TITLE = "MARAC referral form"


def render(form: MaracForm, *, compress: bool = True) -> bytes:
    """The form as PDF bytes (``compress`` False leaves page streams readable, for tests)."""
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
    from reportlab.lib.units import mm
    from reportlab.pdfgen import canvas
    from reportlab.platypus import (
        KeepTogether,
        Paragraph,
        SimpleDocTemplate,
        Spacer,
        Table,
        TableStyle,
    )

    width, _height = A4
    margin = 18 * mm
    styles = getSampleStyleSheet()
    body = ParagraphStyle("MaracBody", parent=styles["BodyText"], fontSize=9.5, leading=12)
    label = ParagraphStyle("MaracLabel", parent=body, textColor=colors.HexColor("#333333"))
    title = ParagraphStyle("MaracTitle", parent=styles["Title"], fontSize=16, leading=20)
    heading = ParagraphStyle(
        "MaracHeading",
        parent=styles["Heading3"],
        fontSize=11,
        spaceBefore=8,
        spaceAfter=3,
        textColor=colors.HexColor("#1F3A5F"),
    )
    story: list[Any] = [
        Paragraph(TITLE, title),
        Paragraph(
            "CONFIDENTIAL: for the MARAC coordinator and the agencies at the meeting only. "
            "Do not pass this form to the person at risk's household.",
            body,
        ),
        Spacer(1, 4 * mm),
    ]
    column = (width - 2 * margin) * 0.36
    grid = TableStyle(
        [
            ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ("GRID", (0, 0), (-1, -1), 0.4, colors.HexColor("#9AA5B1")),
            ("BACKGROUND", (0, 0), (0, -1), colors.HexColor("#EEF2F6")),
            ("TOPPADDING", (0, 0), (-1, -1), 2),
            ("BOTTOMPADDING", (0, 0), (-1, -1), 3),
        ]
    )
    for name, rows in sections(form):
        cells = [
            [Paragraph(markup(field, bold=True), label), Paragraph(markup(value), body)]
            for field, value in rows
        ]
        table = Table(cells, colWidths=[column, width - 2 * margin - column])
        table.setStyle(grid)
        # A section's heading never ends a page alone.
        story.append(KeepTogether([Paragraph(markup(name, bold=True), heading), table]))

    footer = f"CONFIDENTIAL · MARAC referral · {form.reference} · {form.referred_on}"

    class NumberedCanvas(canvas.Canvas):  # type: ignore[misc]
        """Holds each page until the end, so every footer can say "Page x of y"."""

        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self._pages: list[dict[str, Any]] = []

        def showPage(self) -> None:
            self._pages.append(dict(self.__dict__))
            self._startPage()

        def save(self) -> None:
            total = len(self._pages)
            for state in self._pages:
                self.__dict__.update(state)
                self.setFillColor(colors.HexColor("#333333"))
                pdf_text.draw(self, margin, 10 * mm, footer, "Helvetica", 8)
                self.setFont("Helvetica", 8)
                self.drawRightString(width - margin, 10 * mm, f"Page {self._pageNumber} of {total}")
                super().showPage()
            super().save()

    buffer = io.BytesIO()
    doc = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=margin,
        rightMargin=margin,
        topMargin=margin,
        bottomMargin=18 * mm,
        title=f"{TITLE} {form.reference}",
        author=form.referring_service or "Safecase",
        subject="Confidential",
        creator="Safecase",
        pageCompression=1 if compress else 0,
    )
    doc.build(story, canvasmaker=NumberedCanvas)
    return buffer.getvalue()

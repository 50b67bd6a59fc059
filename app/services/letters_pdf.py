"""A letter as an A4 PDF, built in memory with reportlab on the service's letterhead.

Any script prints (the SAR pack's Unicode font and right-to-left helpers in ``pdf_text``).
reportlab is imported here, inside ``render``, so that starting the app never loads it.
"""

from __future__ import annotations

from typing import Any

from app.services.letters import Letter
from app.services.pdf_text import markup


def render(letter: Letter, *, compress: bool = True) -> bytes:
    import io

    from reportlab.lib.enums import TA_RIGHT
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
    from reportlab.lib.units import mm
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer

    styles = getSampleStyleSheet()
    body = ParagraphStyle("LetterBody", parent=styles["BodyText"], fontSize=11, leading=15)
    small = ParagraphStyle("LetterSmall", parent=body, fontSize=9, leading=12)
    right = ParagraphStyle("LetterRight", parent=small, alignment=TA_RIGHT)
    service_style = ParagraphStyle(
        "LetterService", parent=styles["Heading1"], fontSize=16, leading=20, spaceAfter=2
    )
    heading = ParagraphStyle("LetterHeading", parent=body, spaceBefore=6, spaceAfter=6)

    name, *contact = letter.service
    story: list[Any] = [Paragraph(markup(name), service_style)]
    if contact:
        story.append(Paragraph("<br/>".join(markup(c) for c in contact), small))
    story.append(Spacer(1, 10 * mm))
    if letter.address:
        story.append(Paragraph("<br/>".join(markup(line) for line in letter.address), body))
    story += [
        Spacer(1, 8 * mm),
        Paragraph(markup(letter.date), right),
        Paragraph(f"Our reference: {markup(letter.reference)}", right),
        Spacer(1, 6 * mm),
    ]
    if letter.subject.strip():
        story.append(Paragraph(f"<b>{markup(letter.subject, bold=True)}</b>", heading))
    for part in letter.body.split("\n\n"):
        story.append(Paragraph(markup(part.strip("\n")), body))
        story.append(Spacer(1, 2 * mm))

    def footer(canvas: Any, _doc: Any) -> None:
        from app.services import pdf_text

        canvas.saveState()
        line = f"PRIVATE AND CONFIDENTIAL · {name}"
        pdf_text.draw(canvas, 20 * mm, 12 * mm, line, "Helvetica", 8)
        canvas.restoreState()

    buffer = io.BytesIO()
    doc = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=22 * mm,
        rightMargin=22 * mm,
        topMargin=20 * mm,
        bottomMargin=22 * mm,
        title=letter.subject or "Letter",
        author=name,
        subject="Confidential",
        creator="Safecase",
        pageCompression=1 if compress else 0,
    )
    doc.build(story, onFirstPage=footer, onLaterPages=footer)
    return buffer.getvalue()

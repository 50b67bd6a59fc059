"""The figures as an A4 PDF with charts, and each table's chart, drawn by reportlab's own
chart library (reportlab.graphics.charts). The desktop app shows the same chart on screen,
rendered from its PDF. A chart draws the published counts only: a count shown as "fewer than
5" or "withheld" has no bar. reportlab is imported inside these functions, never at start-up.
"""

from __future__ import annotations

import io
from typing import Any

from app.services import pdf_text
from app.services.figures import Figures, FigureTable
from app.services.pdf_text import markup
from app.services.suppression import Mark

CHART_WIDTH = 460.0
BAR_SPACE = 16.0  # points of height per row of the chart
COLOURS = ("#1F3A5F", "#C0504D", "#9BBB59", "#8064A2", "#4BACC6", "#F79646", "#7F7F7F")
CHART_NOTE = "Counts shown as 'fewer than 5' or 'withheld' have no bar."


def charted_rows(table: FigureTable) -> list[int]:
    """The rows a chart shows: those with a count shown above zero."""
    return [
        i
        for i, cells in enumerate(table.published.cells)
        if any(c.mark is Mark.SHOWN and c.count for c in cells)
    ]


def chart(table: FigureTable, width: float = CHART_WIDTH) -> Any | None:
    """A horizontal bar chart of the table's shown counts (a Drawing), stacked by column
    when the table has several; None when no count is shown."""
    from reportlab.graphics.charts.barcharts import HorizontalBarChart
    from reportlab.graphics.charts.legends import Legend
    from reportlab.graphics.shapes import Drawing
    from reportlab.lib import colors

    rows = charted_rows(table)
    if table.published.withheld or not rows:
        return None
    pdf_text.register_fonts()
    font = pdf_text.REGULAR
    columns = len(table.columns)
    legend_height = 14.0 * ((columns + 1) // 2) if columns > 1 else 0.0
    height = BAR_SPACE * len(rows) + 30 + legend_height
    drawing = Drawing(width, height)
    bars = HorizontalBarChart()
    label_width = min(200.0, width * 0.42)
    bars.x, bars.y = label_width, 20
    bars.width, bars.height = width - label_width - 10, BAR_SPACE * len(rows)
    bars.data = [
        [
            float(cell.count or 0) if cell.mark is Mark.SHOWN else 0.0
            for cell in (table.published.cells[i][j] for i in rows)
        ]
        for j in range(columns)
    ]
    # Read from the top down in the table's order.
    bars.data = [list(reversed(series)) for series in bars.data]
    bars.categoryAxis.categoryNames = [_short(table.rows[i]) for i in reversed(rows)]
    bars.categoryAxis.labels.fontName = font
    bars.categoryAxis.labels.fontSize = 7
    bars.categoryAxis.labels.boxAnchor = "e"
    bars.categoryAxis.labels.dx = -4
    bars.valueAxis.valueMin = 0
    bars.valueAxis.labels.fontName = font
    bars.valueAxis.labels.fontSize = 7
    bars.valueAxis.forceZero = 1
    bars.barLabelFormat = "%d"
    bars.barLabels.fontName = font
    bars.barLabels.fontSize = 6
    bars.barLabels.boxAnchor = "w"
    bars.barLabels.dx = 2
    if columns > 1:
        bars.categoryAxis.style = "stacked"
        bars.barLabelFormat = None
    for j in range(columns):
        bars.bars[j].fillColor = colors.HexColor(COLOURS[j % len(COLOURS)])
        bars.bars[j].strokeColor = None
    drawing.add(bars)
    if columns > 1:
        # Above the bars, two to a line.
        legend = Legend()
        legend.x, legend.y = label_width, height - 2
        legend.alignment = "right"
        legend.columnMaximum = (columns + 1) // 2
        legend.fontName = font
        legend.fontSize = 7
        legend.boxAnchor = "nw"
        legend.dx = legend.dy = 7
        legend.deltax = 10
        legend.colorNamePairs = [
            (colors.HexColor(COLOURS[j % len(COLOURS)]), _short(table.columns[j]))
            for j in range(columns)
        ]
        drawing.add(legend)
    return drawing


def _short(text: str, most: int = 34) -> str:
    return text if len(text) <= most else text[: most - 1] + "…"


def chart_pdf(table: FigureTable, width: float = CHART_WIDTH) -> bytes | None:
    """The table's chart alone as a one-page PDF (the screen renders it), or None."""
    from reportlab.graphics import renderPDF

    drawing = chart(table, width)
    if drawing is None:
        return None
    return bytes(renderPDF.drawToString(drawing))


def render(figures: Figures, *, compress: bool = True) -> bytes:
    """All the tables with their charts, and the method on the first page."""
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
    from reportlab.lib.units import mm
    from reportlab.platypus import (
        KeepTogether,
        Paragraph,
        SimpleDocTemplate,
        Spacer,
        Table,
        TableStyle,
    )

    regular, bold = pdf_text.register_fonts()
    styles = getSampleStyleSheet()
    body = ParagraphStyle("FiguresBody", parent=styles["BodyText"], fontName=regular, fontSize=9)
    cell = ParagraphStyle("FiguresCell", parent=body, fontSize=8, leading=10)
    title = ParagraphStyle("FiguresTitle", parent=styles["Title"], fontName=bold)
    heading = ParagraphStyle("FiguresHeading", parent=styles["Heading2"], fontName=bold)
    period = figures.period
    story: list[Any] = [
        Paragraph(markup(f"{figures.service}: figures for {period.label}"), title),
        Paragraph(
            markup(
                f"Period {period.start:%d %B %Y} to {period.end:%d %B %Y}. "
                f"Produced on {figures.produced_on:%d %B %Y}."
            ),
            body,
        ),
        Paragraph(markup("Method: " + figures.method), body),
        Spacer(1, 4 * mm),
    ]
    for table in figures.tables:
        parts: list[Any] = [Paragraph(markup(table.title), heading)]
        if table.published.withheld:
            parts.append(
                Paragraph(
                    markup("Not published: too few to show without identifying anyone."), body
                )
            )
            story.append(KeepTogether(parts))
            continue
        texts = table.texts()
        data = [[Paragraph(markup(text), cell) for text in row] for row in texts]
        grid = Table(data, repeatRows=1, hAlign="LEFT")
        grid.setStyle(
            TableStyle(
                [
                    ("GRID", (0, 0), (-1, -1), 0.25, colors.grey),
                    ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#E8EDF3")),
                    ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ]
            )
        )
        parts.append(grid)
        if table.key == "first_contact":
            parts.append(
                Paragraph(
                    markup(f"Median days from referral to first contact: {figures.median_text}."),
                    body,
                )
            )
        drawing = chart(table)
        if drawing is not None:
            parts += [Spacer(1, 2 * mm), drawing, Paragraph(markup(CHART_NOTE), cell)]
        story.append(KeepTogether(parts))
        story.append(Spacer(1, 4 * mm))

    def footer(canvas: Any, doc: Any) -> None:
        canvas.saveState()
        pdf_text.draw(
            canvas,
            18 * mm,
            10 * mm,
            f"{figures.service}: figures for {period.label}. Page {doc.page}",
            regular,
            8,
        )
        canvas.restoreState()

    buffer = io.BytesIO()
    document = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=18 * mm,
        rightMargin=18 * mm,
        topMargin=16 * mm,
        bottomMargin=18 * mm,
        title=f"Figures for {period.label}",
        author=figures.service,
        pageCompression=1 if compress else 0,
        invariant=1,
    )
    document.build(story, onFirstPage=footer, onLaterPages=footer)
    return buffer.getvalue()

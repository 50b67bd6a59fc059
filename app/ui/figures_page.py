"""Figures (managers and the DPO): a year's or a quarter's figures for commissioners and
trustees, each table with its chart, exported as a PDF with charts and a CSV.

Every count on the page comes from the service already suppressed: 1 to 4 shows as "fewer
than 5", and counts that would give a suppressed one away are withheld. The chart is
reportlab's own (the one the PDF carries), drawn on screen from its PDF by pypdfium2. The
export goes to a folder the user picks, after the warning that the files are not encrypted;
the folder is never remembered.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QImage, QPixmap, QStandardItem, QStandardItemModel
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QVBoxLayout,
    QWidget,
)

from app.services import figures as service
from app.services.figures import Figures, FigureTable, Period
from app.services.session import Session
from app.ui import printing
from app.ui.errors import error_sentence
from app.ui.forms import ChoiceBox, button, spin_box
from app.ui.i18n import translate
from app.ui.store_calls import StoreCalls
from app.ui.widgets import fit_columns, heading, message_label, paragraph, set_message, table_view

CHART_POINTS = 330.0  # the chart's width on screen, in points (the PDF's is wider)
CHART_PIXELS = 430


def chart_image(table: FigureTable) -> QImage | None:
    """The table's chart as an image (None when it has no count to draw)."""
    import pypdfium2

    from app.services import figures_pdf

    pdf = figures_pdf.chart_pdf(table, CHART_POINTS)
    if pdf is None:
        return None
    document = pypdfium2.PdfDocument(pdf)
    try:
        page = document[0]
        bitmap = page.render(scale=CHART_PIXELS / CHART_POINTS, rev_byteorder=True)
        image = QImage(
            bitmap.buffer, bitmap.width, bitmap.height, bitmap.stride, QImage.Format.Format_RGB888
        ).copy()
        bitmap.close()
        page.close()
        return image
    finally:
        document.close()


class FiguresPage(QWidget):
    def __init__(
        self,
        calls: StoreCalls,
        parent: QWidget | None = None,
        *,
        lock_action: QAction | None = None,
    ) -> None:
        super().__init__(parent)
        self.calls = calls
        self.lock_action = lock_action
        self.figures: Figures | None = None
        # Where the files go: a folder dialog, replaceable in tests. Never remembered by Qt.
        self.choose_folder: Callable[[], str] = self._ask_folder
        self.warning_box: QMessageBox | None = None
        t = translate
        self.setAccessibleName(t("FiguresPage", "Figures"))

        self.kind_field = ChoiceBox(t("FiguresPage", "Year or quarter"))
        self.kind_field.add_choice(t("FiguresPage", "Year"), "year")
        self.kind_field.add_choice(t("FiguresPage", "Quarter"), "quarter")
        today = calls.today()
        self.year_field = spin_box(t("FiguresPage", "Year"), 2000, 2100, today.year)
        self.quarter_field = ChoiceBox(t("FiguresPage", "Quarter"))
        for number in range(1, 5):
            self.quarter_field.add_choice(
                t("FiguresPage", "Q{n}: {months}").format(
                    n=number,
                    months=(
                        t("FiguresPage", "Jan to Mar"),
                        t("FiguresPage", "Apr to Jun"),
                        t("FiguresPage", "Jul to Sep"),
                        t("FiguresPage", "Oct to Dec"),
                    )[number - 1],
                ),
                number,
            )
        self.quarter_field.setCurrentIndex((today.month - 1) // 3)
        self.show_button = button(t("FiguresPage", "S&how"))
        self.export_button = button(t("FiguresPage", "&Export PDF and CSV…"))
        self.export_button.setEnabled(False)

        self.tables_list = ChoiceBox(t("FiguresPage", "Table"))
        self.tables_list.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
        )
        self.tables_list.setMinimumContentsLength(16)
        self.model = QStandardItemModel(self)
        self.table = table_view(t("FiguresPage", "Counts"), self.model)
        self.table.verticalHeader().setVisible(False)
        self.table.setMinimumHeight(220)
        self.chart_label = QLabel()
        self.chart_label.setAccessibleName(t("FiguresPage", "Chart"))
        self.chart_label.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
        self.median_label = message_label(t("FiguresPage", "Median"), "status")
        self.period_label = QLabel()
        self.period_label.setWordWrap(True)
        self.period_label.setAccessibleName(t("FiguresPage", "Period shown"))
        self.status_label = message_label(t("FiguresPage", "Status"), "status")
        self.problem_label = message_label(t("FiguresPage", "Problem"))

        kind_label = QLabel(t("FiguresPage", "&Period:"))
        kind_label.setBuddy(self.kind_field)
        year_label = QLabel(t("FiguresPage", "&Year:"))
        year_label.setBuddy(self.year_field)
        quarter_label = QLabel(t("FiguresPage", "&Quarter:"))
        quarter_label.setBuddy(self.quarter_field)
        choose_row = QHBoxLayout()
        for widget in (
            kind_label,
            self.kind_field,
            year_label,
            self.year_field,
            quarter_label,
            self.quarter_field,
            self.show_button,
        ):
            choose_row.addWidget(widget)
        choose_row.addStretch(1)

        tables_label = QLabel(t("FiguresPage", "&Table:"))
        tables_label.setBuddy(self.tables_list)
        table_row = QHBoxLayout()
        table_row.addWidget(tables_label)
        table_row.addWidget(self.tables_list, 1)
        period_row = QHBoxLayout()
        period_row.addWidget(self.period_label, 1)
        period_row.addWidget(self.export_button)
        # The chart first, then the counts (a table of sources is long).
        body = QVBoxLayout()
        body.addLayout(period_row)
        body.addWidget(self.chart_label)
        body.addWidget(self.median_label)
        body.addWidget(self.table, 1)

        layout = QVBoxLayout(self)
        layout.addWidget(heading(t("FiguresPage", "Figures for commissioners and trustees")))
        layout.addWidget(
            paragraph(
                t(
                    "FiguresPage",
                    "Counts over the whole service, naming nobody. Counts from 1 to 4 show as "
                    "'fewer than 5', and other counts are withheld where they would give one "
                    "away.",
                )
            )
        )
        layout.addLayout(choose_row)
        layout.addLayout(table_row)
        layout.addLayout(body, 1)
        layout.addWidget(self.status_label)
        layout.addWidget(self.problem_label)

        self.kind_field.currentIndexChanged.connect(self._kind_changed)
        self.show_button.clicked.connect(self.refresh)
        self.export_button.clicked.connect(self.export)
        self.tables_list.currentIndexChanged.connect(self._show_table)
        self._kind_changed()

    # -- the period ---------------------------------------------------------------------------

    def period(self) -> Period:
        year = self.year_field.value()
        if self.kind_field.value() == "quarter":
            return Period.quarter(year, int(self.quarter_field.value()))
        return Period.year(year)

    def _kind_changed(self, *_args: object) -> None:
        self.quarter_field.setEnabled(self.kind_field.value() == "quarter")

    def start(self) -> None:
        self.refresh()

    def refresh(self) -> None:
        set_message(self.problem_label, None)
        set_message(self.status_label, None)
        period = self.period()
        self.calls.run(
            lambda s: service.figures(s, period),
            self._arrived,
            self._failed,
            receiver=self,
            label=translate("FiguresPage", "Counting…"),
        )

    def _failed(self, error: BaseException) -> None:
        set_message(self.problem_label, error_sentence(error))

    def _arrived(self, figures: Figures) -> None:
        self.figures = figures
        keep = max(0, self.tables_list.currentIndex())
        self.period_label.setText(
            translate("FiguresPage", "Figures for {label}: {start} to {end}").format(
                label=figures.period.label,
                start=f"{figures.period.start:%d %b %Y}",
                end=f"{figures.period.end:%d %b %Y}",
            )
        )
        self.tables_list.blockSignals(True)
        self.tables_list.clear_choices()
        for table in figures.tables:
            self.tables_list.add_choice(translate("FiguresPage", table.title), table.key)
        self.tables_list.blockSignals(False)
        self.tables_list.setCurrentIndex(min(keep, len(figures.tables) - 1))
        self._show_table(self.tables_list.currentIndex())
        self.export_button.setEnabled(True)

    # -- one table ----------------------------------------------------------------------------

    def _show_table(self, row: int) -> None:
        figures = self.figures
        self.model.clear()
        self.chart_label.clear()
        set_message(self.median_label, None)
        if figures is None or not 0 <= row < len(figures.tables):
            return
        table = figures.tables[row]
        t = translate
        if table.published.withheld:
            self.model.setHorizontalHeaderLabels([t("FiguresPage", table.row_heading)])
            self.model.appendRow(
                QStandardItem(
                    t(
                        "FiguresPage",
                        "Not published: too few to show without identifying anyone.",
                    )
                )
            )
        else:
            texts = table.texts()
            self.model.setHorizontalHeaderLabels([t("FiguresPage", h) for h in texts[0]])
            for line in texts[1:]:
                items = [QStandardItem(t("FiguresPage", text)) for text in line]
                for item in items[1:]:
                    item.setTextAlignment(
                        Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
                    )
                self.model.appendRow(items)
        fit_columns(self.table)
        if table.key == "first_contact":
            set_message(
                self.median_label,
                t("FiguresPage", "Median days from referral to first contact: {median}.").format(
                    median=t("FiguresPage", figures.median_text)
                ),
            )
        image = chart_image(table)
        if image is not None:
            self.chart_label.setPixmap(QPixmap.fromImage(image))

    def chart_shown(self) -> bool:
        pixmap = self.chart_label.pixmap()
        return pixmap is not None and not pixmap.isNull()

    # -- export -------------------------------------------------------------------------------

    def export(self) -> None:
        """Warn that the files are not encrypted, then ask for the folder and write both."""
        self.warning_box = printing.warn_not_encrypted(
            self,
            translate("FiguresPage", "Export the figures"),
            self._export_to_chosen_folder,
            lock_action=self.lock_action,
            text=translate(
                "FiguresPage",
                "The PDF and CSV files are not encrypted: anyone who opens them reads the "
                "figures. They name nobody, but save them only where you must.",
            ),
        )

    def _ask_folder(self) -> str:
        return QFileDialog.getExistingDirectory(
            self, translate("FiguresPage", "Choose a folder for the figures (not encrypted)")
        )

    def _export_to_chosen_folder(self) -> None:
        chosen = self.choose_folder()
        if not chosen:
            return
        folder, period = Path(chosen), self.period()

        def call(s: Session) -> list[Path]:
            return service.export_to_folder(s, period, folder)

        self.calls.run(
            call,
            lambda paths: set_message(
                self.status_label,
                translate("FiguresPage", "Saved, not encrypted: {names}.").format(
                    names=", ".join(p.name for p in paths)
                ),
            ),
            self._failed,
            receiver=self,
            label=translate("FiguresPage", "Writing the figures…"),
        )

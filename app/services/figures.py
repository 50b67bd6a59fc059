"""Figures for commissioners and trustees: quarterly and yearly counts over the whole service.

Managers and the data protection officer see them; caseworkers and admins do not. Every
table is built from aggregate queries (app/models/figures.py) and published through
small-number suppression with secondary suppression (app/services/suppression.py): a
published table holds no name, reference or id, no count from 1 to 4, and nothing from which
a suppressed count can be worked out. The method is stated on every output (screen, CSV, PDF).
Viewing and exporting are audited with the period and the tables' names only.
"""

from __future__ import annotations

import csv
import datetime as dt
import enum
import io
import re
import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from app.crypto.files import atomic_write
from app.errors import InvalidInput, SafecaseError
from app.models import figures as model
from app.models import settings
from app.models.categories import (
    ETHNIC_GROUPS,
    AgencyType,
    Answer,
    Ethnicity,
    GenderIdentity,
    Religion,
    Sex,
    SexualOrientation,
)
from app.models.db import transaction
from app.models.records import (
    AbuseChange,
    ClosureReason,
    Engagement,
    ExitRisk,
    FeelingSafer,
    LawfulBasis,
    QualityOfLife,
    RecipientCategory,
    RiskLevel,
)
from app.models.users import Role
from app.services import audit
from app.services.session import Session
from app.services.suppression import METHOD, SMALL, Layout, Published, protect

FIGURES_VIEWED = "figures_viewed"
FIGURES_EXPORTED = "figures_exported"
READERS = (Role.MANAGER, Role.DPO)
ONE_COLUMN = Layout(row_totals=False, column_totals=True, total=False)
NO_TOTALS = Layout(row_totals=False, column_totals=False, total=False)


class FiguresFileExists(SafecaseError):
    default_message = (
        "A file of that name is already there, and figures never replace a file unless "
        "asked to; nothing was written."
    )


# -- periods -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Period:
    start: dt.date
    end: dt.date
    label: str  # "2026" or "2026-Q3": also names the exported files

    @staticmethod
    def year(year: int) -> Period:
        _check_year(year)
        return Period(dt.date(year, 1, 1), dt.date(year, 12, 31), f"{year:04d}")

    @staticmethod
    def quarter(year: int, quarter: int) -> Period:
        _check_year(year)
        if quarter not in (1, 2, 3, 4):
            raise InvalidInput("A quarter is 1, 2, 3 or 4.")
        start = dt.date(year, 3 * quarter - 2, 1)
        after = dt.date(year + 1, 1, 1) if quarter == 4 else dt.date(year, 3 * quarter + 1, 1)
        return Period(start, after - dt.timedelta(days=1), f"{year:04d}-Q{quarter}")

    @staticmethod
    def parse(text: str) -> Period:
        """A year ("2026") or a quarter ("2026-Q3")."""
        found = re.fullmatch(r"\s*(\d{4})(?:-[Qq]([1-4]))?\s*", text)
        if found is None:
            raise InvalidInput("Give a year such as 2026 or a quarter such as 2026-Q3.")
        year = int(found.group(1))
        return Period.quarter(year, int(found.group(2))) if found.group(2) else Period.year(year)


def _check_year(year: int) -> None:
    if not 1900 <= year <= 9999:
        raise InvalidInput("Give a year from 1900 to 9999.")


# -- the tables ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class FigureTable:
    """One published table: English labels for its rows and columns, and the suppressed
    cells. ``key`` names it in the audit trail and the CSV."""

    key: str
    title: str
    row_heading: str
    rows: tuple[str, ...]
    columns: tuple[str, ...]
    published: Published

    def texts(self) -> list[list[str]]:
        """The table as text, with a heading row and the totals it shows."""
        p = self.published
        shows_row_totals = any(c.text() for c in p.row_totals)
        header = [self.row_heading, *self.columns, *(["Total"] if shows_row_totals else [])]
        lines = [header]
        for label, cells, total in zip(self.rows, p.cells, p.row_totals, strict=True):
            row = [label, *(c.text() for c in cells)]
            lines.append(row + ([total.text()] if shows_row_totals else []))
        if any(c.text() for c in p.column_totals) or p.total.text():
            lines.append(
                [
                    "Total",
                    *(c.text() for c in p.column_totals),
                    *([p.total.text()] if shows_row_totals else []),
                ]
            )
        return lines


@dataclass(frozen=True)
class Figures:
    period: Period
    service: str
    produced_on: dt.date
    tables: tuple[FigureTable, ...]
    median_days_to_contact: float | None  # None when fewer than 5 cases had a contact
    method: str = METHOD

    def table(self, key: str) -> FigureTable:
        return next(t for t in self.tables if t.key == key)

    @property
    def median_text(self) -> str:
        if self.median_days_to_contact is None:
            return "not shown (fewer than 5 cases with a first contact)"
        return f"{self.median_days_to_contact:g} days"


_LABELS = {
    "gp": "GP",
    "marac": "MARAC",
    "childrens_social_care": "Children's social care",
    "self": "Self-referral",
    "not_recorded": "Not recorded",
    "not_asked": "Not asked",
    "not_assessed": "Not assessed",
    "same_as_sex": "Same as sex registered at birth",
    "gay_or_lesbian": "Gay or lesbian",
    "asian": "Asian or Asian British",
    "black": "Black, Black British, Caribbean or African",
    "mixed": "Mixed or multiple ethnic groups",
    "white": "White",
    "other": "Other",
    "under_18": "Under 18",
    "18_24": "18 to 24",
    "25_34": "25 to 34",
    "35_44": "35 to 44",
    "45_54": "45 to 54",
    "55_64": "55 to 64",
    "65_over": "65 and over",
}


def label(value: str) -> str:
    """The English label of a stored value (the UI translates it)."""
    return _LABELS.get(value) or value.replace("_", " ").capitalize()


def _values(kind: type[enum.StrEnum], *extra: str, leave_out: Iterable[str] = ()) -> list[str]:
    skipped = set(leave_out)
    return [v.value for v in kind if v.value not in skipped] + list(extra)


def _has(kind: type[enum.StrEnum], value: str) -> bool:
    return any(v.value == value for v in kind)


def _one_column(
    key: str, title: str, row_heading: str, column: str, keys: Sequence[str], counts: dict[str, int]
) -> FigureTable:
    values = [[counts.get(k, 0)] for k in keys]
    return FigureTable(
        key,
        title,
        row_heading,
        tuple(label(k) for k in keys),
        (column,),
        protect(values, ONE_COLUMN),
    )


def _two_way(
    key: str,
    title: str,
    row_heading: str,
    rows: Sequence[str],
    columns: Sequence[str],
    counts: dict[tuple[str, ...], int],
    layout: Layout | None = None,
    column_labels: Sequence[str] | None = None,
    row_labels: Sequence[str] | None = None,
) -> FigureTable:
    values = [[counts.get((r, c), 0) for c in columns] for r in rows]
    return FigureTable(
        key,
        title,
        row_heading,
        tuple(row_labels or [label(r) for r in rows]),
        tuple(column_labels or [label(c) for c in columns]),
        # Full margins: its row and column totals appear in no other table.
        protect(values, layout or Layout(), withhold_totals=layout is None),
    )


# Days from referral to first contact: (key, lowest, highest).
CONTACT_BANDS = (
    ("Same day", 0, 0),
    ("1 to 2 days", 1, 2),
    ("3 to 7 days", 3, 7),
    ("8 to 14 days", 8, 14),
    ("15 to 28 days", 15, 28),
    ("More than 28 days", 29, 1 << 30),
)
NO_CONTACT = "No contact recorded yet"
DEMOGRAPHICS: tuple[tuple[str, str, type[enum.StrEnum]], ...] = (
    ("sex", "Sex", Sex),
    ("gender_identity", "Gender identity", GenderIdentity),
    ("sexual_orientation", "Sexual orientation", SexualOrientation),
    ("religion", "Religion or belief", Religion),
    ("disability", "Disability", Answer),
)
OUTCOMES: tuple[tuple[str, str, type[enum.StrEnum]], ...] = (
    ("reason", "Reason for closing", ClosureReason),
    ("risk_at_exit", "Risk at closure", ExitRisk),
    ("abuse", "Abuse at closure", AbuseChange),
    ("feeling_safer", "Feeling safer", FeelingSafer),
    ("quality_of_life", "Quality of life", QualityOfLife),
    ("engagement", "Engagement with support", Engagement),
)
RISK_COLUMNS = (*(r.value for r in reversed(RiskLevel)), model.NOT_ASSESSED)


def _contact_table(days: dict[int | None, int]) -> tuple[FigureTable, float | None]:
    counts = {
        name: sum(n for d, n in days.items() if d is not None and low <= d <= high)
        for name, low, high in CONTACT_BANDS
    }
    counts[NO_CONTACT] = days.get(None, 0)
    keys = [name for name, _l, _h in CONTACT_BANDS] + [NO_CONTACT]
    table = FigureTable(
        "first_contact",
        "Time from referral to first contact",
        "Days",
        tuple(keys),
        ("Referrals",),
        protect([[counts[k]] for k in keys], ONE_COLUMN),
    )
    contacted = sorted((d, n) for d, n in days.items() if d is not None)
    total = sum(n for _d, n in contacted)
    if total < SMALL:
        return table, None
    # The median of a histogram: expand only the (few) distinct day counts' positions.
    middle = [(total - 1) // 2, total // 2]
    found: list[int] = []
    seen = 0
    for d, n in contacted:
        found += [d for position in middle if seen <= position < seen + n]
        seen += n
    return table, float(statistics.mean(found))


def _build(session: Session, period: Period) -> Figures:
    """Every table for ``period`` (no role check or audit: see ``figures``)."""
    conn, start, end = session.conn, period.start, period.end
    tables: list[FigureTable] = []
    sources = _values(AgencyType, model.NOT_RECORDED)
    tables.append(
        _two_way(
            "referrals_by_source_and_risk",
            "Referrals by source and risk level",
            "Referred by",
            sources,
            RISK_COLUMNS,
            model.referrals_by_source_and_risk(conn, start, end),
            column_labels=("High risk", "Medium risk", "Standard risk", "Not assessed"),
        )
    )
    load = model.caseload(conn, start, end)
    tables.append(
        FigureTable(
            "caseload",
            "Cases open and closed",
            "Cases",
            ("Open at the end of the period", "Closed during the period"),
            ("Cases",),
            protect([[load["open_at_end"]], [load["closed"]]], NO_TOTALS),
        )
    )
    tables.append(
        _two_way(
            "repeats",
            "Repeat referrals and repeat MARAC referrals within 12 months",
            "Kind of referral",
            ("referrals", "marac"),
            ("repeat", "not_repeat"),
            model.repeats(conn, start, end),
            Layout(row_totals=True, column_totals=False, total=False),
            column_labels=("Repeat within 12 months", "Not a repeat"),
            row_labels=("Referrals to the service", "Referrals to MARAC"),
        )
    )
    contact, median = _contact_table(model.days_to_first_contact(conn, start, end))
    tables.append(contact)
    for field, title, kind in DEMOGRAPHICS:
        counts = model.client_categories(conn, field, start, end)
        tables.append(
            _one_column(
                f"clients_by_{field}",
                f"Clients referred: {title.lower()}",
                title,
                "Clients",
                _values(kind),
                counts,
            )
        )
    by_ethnicity = model.client_categories(conn, "ethnicity", start, end)
    groups = dict.fromkeys([*ETHNIC_GROUPS, Ethnicity.DECLINED.value, Ethnicity.NOT_ASKED.value], 0)
    for value, count in by_ethnicity.items():
        group = Ethnicity(value).group or value
        groups[group] += count
    tables.append(
        _one_column(
            "clients_by_ethnic_group",
            "Clients referred: ethnic group",
            "Ethnic group",
            "Clients",
            list(groups),
            groups,
        )
    )
    ages = [k for k, _l, _h in model.AGE_BANDS] + [model.NOT_RECORDED]
    tables.append(
        _one_column(
            "clients_by_age",
            "Clients referred: age at the end of the period",
            "Age",
            "Clients",
            ages,
            model.client_ages(conn, start, end),
        )
    )
    for field, title, kind in OUTCOMES:
        tables.append(
            _one_column(
                f"outcomes_{field}",
                f"Outcomes at closure: {title.lower()}",
                title,
                "Cases closed",
                _values(kind, *([] if _has(kind, model.NOT_RECORDED) else [model.NOT_RECORDED])),
                model.outcomes(conn, field, start, end),
            )
        )
    tables.append(
        _two_way(
            "shares_by_recipient_and_basis",
            "Information shared by recipient and lawful basis",
            "Shared with",
            _values(RecipientCategory),
            [b.value for b in LawfulBasis],
            model.shares_out(conn, start, end),
        )
    )
    service = settings.get(conn, settings.SERVICE_NAME) or "Safecase"
    return Figures(period, service, session.today(), tuple(tables), median)


def may_see_figures(session: Session) -> bool:
    """Whether the user sees the service's figures (managers and the DPO)."""
    return session.has(*READERS)


def figures(session: Session, period: Period) -> Figures:
    """The published figures for ``period``; viewing them is audited (the period only)."""
    session.require(*READERS)
    result = _build(session, period)
    with transaction(session.conn):
        audit.record(session.conn, session.user_id, FIGURES_VIEWED, "", f"period={period.label}")
    return result


# -- the files -----------------------------------------------------------------------------------


def csv_bytes(figures: Figures) -> bytes:
    """Every table one after another, each headed by its title, then the method."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([f"{figures.service}: figures for {figures.period.label}"])
    writer.writerow(
        [f"Period {figures.period.start.isoformat()} to {figures.period.end.isoformat()}"]
    )
    for table in figures.tables:
        writer.writerow([])
        writer.writerow([table.title])
        if table.published.withheld:
            writer.writerow(["Not published: too few to show without identifying anyone."])
            continue
        writer.writerows(table.texts())
        if table.key == "first_contact":
            writer.writerow(["Median days from referral to first contact", figures.median_text])
    writer.writerow([])
    writer.writerow(["Method", figures.method])
    # A spreadsheet reads it as UTF-8 with the mark.
    return ("\ufeff" + out.getvalue()).encode("utf-8")


FILE_NAME = "figures-{label}.{suffix}"


def files_for(figures: Figures, formats: Sequence[str]) -> dict[str, bytes]:
    from app.services import figures_pdf

    built: dict[str, bytes] = {}
    for suffix in formats:
        data = csv_bytes(figures) if suffix == "csv" else figures_pdf.render(figures)
        built[FILE_NAME.format(label=figures.period.label, suffix=suffix)] = data
    return built


def export(
    session: Session,
    period: Period,
    *,
    csv_file: Path | None = None,
    pdf_file: Path | None = None,
    replace: bool = False,
) -> list[Path]:
    """Write the figures for ``period`` as CSV and/or PDF to the files given (the files are not
    encrypted: the user chose them). A file already there is replaced only with ``replace``.
    The export is audited with the period, the formats and the tables' names."""
    session.require(*READERS)
    targets = [(f, s) for f, s in ((csv_file, "csv"), (pdf_file, "pdf")) if f is not None]
    if not targets:
        raise InvalidInput("Choose a CSV file, a PDF file or both.")
    for target, suffix in targets:
        if target.is_dir() or not target.parent.is_dir():
            raise InvalidInput(f"Choose a {suffix.upper()} file in a folder that exists.")
        if (target.exists() or target.is_symlink()) and not replace:
            raise FiguresFileExists()
    result = _build(session, period)
    built = files_for(result, [s for _f, s in targets])
    # Recorded in the transaction that writes the files: a failed write leaves no entry.
    with transaction(session.conn):
        audit.record(
            session.conn,
            session.user_id,
            FIGURES_EXPORTED,
            "",
            f"period={period.label} formats={','.join(s for _f, s in targets)} "
            f"tables={','.join(t.key for t in result.tables)}",
        )
        written: list[Path] = []
        try:
            for (target, _suffix), data in zip(targets, built.values(), strict=True):
                atomic_write(target, data)
                written.append(target)
        except BaseException:
            # Both files or neither (a file this replaced is not brought back).
            for target in written:
                target.unlink(missing_ok=True)
            raise
    return [t for t, _s in targets]


def export_to_folder(
    session: Session, period: Period, folder: Path, *, replace: bool = False
) -> list[Path]:
    """Write both files, named by the period, into ``folder`` (the desktop app's export)."""
    if not folder.is_dir():
        raise InvalidInput("Choose a folder that exists for the figures.")

    def path(suffix: str) -> Path:
        return folder / FILE_NAME.format(label=period.label, suffix=suffix)

    return export(session, period, csv_file=path("csv"), pdf_file=path("pdf"), replace=replace)

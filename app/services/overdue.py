"""What is overdue, counted for the navigation: shares waiting past their 48-hour review,
consent reviews past their date, subject access requests past their deadline, and breaches
past their 72 hours without a report to the ICO; and beside them, the open conflicts waiting
for a person to choose a value (not overdue, but counted the same way).

Each count covers only what the user may see, by the same ``may_*`` questions the window asks
before offering the list it belongs to; a role that cannot see a kind counts none.
"""

from __future__ import annotations

from dataclasses import dataclass

from app.models import consent as consent_model
from app.models.users import Role
from app.services import access, breaches, conflicts, rights, sharing
from app.services.session import Session


@dataclass(frozen=True)
class OverdueCounts:
    shares: int = 0  # shares without consent whose manager's review is late
    consent_reviews: int = 0  # consent in force past its review date, on cases being worked
    requests: int = 0  # rights requests past their deadline
    breaches: int = 0  # breaches past their 72 hours, not reported
    conflicts: int = 0  # open conflicts on cases the user may open (not counted in the total)

    @property
    def total(self) -> int:
        return self.shares + self.consent_reviews + self.requests + self.breaches


def counts(session: Session) -> OverdueCounts:
    """How many of each kind are overdue today, on the session's clock."""
    session.require(*Role)
    shares = consent_reviews = requests = 0
    if sharing.may_review(session):
        shares = sum(1 for item in sharing.awaiting_review(session) if item.overdue)
    if access.may_work_on_cases(session):
        where, params = access.condition(session)
        consent_reviews = consent_model.overdue_reviews(
            session.conn, session.today(), where, params
        )
    if rights.may_read_register(session):
        requests = len(rights.overdue(session))
    late = len(breaches.overdue(session)) if breaches.may_keep_log(session) else 0
    open_conflicts = conflicts.count(session) if conflicts.may_see_conflicts(session) else 0
    return OverdueCounts(shares, consent_reviews, requests, late, open_conflicts)

"""Helpers for tests of the case-record services: sign in as someone, make a synthetic case."""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Iterator

from app.crypto.device import DeviceSecrets
from app.models import audit as audit_model
from app.models import cases as case_model
from app.models import users as user_model
from app.models.records import (
    CaseDetails,
    Direction,
    LawfulBasis,
    PersonDetails,
    RecipientCategory,
    ShareRecord,
)
from app.services import accounts, cases, sharing
from app.services.session import Session, uk_today
from tests.helpers import (
    ADMIN,
    ADMIN_PW,
    CASEWORKER,
    CASEWORKER2,
    CASEWORKER2_PW,
    CASEWORKER_PW,
    DPO,
    DPO_PW,
    MANAGER,
    MANAGER_PW,
    StoreCopy,
)

PASSWORDS = {
    ADMIN: ADMIN_PW,
    CASEWORKER: CASEWORKER_PW,
    CASEWORKER2: CASEWORKER2_PW,
    MANAGER: MANAGER_PW,
    DPO: DPO_PW,
}
TODAY = uk_today()
A_MONTH_AGO = TODAY - dt.timedelta(days=30)


@contextlib.contextmanager
def signed_in(store: StoreCopy, user: str) -> Iterator[Session]:
    """Sign in as one of the test users; always signs out, so the next user can sign in."""
    session = accounts.sign_in(
        store.path, user, PASSWORDS[user], device=DeviceSecrets(store.keyring)
    )
    try:
        yield session
    finally:
        if session.active:
            accounts.sign_out(session)


def user_id(session: Session, username: str) -> int:
    user = user_model.by_name(session.conn, username)
    assert user is not None, f"test user {username} is missing from the template store"
    return user.id


def referral(days_ago: int = 30, **fields: object) -> CaseDetails:
    return CaseDetails(
        referral_date=TODAY - dt.timedelta(days=days_ago),
        referral_source=str(fields.pop("referral_source", "police")),
        **fields,  # type: ignore[arg-type]
    )


def new_referral(session: Session, client: PersonDetails, allocate_to: int | None = None) -> int:
    """A referral with ``client``; a manager's is allocated to ``allocate_to``."""
    return cases.create_referral(session, client, referral(), allocate_to=allocate_to)


def audit_head(session: Session) -> int:
    return audit_model.head(session.conn)[0]


def audit_since(session: Session, after_id: int) -> list[audit_model.Entry]:
    return audit_model.entries(session.conn, after_id=after_id, limit=10_000)


def person(given: str = "Robin", family: str = "Ashdown", **kw: object) -> PersonDetails:
    return PersonDetails(given_name=given, family_name=family, **kw)  # type: ignore[arg-type]


def new_case(
    session: Session, client: PersonDetails | None = None, referral: dt.date = A_MONTH_AGO
) -> tuple[int, int]:
    """A case at referral stage for a synthetic client; returns (case id, client id)."""
    case_id = cases.create_referral(
        session, client or person(), CaseDetails(referral_date=referral, referral_source="GP")
    )
    client_id = case_model.client_id(session.conn, case_id)
    assert client_id is not None
    return case_id, client_id


def share_without_consent(store: StoreCopy) -> tuple[int, int]:
    """A caseworker's new case with a share made without consent (awaiting a manager's review);
    returns (case id, client id)."""
    with signed_in(store, CASEWORKER) as s:
        case_id, client_id = new_case(s)
        sharing.record_share(
            s,
            ShareRecord(
                case_id=case_id,
                direction=Direction.OUT,
                shared_at=(dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)).isoformat(),
                organisation="Northshire Homes",
                recipient_category=RecipientCategory.HOUSING,
                person_ids=(client_id,),
                data_categories=("address",),
                purpose="Emergency rehousing",
                method="phone",
                lawful_basis=LawfulBasis.VITAL_INTERESTS,
                reason="Immediate risk at the current address",
            ),
        )
    return case_id, client_id

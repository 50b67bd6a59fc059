"""Every public service function that takes a Session, called as every role.

DESIGN.md's role table: a caseworker creates cases, reads and writes the cases allocated to
them, records consent and sharing; a manager reaches all the team's cases, allocates, closes,
reopens, places and lifts legal holds and restrictions, reviews shares made without consent
and reads the break-glass log; the admin and the DPO reach no case content at all.

Every module of app.services is scanned for public functions that take a Session, so a new
service function fails the coverage test until it has a row. Each row names a function, the
roles allowed to call it, and the call. The records the call
needs are built once per module (as the manager and as the allocated caseworker) and copied for
each test, so every call starts from the same store. A refused call must raise
PermissionDenied and leave no trace in the audit trail; an allowed call must succeed.
"""

from __future__ import annotations

import datetime as dt
import importlib
import inspect
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pytest

import app.services
from app.crypto.memory_keyring import MemoryKeyring
from app.crypto.team import DeviceKeys, DirectoryDevice, sign_directory
from app.errors import PermissionDenied
from app.models import audit as audit_model
from app.models import cases as case_model
from app.models.breaches import Facts
from app.models.breaches import Risk as BreachRisk
from app.models.categories import (
    Agency,
    AgencyType,
    ChildDetails,
    Ethnicity,
    LegalItem,
    LegalKind,
    PersonCategories,
    ReferralSource,
)
from app.models.db import transaction
from app.models.records import (
    Answer,
    CaseRole,
    CaseStatus,
    ConsentHow,
    ConsentPurpose,
    ConsentState,
    Direction,
    LawfulBasis,
    NoteKind,
    PersonDetails,
    RecipientCategory,
    SafeContact,
    ShareApproval,
    ShareRecord,
)
from app.models.redaction import Exemption
from app.models.rights import Outcome, RightKind
from app.models.users import Role
from app.services import (
    access,
    accounts,
    audit,
    backup,
    breaches,
    cases,
    categories,
    conflicts,
    consent,
    contact_rules,
    demo,
    devices,
    drafts,
    figures,
    letters,
    marac_form,
    membership,
    merges,
    notes,
    overdue,
    retention,
    rights,
    risk,
    sar,
    search,
    sharing,
    team,
    team_purge,
    team_server,
)
from app.services.contact_rules import Output
from app.services.drafts import NewDraft
from app.services.session import Session
from app.sync import engine, ops
from app.sync.clock import new_gid
from app.sync.server import ServerAddress
from app.sync.transport import TransportUnavailable
from tests.helpers import (
    ADMIN,
    CASEWORKER,
    CASEWORKER2,
    DPO,
    MANAGER,
    TEST_KDF,
    StoreCopy,
    copy_store,
)
from tests.services.casework import (
    PASSWORDS,
    TODAY,
    audit_head,
    new_referral,
    person,
    referral,
    signed_in,
    user_id,
)
from tests.sync.two_laptops import set_twice

USER_FOR_ROLE = {
    Role.ADMIN: ADMIN,
    Role.CASEWORKER: CASEWORKER,
    Role.MANAGER: MANAGER,
    Role.DPO: DPO,
}
ROLES = tuple(USER_FOR_ROLE)

CASE_WORK = frozenset({Role.CASEWORKER, Role.MANAGER})
MANAGERS = frozenset({Role.MANAGER})
CASEWORKERS = frozenset({Role.CASEWORKER})
EVERY_ROLE = frozenset(ROLES)
ADMINS = frozenset({Role.ADMIN})
REGISTER = frozenset({Role.MANAGER, Role.DPO})  # the rights-request register
LOG_READERS = frozenset({Role.ADMIN, Role.DPO})  # the destruction log
AUDIT_READERS = frozenset({Role.MANAGER, Role.ADMIN, Role.DPO})
DPOS = frozenset({Role.DPO})  # the breach log
BREACH_RECORDERS = frozenset({Role.DPO, Role.ADMIN})  # an admin records a lost laptop's facts

ALL_NO = {q: Answer.NO for q in range(1, 25)}
NEW_PASSWORD = "saffron-beacon-meadow-61"


# -- the records every call works on ------------------------------------------------------------


@dataclass(frozen=True)
class World:
    path: Path
    keyring: MemoryKeyring

    @property
    def store(self) -> StoreCopy:
        return StoreCopy(self.path, self.keyring, "")

    caseworker: int  # user ids
    manager: int
    case: int  # at referral stage, allocated to CASEWORKER, under a legal hold
    client: int
    household: int  # a second person on ``case``
    note: int  # on ``case``
    share: int  # on ``case``, made without consent or a manager: awaiting review
    closed_case: int  # allocated to CASEWORKER
    closed_client: int
    restricted_case: int  # allocated to CASEWORKER, its client restricted
    restricted_client: int
    other_case: int  # allocated to CASEWORKER2
    old_case: int  # unallocated, closed more than 7 years ago: due for destruction
    old_reference: str
    run: str  # a purge run that destroyed another old case
    request: int  # an access request about ``client``, identity confirmed
    request_reference: str
    unconfirmed: int  # an access request about ``household``, identity not confirmed yet
    paused: int  # an access request about ``closed_client``, its clock stopped
    sar_item: str  # the key of one item in ``request``'s pack, and its length
    sar_item_length: int
    marac_action: int  # an open action agreed at MARAC on ``case``
    merge: int  # a pending merge of two records of one person on ``merge_case``
    merge_case: int
    erasure: int  # a granted erasure request, proposed by the manager
    erasure_case: int  # the case of that request's person (not allocated)
    agency: int  # an agency entry on ``case``
    legal_item: int  # a court date on ``case``
    breach: int  # an open breach in the log, assessed as no risk (so it can close)


def _client_of(session: Session, case_id: int) -> int:
    client = cases.contact_rules(session, case_id).client_id
    assert client is not None
    return client


def _resolve_a_conflict(s: Session, w: World) -> None:
    """Two laptops set the case's needs assessment; then ``s`` resolves the conflict."""
    target = str(ops.gid_of(s.conn, "cases", w.case))
    held = set_twice(s.conn, "case.field_set", f"case:{target}", target, "cases.needs_assessment")
    conflicts.resolve(s, *held)


def _resolve_a_register_conflict(s: Session, w: World) -> None:
    """Two laptops set the request's requester; then ``s`` resolves the conflict."""
    target = str(ops.gid_of(s.conn, "rights_requests", w.request))
    held = set_twice(s.conn, "register.field_set", "register", target, "rights_requests.requester")
    rights.resolve_conflict(s, *held)


def _hour_ago() -> dt.datetime:
    return dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)


def _old_case(session: Session, client: PersonDetails) -> tuple[int, str]:
    """A case referred, opened and closed long enough ago to be due for destruction."""
    case_id = cases.create_referral(session, client, referral(3000))
    cases.open_referral(session, case_id, TODAY - dt.timedelta(3000))
    cases.close_case(session, case_id, TODAY - dt.timedelta(2900), "Support completed")
    case = case_model.get(session.conn, case_id)
    assert case is not None
    return case_id, case.reference


def _breach_facts(measures: str = "") -> Facts:
    return Facts(
        aware_at=_hour_ago(),
        what_happened="An email went to the wrong agency and was deleted unread",
        measures=measures,
        risk=BreachRisk.NO_RISK,
        not_reported_reason="Deleted unread, confirmed in writing",
    )


def _draft(subject: int, confirmed: bool = True) -> rights.RequestDraft:
    return rights.RequestDraft(
        kind=RightKind.ACCESS,
        requester="The data subject",
        received_on=TODAY - dt.timedelta(3),
        subject_person_id=subject,
        identity_confirmed_on=TODAY - dt.timedelta(2) if confirmed else None,
    )


def _access_request(session: Session, subject: int, confirmed: bool = True) -> int:
    return rights.create_request(session, _draft(subject, confirmed)).id


def _insert_request(session: Session, subject: int) -> int:
    with transaction(session.conn):
        return rights.insert_request(session, _draft(subject))


@pytest.fixture(scope="module")
def world(training_template: StoreCopy, tmp_path_factory: pytest.TempPathFactory) -> World:
    # A training store, so that the demo services' admin rows can run.
    path = copy_store(training_template.path, tmp_path_factory.mktemp("roles-world"))
    keyring = training_template.keyring
    store = StoreCopy(path, keyring, "")
    with signed_in(store, MANAGER) as s:
        worker, worker2 = user_id(s, CASEWORKER), user_id(s, CASEWORKER2)
        case = new_referral(s, person("Jo", "Thornbury", phones=("07700 900123",)), worker)
        client = _client_of(s, case)
        household = cases.add_person(s, case, person("Lee", "Thornbury"), CaseRole.HOUSEHOLD_MEMBER)
        cases.set_safe_contact(
            s,
            case,
            SafeContact(
                person_id=client,
                safe_number="07700 900124",
                method="phone",
                safe_times="any time",
                text_ok=True,
                letters_ok=True,
                safe_address="PO Box 9, Northfield",
                last_checked=TODAY,
            ),
        )
        cases.place_legal_hold(s, case, "Family court proceedings", TODAY + dt.timedelta(60))
        risk.record_marac_referral(s, case, TODAY)
        marac_action = risk.add_marac_action(s, case, "Refuge place", "Housing", TODAY)
        merge_case = new_referral(s, person("Kit", "Holloway"), worker)
        twin = cases.add_person(s, merge_case, person("Kitt", "Holloway"), CaseRole.CHILD)
        merge = merges.merge_people(s, _client_of(s, merge_case), twin)
        closed_case = new_referral(s, person("Ros", "Alder"), worker)
        closed_client = _client_of(s, closed_case)
        cases.close_case(s, closed_case, TODAY, "Support completed")
        restricted_case = new_referral(s, person("Bo", "Cedar"), worker)
        restricted_client = _client_of(s, restricted_case)
        cases.restrict_person(s, restricted_client, "Objection to processing under review")
        other_case = new_referral(s, person("Ann", "Birch"), worker2)
        old_case, old_reference = _old_case(s, person("Sam", "Quarry"))
        _gone, gone_reference = _old_case(s, person("Pat", "Linden"))
        request = _access_request(s, client)
        request_reference = rights.get_request(s, request).reference
        unconfirmed = _access_request(s, household, confirmed=False)
        paused = _access_request(s, closed_client)
        rights.pause_clock(s, paused, TODAY, "Asked which years of records are wanted")
        item = next(sar.preview(s, request).items())
        sar.redact(s, request, item.key, 0, len(item.text), Exemption.OTHER, "Held back for now")
        manager = s.user_id
        erasure_case = new_referral(s, person("Dee", "Rowan"))
        erased = _client_of(s, erasure_case)
        erasure = rights.create_request(s, replace(_draft(erased), kind=RightKind.ERASURE)).id
        rights.close_request(s, erasure, Outcome.COMPLIED, TODAY)
        retention.propose_erasure(s, erasure)
        agency = categories.add_agency(s, case, Agency(AgencyType.GP, "Surgery", "Reception"))
        legal_item = categories.add_legal_item(
            s, case, LegalItem(LegalKind.COURT_DATE, TODAY + dt.timedelta(days=9))
        )
    with signed_in(store, DPO) as s:
        breach = breaches.record_breach(s, _breach_facts()).id
    with signed_in(store, ADMIN) as s:
        retention.approve(s, [gone_reference])
        run = retention.purge(s).run_id
    with signed_in(store, CASEWORKER) as s:
        note = notes.add_note(s, case, NoteKind.VISIT, "Home visit, plan reviewed", _hour_ago())
        share = sharing.record_share(
            s,
            ShareRecord(
                case_id=case,
                direction=Direction.OUT,
                shared_at=_hour_ago().isoformat(),
                organisation="Northfield Police",
                recipient_category=RecipientCategory.POLICE,
                person_ids=(client,),
                data_categories=("risks",),
                purpose="Immediate risk to life",
                method="phone",
                lawful_basis=LawfulBasis.VITAL_INTERESTS,
                reason="Threat to kill reported overnight, no manager on duty",
                person_told=False,
                not_told_reason="Telling her now would raise the risk",
            ),
        )
        assert share.approval is ShareApproval.AWAITING_REVIEW
    return World(
        path=path,
        keyring=keyring,
        caseworker=worker,
        manager=manager,
        case=case,
        client=client,
        household=household,
        note=note,
        share=share.id,
        closed_case=closed_case,
        closed_client=closed_client,
        restricted_case=restricted_case,
        restricted_client=restricted_client,
        other_case=other_case,
        old_case=old_case,
        old_reference=old_reference,
        run=run,
        request=request,
        request_reference=request_reference,
        unconfirmed=unconfirmed,
        paused=paused,
        sar_item=item.key,
        sar_item_length=len(item.text),
        marac_action=marac_action,
        merge=merge,
        merge_case=merge_case,
        erasure=erasure,
        erasure_case=erasure_case,
        agency=agency,
        legal_item=legal_item,
        breach=breach,
    )


@pytest.fixture
def fresh(world: World, keyring: MemoryKeyring, tmp_path: Path) -> World:
    """A copy of the world for one test, its device secret in this test's keyring."""
    keyring.values.update(world.keyring.values)
    path = copy_store(world.path, tmp_path / "store")
    return World(**{**world.__dict__, "path": path, "keyring": keyring})


# -- checks on what an allowed call returned ----------------------------------------------------


def _visible_cases(session: Session) -> set[int]:
    where, params = access.condition(session)
    sql = f"SELECT c.id FROM cases c WHERE {where}"  # noqa: S608 - built by access, not input
    return {int(r[0]) for r in session.conn.execute(sql, params).fetchall()}


def _check_condition(result: Any, role: Role, w: World) -> None:
    mine = {w.case, w.closed_case, w.restricted_case, w.merge_case}
    expected = {
        Role.CASEWORKER: mine,
        Role.MANAGER: mine | {w.other_case, w.old_case, w.erasure_case},
        Role.ADMIN: set(),
        Role.DPO: set(),
    }[role]
    assert result == expected, f"{role.value} reaches cases {result}, expected {expected}"


def _check_may_open(result: Any, role: Role, w: World) -> None:
    assert result is (role in CASE_WORK), f"may_open as {role.value} gave {result}"


def _may(function: Callable[[Session], bool], roles: frozenset[Role]) -> Row:
    """A question the desktop app asks before offering something: every role may ask, and
    the answer is yes exactly for ``roles``."""

    def check(result: Any, role: Role, w: World) -> None:
        assert result is (role in roles), f"{function.__name__} as {role.value} gave {result}"

    return Row(function, EVERY_ROLE, lambda s, w: function(s), check)


def _has_case(result: Any, role: Role, w: World) -> None:
    assert w.case in {item.id for item in result}, "the allocated case is missing"


def _check_matches(result: Any, role: Role, w: World) -> None:
    assert [s.id for s in result.visible] == [w.case] and result.hidden == 0


def _check_view(result: Any, role: Role, w: World) -> None:
    assert result.case.id == w.case
    assert {m.person.id for m in result.members} == {w.client, w.household}


def _has_note(result: Any, role: Role, w: World) -> None:
    assert w.note in {note.id for note in result}, "the case's note is missing"


def _check_search(result: Any, role: Role, w: World) -> None:
    assert [hit.case.id for hit in result] == [w.case]


def _check_awaiting(result: Any, role: Role, w: World) -> None:
    assert [item.share.id for item in result] == [w.share]


def _check_gaps(result: Any, role: Role, w: World) -> None:
    assert result == {w.client: ConsentState.NOT_ASKED}


def _letter_facts(session: Session, w: World) -> contact_rules.Facts:
    client = case_model.members(session.conn, w.case)[0].person
    return contact_rules.Facts(client, CaseRole.CLIENT, None, session.moment())


def _agency_sharing(session: Session, w: World) -> letters.AgencySharing:
    professional = cases.add_person(
        session,
        w.case,
        PersonDetails("Dana", "Officer", organisation="Northfield Housing"),
        CaseRole.PROFESSIONAL,
    )
    return letters.agency_sharing(session, w.case, professional)


def _issue_marac_form(session: Session, w: World) -> marac_form.Issued:
    """A referral on professional judgement, shared without everyone's consent."""
    edits = marac_form.MaracEdits(
        marac="Northfield MARAC",
        reason=marac_form.ReferralReason.PROFESSIONAL_JUDGEMENT,
        judgement_reason="Threats to kill since she left, though the checklist scored low",
        lawful_basis=LawfulBasis.PUBLIC_TASK,
        reason_without_consent="Risk to life: multi-agency safety planning is needed now",
    )
    return marac_form.issue(session, w.case, edits)


def _reference(session: Session, w: World) -> str:
    from app.models import cases as case_model

    case = case_model.get(session.conn, w.other_case)
    assert case is not None
    return case.reference


def _has_history(result: Any, role: Role, w: World) -> None:
    actions = {e.action for e in result}
    assert {"case_created", "legal_hold_placed"} <= actions, actions


def _check_allowed(result: Any, role: Role, w: World) -> None:
    assert result.allowed, result.reason


def _check_team(result: Any, role: Role, w: World) -> None:
    names = {u.username for u in result}
    assert names == {CASEWORKER, CASEWORKER2, MANAGER}, names


def _check_closed(result: Any, role: Role, w: World) -> None:
    assert result is None


def _check_users(result: Any, role: Role, w: World) -> None:
    assert {ADMIN, CASEWORKER, MANAGER, DPO} <= {u.username for u in result}


def _check_recent(result: Any, role: Role, w: World) -> None:
    assert result, "the audit trail is empty"


def _check_browse(result: Any, role: Role, w: World) -> None:
    case = f"case:{w.other_case}"
    assert any(e.record == case for e in result.entries), "the case has no audit entries"
    assert all(e.record == case or e.record.startswith("person:") for e in result.entries)
    assert result.names[case].startswith("SC-")


def _check_may_export(result: Any, role: Role, w: World) -> None:
    assert result is (role is Role.DPO), f"may_export as {role.value} gave {result}"


def _check_may_see_figures(result: Any, role: Role, w: World) -> None:
    assert result is (role in REGISTER), f"may_see_figures as {role.value} gave {result}"


def _check_verified(result: Any, role: Role, w: World) -> None:
    assert result.ok, "the audit chain does not verify"


def _checkpoint(s: Session, w: World) -> int:
    """A checkpoint of a sealed trail; the seal is started in the store directly, so only the
    checkpoint's own role check is tried."""
    with transaction(s.conn):
        key = audit_model.start_sealing(s.conn, s.now())
    return audit.checkpoint(s, key, w.path.parent / "audit.checkpoint")


def _check_due(result: Any, role: Role, w: World) -> None:
    assert [item.case_id for item in result] == [w.old_case]


def _check_runs(result: Any, role: Role, w: World) -> None:
    assert [run.run_id for run in result] == [w.run]


def _check_subjects(result: Any, role: Role, w: World) -> None:
    """The DPO keeps the register but reaches no case content, so finds nobody by name."""
    found = {c.person_id for c in result}
    assert found == ({w.client, w.household} if role is Role.MANAGER else set()), found


def _check_register(result: Any, role: Role, w: World) -> None:
    assert {w.request, w.unconfirmed, w.paused} <= {r.id for r in result}


def _check_open_request(result: Any, role: Role, w: World) -> None:
    assert result is not None and result.id == w.request


def _facts(session: Session) -> Facts:
    """A breach's facts an admin may record as well as the DPO (no risk assessment)."""
    return Facts(aware_at=_hour_ago(), what_happened="A laptop was left on a train")


def _check_breach_log(result: Any, role: Role, w: World) -> None:
    assert [b.id for b in result] == [w.breach]


def _folder(w: World, name: str) -> Path:
    folder = w.path.parent / name
    folder.mkdir(exist_ok=True)
    return folder


def _in_team(s: Session, w: World) -> None:
    """The store made the first laptop of a team, its device the admin's, with no role check
    and no audit entry: what a team call needs before it can be tried as each role."""
    if not engine.joined(s.conn):
        admin = user_id(s, ADMIN)
        with transaction(s.conn):
            engine.found_team(s.conn, admin, str(_folder(w, "team")), s.now())
        (_folder(w, "team") / "devices").mkdir(exist_ok=True)


def _team_call(function: Callable[[Session], Any]) -> Call:
    def call(s: Session, w: World) -> Any:
        _in_team(s, w)
        return function(s)

    return call


def _invite(s: Session, w: World) -> str:
    _in_team(s, w)
    return team.invite(
        s, CASEWORKER, _folder(w, "invitations") / "cole.invitation", params=TEST_KDF
    )


def _server_nowhere(call: Callable[[Session, ServerAddress, str], Any]) -> Call:
    """A team-server call as each role, against a server that is not there: a role that may
    make it gets as far as connecting (TransportUnavailable), the others are refused first."""

    def run(s: Session, w: World) -> Any:
        if call is team_server.move_to_server:
            _in_team(s, w)
        nowhere = ServerAddress(host=str(w.path.parent / "no-server"), tls="disable")
        try:
            return call(s, nowhere, f"host={w.path.parent / 'no-server'} dbname=safecase")
        except TransportUnavailable:
            return "not reached"

    return run


def _revoke(s: Session, w: World) -> None:
    """A second device in the team's directory (no role check, no audit entry), then revoked."""
    _in_team(s, w)
    state = engine.load(s.conn)
    keys = DeviceKeys.generate(new_gid())
    other = DirectoryDevice(
        keys.device_id,
        state.directory.devices[0].user,
        keys.encryption_public,
        keys.signing_public,
        s.now(),
    )
    with transaction(s.conn):
        directory = state.directory.with_device(other)
        engine.adopt(s.conn, state, directory, sign_directory(directory, state.device), s.now())
        engine.save(s.conn, state)
    team.revoke(s, keys.device_id)


# -- the table ----------------------------------------------------------------------------------

Call = Callable[[Session, World], Any]
Check = Callable[[Any, Role, World], None]


@dataclass(frozen=True)
class Row:
    function: Callable[..., Any]
    allowed: frozenset[Role]
    call: Call
    check: Check | None = None

    @property
    def name(self) -> str:
        return f"{self.function.__module__.rsplit('.', 1)[-1]}.{self.function.__name__}"


def _share_in(w: World) -> ShareRecord:
    return ShareRecord(
        case_id=w.case,
        direction=Direction.IN,
        shared_at=_hour_ago().isoformat(),
        organisation="Hillside Surgery",
        recipient_category=RecipientCategory.GP,
        person_ids=(w.client,),
        data_categories=("health",),
        purpose="Referral background",
        method="secure email",
        lawful_basis=LawfulBasis.PUBLIC_TASK,
    )


def _share_out(w: World) -> ShareRecord:
    return ShareRecord(
        case_id=w.case,
        direction=Direction.OUT,
        shared_at=_hour_ago().isoformat(),
        organisation="Northfield Housing",
        recipient_category=RecipientCategory.HOUSING,
        person_ids=(w.client,),
        data_categories=("address",),
        purpose="Emergency rehousing",
        method="phone",
        lawful_basis=LawfulBasis.CONSENT,
    )


def _may_open(s: Session, w: World) -> bool:
    case = case_model.get(s.conn, w.case)
    assert case is not None
    return access.may_open(s, case)


TABLE: tuple[Row, ...] = (
    # cases
    Row(
        cases.find_matches,
        CASE_WORK,
        lambda s, w: cases.find_matches(s, person("Jo", "Thornbury")),
        _check_matches,
    ),
    Row(
        cases.create_referral,
        CASE_WORK,
        lambda s, w: cases.create_referral(s, person("Di", "Ash"), referral()),
    ),
    Row(cases.open_case, CASE_WORK, lambda s, w: cases.open_case(s, w.case), _check_view),
    Row(cases.contact_rules, CASE_WORK, lambda s, w: cases.contact_rules(s, w.case)),
    Row(cases.list_cases, CASE_WORK, lambda s, w: cases.list_cases(s), _has_case),
    Row(cases.update_case, CASE_WORK, lambda s, w: cases.update_case(s, w.case, referral(20))),
    Row(
        cases.add_person,
        CASE_WORK,
        lambda s, w: cases.add_person(s, w.case, person("Kit", "Thornbury"), CaseRole.CHILD),
    ),
    Row(
        cases.link_person,
        CASE_WORK,
        lambda s, w: cases.link_person(s, w.case, w.closed_client, CaseRole.HOUSEHOLD_MEMBER),
    ),
    Row(
        cases.remove_person,
        CASE_WORK,
        lambda s, w: cases.remove_person(s, w.case, w.household, CaseRole.HOUSEHOLD_MEMBER),
    ),
    Row(cases.get_person, CASE_WORK, lambda s, w: cases.get_person(s, w.client)),
    Row(
        cases.update_person,
        CASE_WORK,
        lambda s, w: cases.update_person(
            s, w.client, person("Jo", "Thornbury", phones=("07700 900456",))
        ),
    ),
    Row(
        cases.set_safe_contact,
        CASE_WORK,
        lambda s, w: cases.set_safe_contact(
            s, w.case, SafeContact(w.client, safe_number="07700 900456", text_ok=True)
        ),
    ),
    Row(cases.allocate, MANAGERS, lambda s, w: cases.allocate(s, w.case, w.caseworker)),
    Row(conflicts.on_case, CASE_WORK, lambda s, w: conflicts.on_case(s, w.case)),
    Row(conflicts.resolve, CASE_WORK, _resolve_a_conflict),
    Row(conflicts.open_conflicts, CASE_WORK, lambda s, w: conflicts.open_conflicts(s)),
    Row(conflicts.count, CASE_WORK, lambda s, w: conflicts.count(s)),
    _may(conflicts.may_see_conflicts, CASE_WORK),
    Row(cases.open_referral, CASE_WORK, lambda s, w: cases.open_referral(s, w.case, TODAY)),
    Row(
        cases.close_case,
        MANAGERS,
        lambda s, w: cases.close_case(s, w.case, TODAY, "Support completed"),
    ),
    Row(cases.reopen_case, MANAGERS, lambda s, w: cases.reopen_case(s, w.closed_case)),
    Row(
        cases.place_legal_hold,
        MANAGERS,
        lambda s, w: cases.place_legal_hold(
            s, w.case, "Domestic homicide review", TODAY + dt.timedelta(90)
        ),
    ),
    Row(cases.lift_legal_hold, MANAGERS, lambda s, w: cases.lift_legal_hold(s, w.case)),
    Row(
        cases.restrict_person,
        MANAGERS,
        lambda s, w: cases.restrict_person(s, w.client, "Accuracy contested"),
    ),
    Row(
        cases.lift_restriction,
        MANAGERS,
        lambda s, w: cases.lift_restriction(
            s, w.restricted_client, told_on=TODAY, told_by=cases.ToldBy.PHONE
        ),
    ),
    # consent
    Row(
        consent.record_consent,
        CASE_WORK,
        lambda s, w: consent.record_consent(
            s,
            w.case,
            w.client,
            ConsentPurpose.SHARING,
            "police",
            ConsentState.GIVEN,
            decided_on=TODAY,
            how=ConsentHow.VERBAL,
        ),
    ),
    Row(cases.team, CASE_WORK, lambda s, w: cases.team(s), _check_team),
    Row(cases.history, MANAGERS, lambda s, w: cases.history(s, w.case), _has_history),
    Row(consent.current, CASE_WORK, lambda s, w: consent.current(s, w.case, w.client)),
    Row(consent.history, CASE_WORK, lambda s, w: consent.history(s, w.case, w.client)),
    Row(
        consent.sharing_state,
        CASE_WORK,
        lambda s, w: consent.sharing_state(s, w.case, w.client, RecipientCategory.POLICE),
    ),
    # sharing
    Row(
        sharing.consent_gaps,
        CASE_WORK,
        lambda s, w: sharing.consent_gaps(s, _share_out(w)),
        _check_gaps,
    ),
    Row(sharing.record_share, CASE_WORK, lambda s, w: sharing.record_share(s, _share_in(w))),
    Row(sharing.review_share, MANAGERS, lambda s, w: sharing.review_share(s, w.share, True, "")),
    Row(
        sharing.awaiting_review, MANAGERS, lambda s, w: sharing.awaiting_review(s), _check_awaiting
    ),
    Row(sharing.shares, CASE_WORK, lambda s, w: sharing.shares(s, w.case)),
    # notes
    Row(
        notes.add_note,
        CASE_WORK,
        lambda s, w: notes.add_note(
            s, w.case, NoteKind.CALL, "Rang on the safe number", _hour_ago()
        ),
    ),
    Row(
        notes.record_refused_request,
        CASE_WORK,
        lambda s, w: notes.record_refused_request(
            s,
            w.case,
            NoteKind.RECTIFICATION_REFUSED,
            "Asked to remove the visit note; refused, it is accurate",
            _hour_ago(),
        ),
    ),
    Row(
        notes.correct_note,
        CASE_WORK,
        lambda s, w: notes.correct_note(
            s, w.note, "Home visit, safety plan reviewed", "Clearer wording"
        ),
    ),
    Row(
        notes.mark_disputed,
        CASE_WORK,
        lambda s, w: notes.mark_disputed(s, w.note, "Says the visit was cut short"),
    ),
    Row(notes.history, CASE_WORK, lambda s, w: notes.history(s, w.note)),
    Row(notes.timeline, CASE_WORK, lambda s, w: notes.timeline(s, w.case), _has_note),
    # risk
    Row(
        risk.record_dash,
        CASE_WORK,
        lambda s, w: risk.record_dash(s, w.case, w.client, ALL_NO, completed_on=TODAY),
    ),
    Row(
        risk.record_marac_referral,
        CASE_WORK,
        lambda s, w: risk.record_marac_referral(s, w.case, TODAY),
    ),
    Row(
        risk.set_marac_meeting,
        CASE_WORK,
        lambda s, w: risk.set_marac_meeting(s, w.case, TODAY),
    ),
    Row(
        risk.add_marac_action,
        CASE_WORK,
        lambda s, w: risk.add_marac_action(s, w.case, "Police marker", "Police", TODAY),
    ),
    Row(
        risk.mark_marac_action_done,
        CASE_WORK,
        lambda s, w: risk.mark_marac_action_done(s, w.marac_action, TODAY),
    ),
    # the MARAC referral form
    _may(marac_form.may_issue, CASE_WORK),
    Row(marac_form.prefill, CASE_WORK, lambda s, w: marac_form.prefill(s, w.case)),
    Row(marac_form.issue, CASE_WORK, lambda s, w: _issue_marac_form(s, w)),
    Row(marac_form.issued_forms, CASE_WORK, lambda s, w: marac_form.issued_forms(s, w.case)),
    Row(
        marac_form.form_pdf,
        CASE_WORK,
        lambda s, w: marac_form.form_pdf(s, _issue_marac_form(s, w).form_id),
    ),
    # merges
    _may(merges.may_merge, MANAGERS),
    Row(
        merges.merge_people,
        MANAGERS,
        lambda s, w: merges.merge_people(s, w.client, w.household),
    ),
    Row(merges.undo_merge, MANAGERS, lambda s, w: merges.undo_merge(s, w.merge)),
    Row(merges.confirm_merge, MANAGERS, lambda s, w: merges.confirm_merge(s, w.merge)),
    Row(
        merges.pending_merges,
        MANAGERS,
        lambda s, w: merges.pending_merges(s, w.merge_case),
        lambda result, role, w: None if [m.id for m in result] == [w.merge] else pytest.fail(),
    ),
    # search
    Row(search.search, CASE_WORK, lambda s, w: search.search(s, "Thornbury"), _check_search),
    # access
    Row(access.condition, EVERY_ROLE, lambda s, w: _visible_cases(s), _check_condition),
    Row(access.may_open, EVERY_ROLE, _may_open, _check_may_open),
    _may(access.may_work_on_cases, CASE_WORK),
    _may(access.may_break_glass, CASEWORKERS),
    _may(access.may_read_break_glass_log, MANAGERS),
    _may(cases.may_manage, MANAGERS),
    _may(cases.may_read_history, MANAGERS),
    _may(sharing.may_review, MANAGERS),
    _may(audit.may_read, AUDIT_READERS),
    _may(rights.may_read_register, REGISTER),
    _may(sar.may_prepare_packs, MANAGERS),
    _may(sar.may_read_redaction_log, MANAGERS | {Role.DPO}),
    _may(accounts.may_manage_users, ADMINS),
    _may(accounts.may_change_own_password, EVERY_ROLE),
    _may(retention.may_review_retention, ADMINS),
    _may(backup.may_make_backups, ADMINS),
    Row(access.require_case, CASE_WORK, lambda s, w: access.require_case(s, w.case)),
    Row(access.require_open_case, CASE_WORK, lambda s, w: access.require_open_case(s, w.case)),
    Row(access.require_person, CASE_WORK, lambda s, w: access.require_person(s, w.client)),
    # The two restriction guards say only "restricted or not", and only to case roles.
    Row(
        access.refuse_if_restricted,
        CASE_WORK,
        lambda s, w: access.refuse_if_restricted(s, [w.client]),
        _check_closed,
    ),
    Row(
        access.refuse_if_client_restricted,
        CASE_WORK,
        lambda s, w: access.refuse_if_client_restricted(s, w.case),
        _check_closed,
    ),
    Row(
        access.break_glass,
        CASEWORKERS,
        lambda s, w: access.break_glass(
            s, w.other_case, "Her worker is off sick and she rang in crisis"
        ),
    ),
    Row(access.break_glass_log, MANAGERS, lambda s, w: access.break_glass_log(s)),
    Row(
        access.break_glass_by_reference,
        CASEWORKERS,
        lambda s, w: access.break_glass_by_reference(
            s, _reference(s, w), "Her worker is off sick and she rang in crisis"
        ),
    ),
    # accounts: users, keys and settings are the admin's; every user has their own session
    Row(accounts.list_users, ADMINS, lambda s, w: accounts.list_users(s), _check_users),
    Row(
        accounts.add_user,
        ADMINS,
        lambda s, w: accounts.add_user(s, "nell", NEW_PASSWORD, frozenset({Role.CASEWORKER})),
    ),
    Row(
        accounts.reset_password,
        ADMINS,
        lambda s, w: accounts.reset_password(s, CASEWORKER2, NEW_PASSWORD),
    ),
    Row(accounts.set_disabled, ADMINS, lambda s, w: accounts.set_disabled(s, CASEWORKER2, True)),
    Row(accounts.rotate_keys, ADMINS, lambda s, w: accounts.rotate_keys(s)),
    Row(accounts.rotation_estimate, ADMINS, lambda s, w: accounts.rotation_estimate(s)),
    Row(
        accounts.disable_user,
        ADMINS,
        lambda s, w: accounts.disable_user(s, CASEWORKER2, rotate=False),
    ),
    Row(accounts.set_idle_lock_minutes, ADMINS, lambda s, w: accounts.set_idle_lock_minutes(s, 9)),
    Row(accounts.idle_lock_minutes, EVERY_ROLE, lambda s, w: accounts.idle_lock_minutes(s)),
    Row(accounts.service_name, EVERY_ROLE, lambda s, w: accounts.service_name(s)),
    Row(accounts.is_training_store, EVERY_ROLE, lambda s, w: accounts.is_training_store(s)),
    Row(
        accounts.change_password,
        EVERY_ROLE,
        lambda s, w: accounts.change_password(s, PASSWORDS[s.username], NEW_PASSWORD),
    ),
    Row(accounts.lock, EVERY_ROLE, lambda s, w: accounts.lock(s)),
    # drafts: each user's own, whatever their role
    Row(drafts.save, EVERY_ROLE, lambda s, w: drafts.save(s, NewDraft("new_note", {}, w.case))),
    Row(drafts.save_many, EVERY_ROLE, lambda s, w: drafts.save_many(s, [NewDraft("window")])),
    Row(drafts.list_drafts, EVERY_ROLE, lambda s, w: drafts.list_drafts(s)),
    Row(drafts.take, EVERY_ROLE, lambda s, w: drafts.take(s, drafts.save(s, NewDraft("w")))),
    Row(drafts.discard, EVERY_ROLE, lambda s, w: drafts.discard(s, drafts.save(s, NewDraft("w")))),
    Row(
        drafts.discard_within,
        EVERY_ROLE,
        lambda s, w: drafts.discard_within(s, drafts.save(s, NewDraft("w"))),
    ),
    Row(accounts.sign_out, EVERY_ROLE, lambda s, w: accounts.sign_out(s)),
    Row(accounts.sign_out_after_error, EVERY_ROLE, lambda s, w: accounts.sign_out_after_error(s)),
    # audit
    Row(audit.recent, AUDIT_READERS, lambda s, w: audit.recent(s), _check_recent),
    Row(audit.usernames, AUDIT_READERS, lambda s, w: audit.usernames(s)),
    Row(audit.verify, AUDIT_READERS, lambda s, w: audit.verify(s), _check_verified),
    Row(
        audit.browse,
        AUDIT_READERS,
        lambda s, w: audit.browse(s, audit.EntryFilter(record=_reference(s, w))),
        _check_browse,
    ),
    Row(audit.actions, AUDIT_READERS, lambda s, w: audit.actions(s)),
    # Only the DPO takes the trail out of the store (a file that is not encrypted).
    Row(
        audit.export_csv,
        frozenset({Role.DPO}),
        lambda s, w: audit.export_csv(s, audit.EntryFilter(), w.path.parent / "audit.csv"),
    ),
    Row(audit.may_export, EVERY_ROLE, lambda s, w: audit.may_export(s), _check_may_export),
    Row(audit.start_sealing, ADMINS | {Role.DPO}, lambda s, w: audit.start_sealing(s)),
    Row(audit.checkpoint, frozenset({Role.DPO}), _checkpoint),
    # the team's trail (empty on a laptop not in a team)
    Row(audit.team_devices, AUDIT_READERS, lambda s, w: audit.team_devices(s)),
    Row(audit.team_trail, AUDIT_READERS, lambda s, w: audit.team_trail(s)),
    # commissioners' figures: managers and the DPO
    Row(
        figures.may_see_figures,
        EVERY_ROLE,
        lambda s, w: figures.may_see_figures(s),
        _check_may_see_figures,
    ),
    Row(
        figures.figures, REGISTER, lambda s, w: figures.figures(s, figures.Period.year(TODAY.year))
    ),
    Row(
        figures.export,
        REGISTER,
        lambda s, w: figures.export(
            s, figures.Period.year(TODAY.year), csv_file=w.path.parent / "figures.csv", replace=True
        ),
    ),
    Row(
        figures.export_to_folder,
        REGISTER,
        lambda s, w: figures.export_to_folder(
            s, figures.Period.quarter(TODAY.year, 1), _folder(w, "figures"), replace=True
        ),
    ),
    # backup and demo data
    Row(backup.backup, ADMINS, lambda s, w: backup.backup(s, w.path.parent / "copy.scbackup")),
    Row(
        backup.backup_to_folder,
        ADMINS,
        lambda s, w: backup.backup_to_folder(s, _folder(w, "backups")),
    ),
    # Only a path check (is it one of the store's own files, or there already?): no content.
    Row(
        backup.check_target,
        EVERY_ROLE,
        lambda s, w: backup.check_target(s, w.path.parent / "new.scbackup"),
    ),
    Row(backup.known_backups, ADMINS, lambda s, w: backup.known_backups(s)),
    Row(backup.status, ADMINS, lambda s, w: backup.status(s)),
    Row(
        backup.back_up_now,
        ADMINS,
        lambda s, w: backup.back_up_now(s, _folder(w, "backups-now"), 3),
    ),
    Row(
        backup.after_purge,
        ADMINS,
        lambda s, w: backup.after_purge(s, w.run, backup.BackupChoice.KEEP, []),
    ),
    Row(
        backup.reapply_after_restore,
        ADMINS,
        lambda s, w: backup.reapply_after_restore(s, w.path),
    ),
    Row(demo.add_demo_accounts, ADMINS, lambda s, w: demo.add_demo_accounts(s, 7)),
    Row(demo.generate_cases, ADMINS, lambda s, w: demo.generate_cases(s, 1, 7)),
    Row(
        demo.synthetic_conflict,
        CASE_WORK,
        lambda s, w: demo.synthetic_conflict(s, w.case, "07700 900457", "07700 900458"),
    ),
    # retention: the admin reviews and purges; the DPO reads the destruction log
    Row(retention.today, EVERY_ROLE, lambda s, w: retention.today(s)),
    Row(overdue.counts, EVERY_ROLE, lambda s, w: overdue.counts(s)),
    # categories, agencies, legal dates and This week
    _may(categories.may_record, CASE_WORK),
    _may(categories.may_see_this_week, CASE_WORK | REGISTER),
    Row(
        categories.person_categories,
        CASE_WORK,
        lambda s, w: categories.person_categories(s, w.client),
    ),
    Row(
        categories.set_person_categories,
        CASE_WORK,
        lambda s, w: categories.set_person_categories(
            s, w.client, PersonCategories(ethnicity=Ethnicity.WHITE_IRISH)
        ),
    ),
    Row(
        categories.category_counts,
        CASE_WORK,
        lambda s, w: categories.category_counts(s, "ethnicity"),
    ),
    Row(categories.agencies, CASE_WORK, lambda s, w: categories.agencies(s, w.case)),
    Row(
        categories.add_agency,
        CASE_WORK,
        lambda s, w: categories.add_agency(
            s, w.case, Agency(AgencyType.HOUSING, "Housing options", "Duty officer")
        ),
    ),
    Row(
        categories.update_agency,
        CASE_WORK,
        lambda s, w: categories.update_agency(
            s, w.case, Agency(AgencyType.HEALTH, "Health visitor", "Duty line", w.agency)
        ),
    ),
    Row(
        categories.remove_agency,
        CASE_WORK,
        lambda s, w: categories.remove_agency(s, w.case, w.agency),
    ),
    Row(categories.legal_items, CASE_WORK, lambda s, w: categories.legal_items(s, w.case)),
    Row(
        categories.update_legal_item,
        CASE_WORK,
        lambda s, w: categories.update_legal_item(
            s,
            w.case,
            LegalItem(LegalKind.COURT_DATE, TODAY + dt.timedelta(days=4), id=w.legal_item),
        ),
    ),
    Row(
        categories.remove_legal_item,
        CASE_WORK,
        lambda s, w: categories.remove_legal_item(s, w.case, w.legal_item),
    ),
    Row(
        categories.add_legal_item,
        CASE_WORK,
        lambda s, w: categories.add_legal_item(
            s, w.case, LegalItem(LegalKind.COURT_DATE, TODAY + dt.timedelta(days=3))
        ),
    ),
    Row(categories.this_week, CASE_WORK | REGISTER, lambda s, w: categories.this_week(s)),
    Row(categories.referral_source, CASE_WORK, lambda s, w: categories.referral_source(s, w.case)),
    Row(
        categories.set_referral_source,
        CASE_WORK,
        lambda s, w: categories.set_referral_source(
            s, w.case, ReferralSource(AgencyType.POLICE, "DC Example")
        ),
    ),
    Row(categories.children, CASE_WORK, lambda s, w: categories.children(s, w.case)),
    Row(
        categories.set_child,
        CASE_WORK,
        lambda s, w: categories.set_child(
            s,
            w.case,
            ChildDetails(
                cases.add_person(s, w.case, person("Kit", "Thornbury"), CaseRole.CHILD),
                "Northshire Primary",
            ),
        ),
    ),
    Row(retention.current_policy, REGISTER | ADMINS, lambda s, w: retention.current_policy(s)),
    Row(retention.set_policy, ADMINS, lambda s, w: retention.set_policy(s, 8, 25)),
    Row(
        retention.case_schedule,
        CASE_WORK | ADMINS,
        lambda s, w: retention.case_schedule(s, w.closed_case),
    ),
    Row(retention.due_items, ADMINS, lambda s, w: retention.due_items(s), _check_due),
    Row(retention.approve, ADMINS, lambda s, w: retention.approve(s, [w.old_reference])),
    Row(
        retention.extend,
        ADMINS,
        lambda s, w: retention.extend(
            s, w.old_reference, "Civil claim expected", TODAY + dt.timedelta(90)
        ),
    ),
    Row(
        retention.extend_many,
        ADMINS,
        lambda s, w: retention.extend_many(
            s, [w.old_reference], "Civil claim expected", TODAY + dt.timedelta(90)
        ),
    ),
    Row(retention.purge, ADMINS, lambda s, w: retention.purge(s)),
    Row(
        retention.erasure_plan,
        MANAGERS | ADMINS,
        lambda s, w: retention.erasure_plan(s, w.erasure),
    ),
    Row(
        retention.propose_erasure,
        MANAGERS | ADMINS,
        lambda s, w: retention.propose_erasure(s, w.erasure),
    ),
    Row(
        retention.carry_out_erasure,
        ADMINS,
        lambda s, w: retention.carry_out_erasure(s, w.erasure),
    ),
    Row(
        retention.proposed_erasures,
        ADMINS,
        lambda s, w: retention.proposed_erasures(s),
        lambda result, role, w: (
            None if [p.request_id for p in result] == [w.erasure] else pytest.fail()
        ),
    ),
    _may(retention.may_propose_erasure, MANAGERS | ADMINS),
    _may(retention.may_carry_out_erasure, ADMINS),
    # Sign-in housekeeping: whoever signs in closes a run a crash left open (its rekey waits
    # for an admin). With no run open it does nothing, for every role.
    Row(
        retention.finish_interrupted_run,
        EVERY_ROLE,
        lambda s, w: retention.finish_interrupted_run(s),
    ),
    Row(retention.runs, LOG_READERS, lambda s, w: retention.runs(s), _check_runs),
    Row(retention.log_entries, LOG_READERS, lambda s, w: retention.log_entries(s, w.run)),
    Row(retention.certificate, LOG_READERS, lambda s, w: retention.certificate(s, w.run)),
    Row(
        retention.save_certificate,
        LOG_READERS,
        lambda s, w: retention.save_certificate(s, w.run, w.path.parent / "certificate.pdf"),
    ),
    # the rights-request register: managers and the DPO
    Row(
        rights.create_request,
        REGISTER,
        lambda s, w: _access_request(s, w.closed_client),
    ),
    Row(rights.insert_request, REGISTER, lambda s, w: _insert_request(s, w.closed_client)),
    Row(
        rights.update_request,
        REGISTER,
        lambda s, w: rights.update_request(
            s,
            w.unconfirmed,
            rights.RequestDraft(
                kind=RightKind.ERASURE,
                requester="The data subject",
                received_on=TODAY - dt.timedelta(3),
                subject_person_id=w.household,
            ),
        ),
    ),
    Row(
        rights.confirm_identity,
        REGISTER,
        lambda s, w: rights.confirm_identity(s, w.unconfirmed, TODAY),
    ),
    Row(
        rights.pause_clock,
        REGISTER,
        lambda s, w: rights.pause_clock(s, w.request, TODAY, "Asked which case is meant"),
    ),
    Row(rights.resume_clock, REGISTER, lambda s, w: rights.resume_clock(s, w.paused, TODAY)),
    Row(rights.extend, REGISTER, lambda s, w: rights.extend(s, w.request, TODAY)),
    Row(
        rights.close_request,
        REGISTER,
        lambda s, w: rights.close_request(s, w.request, Outcome.COMPLIED, TODAY),
    ),
    Row(
        rights.find_subjects,
        REGISTER,
        lambda s, w: rights.find_subjects(s, "Thornbury"),
        _check_subjects,
    ),
    Row(rights.get_request, REGISTER, lambda s, w: rights.get_request(s, w.request)),
    Row(
        rights.find_request,
        REGISTER,
        lambda s, w: rights.find_request(s, w.request_reference),
    ),
    Row(rights.register, REGISTER, lambda s, w: rights.register(s), _check_register),
    Row(rights.overdue, REGISTER, lambda s, w: rights.overdue(s)),
    Row(rights.register_conflicts, REGISTER, lambda s, w: rights.register_conflicts(s)),
    Row(rights.conflicted_references, REGISTER, lambda s, w: rights.conflicted_references(s)),
    Row(rights.resolve_conflict, REGISTER, _resolve_a_register_conflict),
    Row(rights.due_this_week, REGISTER, lambda s, w: rights.due_this_week(s)),
    Row(
        rights.open_access_request,
        REGISTER,
        lambda s, w: rights.open_access_request(s, w.client),
        _check_open_request,
    ),
    # subject access packs: managers build, review and send them; the DPO reads the log
    Row(sar.preview, MANAGERS, lambda s, w: sar.preview(s, w.request)),
    Row(sar.team_note, MANAGERS, lambda s, w: sar.team_note(s, w.request)),
    Row(sar.team_notes, MANAGERS, lambda s, w: sar.team_notes(s, [])),
    Row(
        sar.redact,
        MANAGERS,
        lambda s, w: sar.redact(
            s, w.request, w.sar_item, 0, w.sar_item_length, Exemption.OTHER, "Test of the role"
        ),
    ),
    Row(
        sar.disclose,
        MANAGERS,
        lambda s, w: sar.disclose(
            s, w.request, w.sar_item, 0, w.sar_item_length, "Known to the requester already"
        ),
    ),
    Row(sar.redaction_log, REGISTER, lambda s, w: sar.redaction_log(s, w.request)),
    Row(
        sar.sign_off,
        MANAGERS,
        lambda s, w: sar.sign_off(
            s, w.request, "Checked", sole_manager_reason="No other manager is available"
        ),
    ),
    Row(sar.signoff_facts, MANAGERS, lambda s, w: sar.signoff_facts(s, w.request)),
    Row(sar.print_pack, MANAGERS, lambda s, w: sar.print_pack(s, w.request)),
    Row(
        sar.export_pack,
        MANAGERS,
        lambda s, w: sar.export_pack(s, w.request, _folder(w, "pack")),
    ),
    Row(
        sar.export_new_request,
        MANAGERS,
        lambda s, w: sar.export_new_request(
            s, _draft(w.closed_client), _folder(w, "new-request-pack")
        ),
    ),
    Row(sar.letterhead, REGISTER | ADMINS, lambda s, w: sar.letterhead(s)),
    # letters and texts: case workers produce them; admins keep the templates; managers
    # override the safe-contact rules and, with the DPO, read the overrides
    Row(letters.templates, CASE_WORK | ADMINS, lambda s, w: letters.templates(s)),
    _may(letters.may_edit_templates, ADMINS),
    Row(
        letters.set_template,
        ADMINS,
        lambda s, w: letters.set_template(s, Output.CLOSURE, "Closing", "Dear {client_name}"),
    ),
    Row(letters.reset_template, ADMINS, lambda s, w: letters.reset_template(s, Output.CLOSURE)),
    Row(
        letters.check,
        CASE_WORK,
        lambda s, w: letters.check(s, w.case, w.client, Output.APPOINTMENT),
        _check_allowed,
    ),
    _may(letters.may_override, MANAGERS),
    Row(letters.overrides, REGISTER, lambda s, w: letters.overrides(s)),
    _may(letters.may_read_overrides, REGISTER),
    Row(
        letters.letter,
        CASE_WORK,
        lambda s, w: letters.letter(s, w.case, w.client, Output.CLOSURE),
    ),
    Row(
        letters.letter_pdf,
        CASE_WORK,
        lambda s, w: letters.letter_pdf(s, w.case, w.client, Output.APPOINTMENT, appointment="9am"),
    ),
    Row(letters.prepare_text, CASE_WORK, lambda s, w: letters.prepare_text(s, w.case, w.client)),
    Row(letters.agency_sharing, CASE_WORK, lambda s, w: _agency_sharing(s, w)),
    Row(
        letters.plan_overrides,
        CASE_WORK,
        lambda s, w: letters.plan_overrides(s, Output.CLOSURE, _letter_facts(s, w), ""),
    ),
    Row(
        letters.record_overrides,
        CASE_WORK,
        lambda s, w: letters.record_overrides(
            s, Output.CLOSURE, _letter_facts(s, w), (), "", case_id=w.case
        ),
    ),
    Row(
        sar.set_letterhead,
        ADMINS,
        lambda s, w: sar.set_letterhead(s, address="PO Box 1", phone="01632 960001", email=""),
    ),
    Row(
        breaches.record_breach, BREACH_RECORDERS, lambda s, w: breaches.record_breach(s, _facts(s))
    ),
    Row(
        breaches.update_breach,
        DPOS,
        lambda s, w: breaches.update_breach(s, w.breach, _breach_facts("Recall"), "Time checked"),
    ),
    Row(breaches.close_breach, DPOS, lambda s, w: breaches.close_breach(s, w.breach)),
    Row(breaches.get_breach, DPOS, lambda s, w: breaches.get_breach(s, w.breach)),
    Row(
        breaches.find_breach,
        DPOS,
        lambda s, w: breaches.find_breach(s, f"BR-{TODAY.year}-0001"),
    ),
    Row(breaches.breach_log, DPOS, lambda s, w: breaches.breach_log(s), _check_breach_log),
    Row(breaches.breach_history, DPOS, lambda s, w: breaches.breach_history(s, w.breach)),
    Row(breaches.overdue, DPOS, lambda s, w: breaches.overdue(s)),
    Row(
        breaches.lost_device_facts,
        BREACH_RECORDERS,
        lambda s, w: breaches.lost_device_facts(s, _hour_ago()),
    ),
    _may(breaches.may_keep_log, DPOS),
    _may(breaches.may_record_breach, BREACH_RECORDERS),
    Row(devices.list_devices, ADMINS, lambda s, w: devices.list_devices(s)),
    _may(devices.may_manage_devices, ADMINS),
    Row(team.create_team, ADMINS, lambda s, w: team.create_team(s, _folder(w, "team"))),
    Row(team.invite, ADMINS, _invite),
    Row(team.revoke, ADMINS, _revoke),
    Row(team.sync, EVERY_ROLE, _team_call(team.sync)),
    Row(team.status, EVERY_ROLE, _team_call(team.status)),
    Row(membership.in_team, EVERY_ROLE, lambda s, w: membership.in_team(s)),
    Row(team.sync_log, EVERY_ROLE, _team_call(team.sync_log)),
    Row(team.devices, frozenset({Role.ADMIN, Role.MANAGER}), _team_call(team.devices)),
    Row(
        team_purge.case_acknowledgements,
        LOG_READERS,
        _team_call(team_purge.case_acknowledgements),
    ),
    Row(team_purge.outstanding, ADMINS, _team_call(team_purge.outstanding)),
    Row(team_purge.compact, ADMINS, _team_call(team_purge.compact)),
    _may(team_purge.may_compact, ADMINS),
    Row(team_server.create_on_server, ADMINS, _server_nowhere(team_server.create_on_server)),
    Row(team_server.move_to_server, ADMINS, _server_nowhere(team_server.move_to_server)),
    Row(team_server.server_view, ADMINS, _team_call(team_server.server_view)),
    Row(team_server.listener, EVERY_ROLE, _team_call(team_server.listener)),
)


# -- the tests ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("row", "role"),
    [pytest.param(row, role, id=f"{row.name}-{role.value}") for row in TABLE for role in ROLES],
)
def test_role(fresh: World, row: Row, role: Role) -> None:
    with signed_in(fresh.store, USER_FOR_ROLE[role]) as session:
        if role in row.allowed:
            result = row.call(session, fresh)
            if row.check is not None:
                row.check(result, role, fresh)
        else:
            before = audit_head(session)
            try:
                result = row.call(session, fresh)
            except PermissionDenied:
                pass
            else:
                pytest.fail(
                    f"{row.name} as {role.value} was allowed and returned {result!r:.120}; "
                    "DESIGN.md's role table says PermissionDenied"
                )
            assert audit_head(session) == before, (
                f"{row.name} was refused to {role.value} but still wrote to the audit trail"
            )


def test_refused_change_leaves_the_case_as_it_was(fresh: World) -> None:
    """A refused call does no work: what the admin tried is not there when the worker looks."""
    with signed_in(fresh.store, ADMIN) as session:
        with pytest.raises(PermissionDenied):
            cases.close_case(session, fresh.case, TODAY, "Closing it")
        with pytest.raises(PermissionDenied):
            notes.add_note(session, fresh.case, NoteKind.NOTE, "Admin was here", _hour_ago())
    with signed_in(fresh.store, CASEWORKER) as session:
        view = cases.open_case(session, fresh.case)
    assert view.case.status is CaseStatus.REFERRAL
    assert [note.id for note in view.notes] == [fresh.note]


def _takes_session(function: Callable[..., Any]) -> bool:
    return any(
        "Session" in str(p.annotation) for p in inspect.signature(function).parameters.values()
    )


def _public_functions() -> dict[str, Callable[..., Any]]:
    """Every public function defined in any module of app.services that takes a Session:
    each can reach the store for whoever is signed in, so each needs a row."""
    found: dict[str, Callable[..., Any]] = {}
    for info in pkgutil.iter_modules(app.services.__path__):
        module = importlib.import_module(f"{app.services.__name__}.{info.name}")
        for name, obj in inspect.getmembers(module, inspect.isfunction):
            mine = obj.__module__ == module.__name__
            if mine and not name.startswith("_") and _takes_session(obj):
                found[f"{info.name}.{name}"] = obj
    return found


def test_every_public_service_function_has_a_role_row() -> None:
    public = _public_functions()
    assert {"cases.close_case", "rights.create_request", "sar.export_pack"} <= set(public)
    rows = [row.name for row in TABLE]
    assert len(rows) == len(set(rows)), "a function has two rows in the role table"
    missing = sorted(set(public) - set(rows))
    assert not missing, f"public service functions with no row in the role table: {missing}"
    stale = sorted(set(rows) - set(public))
    assert not stale, f"the role table names functions that take no session or are gone: {stale}"


def test_every_rows_function_takes_the_session_first() -> None:
    for row in TABLE:
        first = next(iter(inspect.signature(row.function).parameters))
        assert first == "session", f"{row.name} does not take the session first"

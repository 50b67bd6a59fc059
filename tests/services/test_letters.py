"""Letters and texts obey the safe-contact rules: every rule tried against every output.

The matrix drives the real services on a store: the three letters to the client, the letter to
another agency (addressed to a professional, about the client), the text prepared for copying,
and the subject access pack's covering letter. Each output is read back as a user would see it
(the PDF's text through pypdf, the text's words), so an address that must not be there is
looked for where it would be printed.
"""

from __future__ import annotations

import datetime as dt
import io
from dataclasses import dataclass, replace

import pytest
from pypdf import PdfReader

from app.errors import InvalidInput, PermissionDenied
from app.models import cases as case_model
from app.models.categories import Agency, AgencyType
from app.models.records import (
    CaseDetails,
    CaseRole,
    ConsentHow,
    ConsentPurpose,
    ConsentState,
    Direction,
    LawfulBasis,
    Person,
    PersonDetails,
    RecipientCategory,
    SafeContact,
    ShareApproval,
)
from app.models.rights import RightKind
from app.services import (
    audit,
    cases,
    categories,
    consent,
    contact_rules,
    letters,
    marac_form,
    rights,
    sar,
    sharing,
)
from app.services.contact_rules import Output, RestrictionGround, Rule
from app.services.marac_form import MaracEdits, ReferralReason
from app.services.session import UK, Session
from tests.helpers import ADMIN, CASEWORKER, DPO, MANAGER, StoreCopy
from tests.services.casework import TODAY, audit_head, audit_since, person, signed_in

HOME = "14 Shared Road"  # the address on record: the home the abuser may share
HOME_POSTCODE = "ZZ1 1AA"
REFUGE = "Refuge House 9 Hidden Lane"
SAFE = "c/o Sister 3 Friendly Close"
SAFE_POSTCODE = "ZZ9 9SF"
SAFE_NUMBER = "07700 900777"


def _next_tuesday_at_11() -> str:
    """The session's clock for the matrix: the next Tuesday at 11:00 in the UK."""
    day = TODAY + dt.timedelta(days=(1 - TODAY.weekday()) % 7 or 7)
    moment = dt.datetime.combine(day, dt.time(11), tzinfo=UK).astimezone(dt.UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


TUESDAY_11 = _next_tuesday_at_11()


def _pdf_text(pdf: bytes, first_page_only: bool = False) -> str:
    pages = PdfReader(io.BytesIO(pdf)).pages
    chosen = pages[:1] if first_page_only else pages
    return " ".join(" ".join((p.extract_text() or "").split()) for p in chosen)


@dataclass(frozen=True)
class Scenario:
    """One rule's situation: the client's record and safe-contact details, and who is written
    to (the client, or the alleged perpetrator)."""

    name: str
    rules: SafeContact | None
    confidential: bool = False
    to_perpetrator: bool = False
    restricted: bool = False  # the client's processing is restricted (UK GDPR Art. 18)


def _safe(**changes: object) -> SafeContact:
    base = SafeContact(
        person_id=0,
        safe_number=SAFE_NUMBER,
        method="phone",
        safe_times="any time",
        text_ok=True,
        letters_ok=True,
        code_word="Kestrelcode",
        last_checked=TODAY,
        safe_address=SAFE,
        safe_postcode=SAFE_POSTCODE,
    )
    return replace(base, **changes)  # type: ignore[arg-type]


SCENARIOS = {
    s.name: s
    for s in (
        Scenario("all_safe", _safe()),
        Scenario("no_details", None),
        Scenario("do_not_contact", _safe(do_not_contact=True)),
        Scenario("no_letters", _safe(letters_ok=False)),
        Scenario("no_safe_address", _safe(safe_address="", safe_postcode="")),
        Scenario("no_texts", _safe(text_ok=False)),
        Scenario("outside_safe_times", _safe(safe_times="Weekdays 18:00-20:00")),
        Scenario("safe_times_unread", _safe(safe_times="Only when she calls first")),
        Scenario("confidential_address", _safe(), confidential=True),
        Scenario("alleged_perpetrator", _safe(), to_perpetrator=True),
        Scenario("processing_restricted", _safe(), restricted=True),
    )
}
# The MARAC referral form (app/services/marac_form.py) goes to the MARAC coordinator, whatever
# the person's own contact preferences: of the rules, the refuge address (and code word) and
# restriction apply.
MARAC_FORM = "marac_form"
OUTPUTS: tuple[str, ...] = (
    Output.APPOINTMENT,
    Output.CLOSURE,
    Output.CONSENT_SHEET,
    Output.AGENCY_LETTER,
    Output.TEXT,
    Output.SAR_COVER,
    MARAC_FORM,
)
POSTED_TO_CLIENT = (Output.APPOINTMENT, Output.CLOSURE, Output.CONSENT_SHEET)

# What each rule does to each output: a Rule refuses; "safe" is produced addressed only to the
# safe address; "allowed" is produced (no address of the client's on it, or withheld); "by_hand"
# is a pack whose covering letter carries no address and says it is not to be posted.
EXPECTED: dict[str, dict[str, object]] = {
    "all_safe": {**dict.fromkeys(POSTED_TO_CLIENT, "safe"), Output.AGENCY_LETTER: "allowed",
                 Output.TEXT: "allowed", Output.SAR_COVER: "safe"},
    "no_details": {**dict.fromkeys(POSTED_TO_CLIENT, Rule.NO_DETAILS),
                   Output.AGENCY_LETTER: "allowed", Output.TEXT: Rule.NO_DETAILS,
                   Output.SAR_COVER: "by_hand"},
    "do_not_contact": {**dict.fromkeys(POSTED_TO_CLIENT, Rule.DO_NOT_CONTACT),
                       Output.AGENCY_LETTER: "allowed", Output.TEXT: Rule.DO_NOT_CONTACT,
                       Output.SAR_COVER: "by_hand"},
    "no_letters": {**dict.fromkeys(POSTED_TO_CLIENT, Rule.NO_LETTERS),
                   Output.AGENCY_LETTER: "allowed", Output.TEXT: "allowed",
                   Output.SAR_COVER: "by_hand"},
    "no_safe_address": {**dict.fromkeys(POSTED_TO_CLIENT, Rule.NO_SAFE_ADDRESS),
                        Output.AGENCY_LETTER: "allowed", Output.TEXT: "allowed",
                        Output.SAR_COVER: "by_hand"},
    "no_texts": {**dict.fromkeys(POSTED_TO_CLIENT, "safe"), Output.AGENCY_LETTER: "allowed",
                 Output.TEXT: Rule.NO_TEXTS, Output.SAR_COVER: "safe"},
    "outside_safe_times": {**dict.fromkeys(POSTED_TO_CLIENT, "safe"),
                           Output.AGENCY_LETTER: "allowed",
                           Output.TEXT: Rule.OUTSIDE_SAFE_TIMES, Output.SAR_COVER: "safe"},
    "safe_times_unread": {**dict.fromkeys(POSTED_TO_CLIENT, "safe"),
                          Output.AGENCY_LETTER: "allowed",
                          Output.TEXT: Rule.UNREAD_SAFE_TIMES, Output.SAR_COVER: "safe"},
    "confidential_address": {**dict.fromkeys(POSTED_TO_CLIENT, "safe"),
                             Output.AGENCY_LETTER: "allowed", Output.TEXT: "allowed",
                             Output.SAR_COVER: "safe"},
    "alleged_perpetrator": {**dict.fromkeys(POSTED_TO_CLIENT, Rule.PERPETRATOR),
                            Output.AGENCY_LETTER: Rule.PERPETRATOR,
                            Output.TEXT: Rule.PERPETRATOR, Output.SAR_COVER: "by_hand"},
    # Restriction stops the client's data going to anyone else; what is addressed to the
    # client themselves still goes.
    "processing_restricted": {**dict.fromkeys(POSTED_TO_CLIENT, "safe"),
                              Output.AGENCY_LETTER: Rule.RESTRICTED, Output.TEXT: "allowed",
                              Output.SAR_COVER: "safe", MARAC_FORM: Rule.RESTRICTED},
}  # fmt: skip
for _row in EXPECTED.values():
    _row.setdefault(MARAC_FORM, "allowed")
# The share a letter to another agency is recorded as (the client has not consented).
AGENCY_SHARE = letters.AgencyShare(
    purpose="To support her application for a safe tenancy",
    lawful_basis=LawfulBasis.PUBLIC_TASK,
    reason="Housing must know she is at risk to prioritise her move.",
)


@dataclass(frozen=True)
class World:
    case: int
    client: int
    perpetrator: int
    professional: int


def _world(s: Session, scenario: Scenario) -> World:
    client = person(
        "Kim",
        "Ashdown",
        address=REFUGE if scenario.confidential else HOME,
        postcode=HOME_POSTCODE,
        address_confidential=scenario.confidential,
    )
    case_id = cases.create_referral(
        s, client, CaseDetails(referral_date=TODAY, referral_source="police")
    )
    client_id = case_model.client_id(s.conn, case_id)
    assert client_id is not None
    perpetrator = cases.add_person(
        s, case_id, person("Lee", "Ashdown", address=HOME), CaseRole.ALLEGED_PERPETRATOR
    )
    professional = cases.add_person(
        s,
        case_id,
        PersonDetails("Dana", "Officer", organisation="Northfield Housing", address="1 Civic St"),
        CaseRole.PROFESSIONAL,
    )
    if scenario.rules is not None:
        cases.set_safe_contact(s, case_id, replace(scenario.rules, person_id=client_id))
    if scenario.restricted:
        cases.restrict_person(s, client_id, "She objects to how we use her data")
    return World(case_id, client_id, perpetrator, professional)


def _marac_edits(s: Session, w: World) -> MaracEdits:
    """The case's MARAC referral form as a referrer would complete it."""
    prefilled = marac_form.prefill(s, w.case)
    return replace(
        MaracEdits.of(prefilled.form),
        marac="Northfield MARAC coordinator",
        reason=ReferralReason.PROFESSIONAL_JUDGEMENT,
        judgement_reason="Threats to kill reported twice this week, and he has a weapon.",
        lawful_basis=prefilled.bases[0],
        reason_without_consent="Crime prevention: to plan her safety with the other agencies.",
    )


def _marac_form(s: Session, w: World) -> str:
    """Issue the case's MARAC referral form and return its PDF's text."""
    return _pdf_text(marac_form.issue(s, w.case, _marac_edits(s, w)).pdf)


def _produce(s: Session, w: World, scenario: Scenario, output: str) -> str:
    """Produce ``output`` as the scenario says and return what a user reads on it."""
    if output == MARAC_FORM:
        return _marac_form(s, w)
    addressee = w.perpetrator if scenario.to_perpetrator else w.client
    if output is Output.AGENCY_LETTER:
        addressee = w.perpetrator if scenario.to_perpetrator else w.professional
        return _pdf_text(
            letters.letter_pdf(s, w.case, addressee, output, share=AGENCY_SHARE, compress=False)
        )
    if output is Output.TEXT:
        return letters.prepare_text(s, w.case, addressee).body
    if output is Output.SAR_COVER:
        request = rights.create_request(
            s,
            rights.RequestDraft(
                kind=RightKind.ACCESS,
                requester="The data subject",
                received_on=TODAY,
                subject_person_id=addressee,
                identity_confirmed_on=TODAY,
            ),
        )
        if scenario.to_perpetrator:
            sar.preview(s, request.id)
            sar.sign_off(
                s, request.id, "Checked", sole_manager_reason="The only manager on duty today"
            )
        pdf = sar.print_pack(s, request.id, compress=False)
        return _pdf_text(pdf, first_page_only=True)
    return _pdf_text(letters.letter_pdf(s, w.case, addressee, output, appointment="Friday at 2pm"))


@pytest.mark.parametrize("output", OUTPUTS, ids=[str(o) for o in OUTPUTS])
@pytest.mark.parametrize("name", list(SCENARIOS))
def test_every_rule_against_every_output(store: StoreCopy, name: str, output: str) -> None:
    scenario, expected = SCENARIOS[name], EXPECTED[name][output]
    with signed_in(store, MANAGER) as s:
        s.now = lambda: TUESDAY_11
        w = _world(s, scenario)
        before = audit_head(s)
        if isinstance(expected, Rule):
            with pytest.raises(letters.LetterRefused) as refused:
                _produce(s, w, scenario, output)
            assert refused.value.decision.rule is expected
            message = str(refused.value)
            assert message.endswith(".") and message.count(". ") == 0, message
            actions = {e.action for e in audit_since(s, before)}
            assert not actions & {audit.LETTER_PRODUCED, audit.TEXT_PREPARED}
            return
        seen = _produce(s, w, scenario, output)
    # Never a confidential (refuge) address, never the code word; nothing addressed to the
    # client carries the address on record (a letter to an agency may, when not confidential).
    to_others = output in (Output.AGENCY_LETTER, MARAC_FORM)
    unsafe_words = [REFUGE, "Kestrelcode"] + ([] if to_others else [HOME])
    for unsafe in unsafe_words:
        assert unsafe not in seen, f"{unsafe!r} is on the {output}"
    if expected == "safe":
        assert SAFE in seen and SAFE_POSTCODE in seen
    elif expected == "by_hand":
        assert "By hand: not to be posted." in seen
        assert SAFE not in seen
    if output is Output.AGENCY_LETTER and scenario.confidential:
        assert contact_rules.WITHHELD_ADDRESS in seen
    if output == MARAC_FORM:
        assert ("Confidential: held by" in seen) is scenario.confidential
    if output is Output.TEXT:
        assert "Kim" in seen


# -- overrides -----------------------------------------------------------------------------------


def _client_world(store: StoreCopy, rules: SafeContact | None) -> World:
    with signed_in(store, CASEWORKER) as s:  # allocated to the caseworker who made it
        return _world(s, Scenario("custom", rules))


def test_a_caseworker_cannot_override_and_a_manager_can_with_a_reason(store: StoreCopy) -> None:
    w = _client_world(store, _safe(letters_ok=False))
    reason = "Handed to her at the office on Friday"
    with signed_in(store, CASEWORKER) as s, pytest.raises(PermissionDenied):
        letters.letter(s, w.case, w.client, Output.CLOSURE, override_reason=reason)
    with signed_in(store, MANAGER) as s:
        with pytest.raises(InvalidInput):
            letters.letter(s, w.case, w.client, Output.CLOSURE, override_reason="ok")
        before = audit_head(s)
        made = letters.letter(s, w.case, w.client, Output.CLOSURE, override_reason=reason)
        # Handed over, not posted: no address at all, never the one on record.
        assert made.address == ()
        entries = audit_since(s, before)
    [overridden] = [e for e in entries if e.action == audit.CONTACT_RULE_OVERRIDDEN]
    assert "rule=no_letters" in overridden.detail and reason not in overridden.detail
    assert all("Friday" not in e.detail and "Kim" not in e.detail for e in entries)
    with signed_in(store, DPO) as s:
        [kept] = letters.overrides(s)
    assert (kept.reason, kept.rule, kept.case_id) == (reason, "no_letters", w.case)
    with signed_in(store, CASEWORKER) as s, pytest.raises(PermissionDenied):
        letters.overrides(s)


def test_an_override_never_reaches_a_rule_that_cannot_be_overridden(store: StoreCopy) -> None:
    w = _client_world(store, _safe(do_not_contact=True, text_ok=False))
    with signed_in(store, MANAGER) as s:
        for addressee, output, rule in (
            (w.perpetrator, Output.APPOINTMENT, Rule.PERPETRATOR),
            (w.client, Output.TEXT, Rule.NO_TEXTS),  # do not contact waived; no texts stands
        ):
            with pytest.raises(letters.LetterRefused) as refused:
                letters.letter_pdf(
                    s, w.case, addressee, output, appointment="Monday", override_reason="x" * 20
                ) if output is not Output.TEXT else letters.prepare_text(
                    s, w.case, addressee, override_reason="x" * 20
                )
            assert refused.value.decision.rule is rule
        # Nothing is left behind by a refusal that had waived an earlier rule.
        assert letters.overrides(s) == []


def test_unread_safe_times_need_the_sender_to_confirm(store: StoreCopy) -> None:
    w = _client_world(store, _safe(safe_times="Only when she calls first"))
    with signed_in(store, CASEWORKER) as s:
        with pytest.raises(letters.LetterRefused, match="confirm it is a safe time"):
            letters.prepare_text(s, w.case, w.client)
        before = audit_head(s)
        text = letters.prepare_text(s, w.case, w.client, safe_time_confirmed=True)
        [entry] = [e for e in audit_since(s, before) if e.action == audit.TEXT_PREPARED]
    assert text.number == SAFE_NUMBER
    assert entry.detail == f"person:{w.client} kind=text safe_time_confirmed"


@pytest.mark.parametrize(
    ("safe_times", "moment", "inside"),
    [
        ("Weekdays 9:30-14:30 (school hours)", "2026-03-03T10:00:00Z", True),
        ("Weekdays 9:30-14:30 (school hours)", "2026-03-07T10:00:00Z", False),  # Saturday
        ("Tuesday and Thursday afternoons", "2026-03-03T13:00:00Z", True),
        ("Tuesday and Thursday afternoons", "2026-03-04T13:00:00Z", False),
        ("Mornings before 11", "2026-03-03T10:59:00Z", True),
        ("Mornings before 11", "2026-03-03T11:00:00Z", False),
        ("Mon-Fri 10-2", "2026-03-06T13:30:00Z", True),
        ("weekdays after 6pm", "2026-03-03T17:59:00Z", False),
        # British Summer Time: 10:30 in the UK is 09:30 UTC.
        ("Weekdays 10:00-12:00", "2026-06-02T09:30:00Z", True),
    ],
)
def test_safe_times_are_read_against_the_uk_clock(
    safe_times: str, moment: str, inside: bool
) -> None:
    windows = contact_rules.read_safe_times(safe_times)
    assert windows is not None
    when = dt.datetime.fromisoformat(moment.replace("Z", "+00:00")).astimezone(UK)
    assert windows.contains(when) is inside


@pytest.mark.parametrize(
    "safe_times", ["Only when the client calls first", "Not weekends", "Weekdays except Friday"]
)
def test_safe_times_with_a_condition_are_never_guessed(safe_times: str) -> None:
    assert contact_rules.read_safe_times(safe_times) is None


# -- templates -----------------------------------------------------------------------------------


def test_an_admin_changes_a_template_and_the_next_letter_uses_it(store: StoreCopy) -> None:
    w = _client_world(store, _safe())
    with signed_in(store, ADMIN) as s:
        with pytest.raises(InvalidInput, match=r"\{client_nickname\}"):
            letters.set_template(s, Output.CLOSURE, "Closing", "Dear {client_nickname}")
        with pytest.raises(InvalidInput, match="brace"):
            letters.set_template(s, Output.CLOSURE, "Closing", "Dear {client_name")
        changed = letters.set_template(
            s, Output.CLOSURE, "Goodbye for now", "Dear {client_name}, case {case_reference}."
        )
        assert changed.custom
    with signed_in(store, CASEWORKER) as s, pytest.raises(PermissionDenied):
        letters.set_template(s, Output.CLOSURE, "x", "y")
    with signed_in(store, MANAGER) as s:
        made = letters.letter(s, w.case, w.client, Output.CLOSURE)
        assert made.subject == "Goodbye for now"
        assert made.body.startswith("Dear Kim Ashdown, case SC-")
    with signed_in(store, ADMIN) as s:
        back = letters.reset_template(s, Output.CLOSURE)
        assert not back.custom and back.body == letters.DEFAULTS[Output.CLOSURE][1]


def test_every_default_template_fills_with_known_placeholders() -> None:
    for kind, (subject, body) in letters.DEFAULTS.items():
        shown = letters.preview(subject, body)
        assert "{" not in shown and "}" not in shown, kind


def test_the_subject_access_pack_holds_the_safe_address_and_every_override(
    store: StoreCopy,
) -> None:
    w = _client_world(store, _safe(letters_ok=False))
    reason = "Given to her in person at the Friday drop-in"
    with signed_in(store, MANAGER) as s:
        letters.letter(s, w.case, w.client, Output.CONSENT_SHEET, override_reason=reason)
        request = rights.create_request(
            s,
            rights.RequestDraft(
                kind=RightKind.ACCESS,
                requester="The data subject",
                received_on=TODAY,
                subject_person_id=w.client,
                identity_confirmed_on=TODAY,
            ),
        )
        pack = sar.preview(s, request.id)
    shown = {item.label: item.disclosed() for item in pack.items()}
    assert shown["Safe address for letters"] == SAFE
    assert shown["Safe postcode for letters"] == SAFE_POSTCODE
    assert shown["The manager's reason"] == reason
    assert shown["The rule a manager overrode"] == "no letters"


def test_a_merged_record_takes_its_overrides_to_the_kept_one(store: StoreCopy) -> None:
    """One person recorded twice, a letter overridden for the duplicate: confirming the merge
    keeps the override (and its reason) with the record kept."""
    from app.services import merges

    first = _client_world(store, _safe(letters_ok=False))
    second = _client_world(store, None)
    with signed_in(store, MANAGER) as s:
        letters.letter(
            s, first.case, first.client, Output.CLOSURE, override_reason="Collected at the office"
        )
        merge_id = merges.merge_people(s, second.client, first.client)
        merges.confirm_merge(s, merge_id)
        [kept_override] = letters.overrides(s)
    assert (kept_override.person_id, kept_override.reason) == (
        second.client,
        "Collected at the office",
    )


# -- a letter to another agency is a share ----------------------------------------------------


def _agency_world(store: StoreCopy) -> World:
    """The caseworker's case, with the professional's agency (housing) on it."""
    w = _client_world(store, _safe())
    with signed_in(store, CASEWORKER) as s:
        categories.add_agency(
            s, w.case, Agency(AgencyType.HOUSING, "Northfield Housing", "Dana Officer")
        )
    return w


def test_a_letter_to_another_agency_is_recorded_in_the_sharing_log(store: StoreCopy) -> None:
    w = _agency_world(store)
    with signed_in(store, CASEWORKER) as s:
        shown = letters.agency_sharing(s, w.case, w.professional)
        assert shown.recipient is RecipientCategory.HOUSING
        assert shown.gaps == {w.client: ConsentState.NOT_ASKED}
        assert LawfulBasis.CONSENT not in shown.bases
        before = audit_head(s)
        made = letters.letter(s, w.case, w.professional, Output.AGENCY_LETTER, share=AGENCY_SHARE)
        entries = audit_since(s, before)
        [share] = sharing.shares(s, w.case)
    assert made.share == share
    record = share.record
    assert record.direction is Direction.OUT
    assert (record.organisation, record.recipient_category) == (
        "Northfield Housing",
        RecipientCategory.HOUSING,
    )
    assert record.person_ids == (w.client,)
    assert record.data_categories == ("name", "address", "date of birth", "referral")
    assert (record.purpose, record.lawful_basis) == (AGENCY_SHARE.purpose, LawfulBasis.PUBLIC_TASK)
    # Without consent and without a manager: a manager reviews it, as for any share.
    assert share.approval is ShareApproval.AWAITING_REVIEW
    [produced] = [e for e in entries if e.action == audit.LETTER_PRODUCED]
    assert f"share:{share.id}" in produced.detail
    with signed_in(store, MANAGER) as s:
        assert [i.share.id for i in sharing.awaiting_review(s)] == [share.id]


def test_a_letter_to_another_agency_without_what_the_share_needs_is_refused_leaving_nothing(
    store: StoreCopy,
) -> None:
    w = _agency_world(store)
    with signed_in(store, CASEWORKER) as s:
        before = audit_head(s)
        with pytest.raises(InvalidInput, match="sharing log"):
            letters.letter(s, w.case, w.professional, Output.AGENCY_LETTER)
        on_consent = replace(AGENCY_SHARE, lawful_basis=LawfulBasis.CONSENT)
        with pytest.raises(InvalidInput, match="Consent to share with this recipient is not asked"):
            letters.letter_pdf(s, w.case, w.professional, Output.AGENCY_LETTER, share=on_consent)
        no_reason = replace(AGENCY_SHARE, reason="")
        with pytest.raises(InvalidInput, match="reason for sharing without consent"):
            letters.letter(s, w.case, w.professional, Output.AGENCY_LETTER, share=no_reason)
        assert sharing.shares(s, w.case) == []
        assert not [e for e in audit_since(s, before) if e.action == audit.LETTER_PRODUCED]
        consent.record_consent(
            s,
            w.case,
            w.client,
            ConsentPurpose.SHARING,
            RecipientCategory.HOUSING.value,
            ConsentState.GIVEN,
            decided_on=TODAY,
            how=ConsentHow.WRITTEN,
        )
        made = letters.letter(s, w.case, w.professional, Output.AGENCY_LETTER, share=on_consent)
    assert made.share is not None and made.share.approval is ShareApproval.NOT_NEEDED


# -- restriction of processing ----------------------------------------------------------------


def test_a_restricted_persons_data_goes_to_another_agency_only_on_a_managers_art_18_2_ground(
    store: StoreCopy,
) -> None:
    w = _agency_world(store)
    reason = "She is in danger tonight and housing must move her now"
    with signed_in(store, MANAGER) as s:
        cases.restrict_person(s, w.client, "She contests the accuracy of her record")
    with signed_in(store, CASEWORKER) as s:
        with pytest.raises(letters.LetterRefused) as refused:
            letters.letter(s, w.case, w.professional, Output.AGENCY_LETTER, share=AGENCY_SHARE)
        assert refused.value.decision.rule is Rule.RESTRICTED
        with pytest.raises(PermissionDenied):
            letters.letter(
                s,
                w.case,
                w.professional,
                Output.AGENCY_LETTER,
                share=AGENCY_SHARE,
                override_reason=reason,
                restriction_ground=RestrictionGround.PROTECT_ANOTHER,
            )
        # A letter to the person themselves is not refused for restriction.
        assert letters.letter(s, w.case, w.client, Output.CLOSURE).address[1] == SAFE
    with signed_in(store, MANAGER) as s:
        with pytest.raises(InvalidInput, match="Article 18"):
            letters.letter(
                s,
                w.case,
                w.professional,
                Output.AGENCY_LETTER,
                share=AGENCY_SHARE,
                override_reason=reason,
            )
        assert sharing.shares(s, w.case) == []
        before = audit_head(s)
        made = letters.letter(
            s,
            w.case,
            w.professional,
            Output.AGENCY_LETTER,
            share=AGENCY_SHARE,
            override_reason=reason,
            restriction_ground=RestrictionGround.PROTECT_ANOTHER,
        )
        entries = audit_since(s, before)
    assert made.share is not None and made.share.record.person_ids == (w.client,)
    [overridden] = [e for e in entries if e.action == audit.CONTACT_RULE_OVERRIDDEN]
    assert "rule=processing_restricted ground=protect_another_person" in overridden.detail
    assert reason not in overridden.detail
    with signed_in(store, DPO) as s:
        [kept] = letters.overrides(s)
    assert kept.rule == "processing_restricted" and kept.person_id == w.client
    assert kept.reason.startswith("Art. 18(2): to protect the rights of another person")
    assert reason in kept.reason


def test_a_marac_form_carrying_a_restricted_persons_data_needs_a_managers_ground(
    store: StoreCopy,
) -> None:
    """Restriction of anyone on the form, not only the person at risk, stops the form."""
    w = _client_world(store, _safe())
    with signed_in(store, MANAGER) as s:
        cases.restrict_person(s, w.perpetrator, "He disputes what the record says about him")
    with signed_in(store, CASEWORKER) as s:
        edits = _marac_edits(s, w)
        with pytest.raises(letters.LetterRefused) as refused:
            marac_form.issue(s, w.case, edits)
        assert refused.value.decision.rule is Rule.RESTRICTED
        assert marac_form.issued_forms(s, w.case) == []
    grounded = replace(
        edits,
        override_reason="Safeguarding her: the MARAC must know of his threats",
        restriction_ground=RestrictionGround.PROTECT_ANOTHER,
    )
    with signed_in(store, MANAGER) as s:
        issued = marac_form.issue(s, w.case, grounded)
        [kept] = letters.overrides(s)
    assert w.perpetrator in issued.share.record.person_ids
    assert (kept.person_id, kept.output, kept.rule) == (
        w.perpetrator,
        "marac_form",
        "processing_restricted",
    )


# -- one place decides what never goes to someone else ---------------------------------------


def test_the_rules_find_a_refuge_address_or_the_code_word_in_text_for_someone_else() -> None:
    hidden = "Refuge House, 9 Hidden Lane"
    details = PersonDetails("Kim", "Ashdown", address=hidden, postcode="ZZ2 2RF")
    refuge = Person(1, replace(details, address_confidential=True))
    home = Person(2, PersonDetails("Lee", "Ashdown", address=HOME, postcode=HOME_POSTCODE))
    people = [refuge, home]
    assert contact_rules.secret_in("She is at 9 hidden-lane now", people, "") is (
        contact_rules.Secret.CONFIDENTIAL_ADDRESS
    )
    assert contact_rules.secret_in("Postcode zz22rf", people, "") is (
        contact_rules.Secret.CONFIDENTIAL_ADDRESS
    )
    # An address that is not confidential may be shared; the code word only as a word.
    assert contact_rules.secret_in(f"He lives at {HOME}", people, "") is None
    assert contact_rules.secret_in("Say KESTRELCODE if safe", people, "Kestrelcode") is (
        contact_rules.Secret.CODE_WORD
    )
    assert contact_rules.secret_in("Kestrelcodes are birds", people, "Kestrelcode") is None

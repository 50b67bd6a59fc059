"""Subject access packs: what goes in, what is redacted, the perpetrator safeguard, sign-off,
the redaction log, the files written and their audit."""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
import re
import zipfile
from pathlib import Path

import pytest

from app.crypto.device import DeviceSecrets
from app.crypto.memory_keyring import MemoryKeyring
from app.errors import InvalidInput, PermissionDenied
from app.models import rights as rights_model
from app.models.categories import (
    AgencyType,
    Answer,
    ChildDetails,
    ChildProtection,
    Ethnicity,
    LegalItem,
    LegalKind,
    LivesWith,
    OrderType,
    PersonCategories,
    ReferralSource,
    Religion,
)
from app.models.records import NoteKind
from app.models.redaction import Exemption, Source
from app.models.retention import Policy, retention_statement
from app.models.rights import Action, RightKind
from app.models.users import Role
from app.services import accounts, audit, categories, notes, retention, rights, sar, sar_pdf
from app.services.sar import EXPORT_MARK, PackRefused, SarPack
from app.services.session import Session
from tests.helpers import ADMIN, CASEWORKER, DPO, MANAGER, StoreCopy, copy_store
from tests.services.casework import TODAY, audit_head, audit_since, signed_in
from tests.services.sar_world import (
    CALL,
    DARREN_OWN,
    NOT_FOR_DARREN,
    NOT_FOR_DARREN_DIGITS,
    SAFETY_PLAN,
    SarWorld,
    build_world,
    leaks,
    pdf_text,
)

REASON = "She named him to us herself; known to the requester"
SOLE = "The only other manager is on leave this month"


@pytest.fixture(scope="module")
def world(template_store: StoreCopy, tmp_path_factory: pytest.TempPathFactory) -> SarWorld:
    path = copy_store(template_store.path, tmp_path_factory.mktemp("sar-world"))
    return build_world(StoreCopy(path, template_store.keyring, ""))


@pytest.fixture
def w(world: SarWorld, keyring: MemoryKeyring, tmp_path: Path) -> SarWorld:
    """A copy of the world for one test, its device secret in this test's keyring."""
    keyring.values.update(world.keyring.values)
    path = copy_store(world.path, tmp_path / "store")
    return SarWorld(**{**world.__dict__, "path": path, "keyring": keyring})


def _request(s: Session, person_id: int, *, confirmed: bool = True) -> int:
    request = rights.create_request(
        s,
        rights.RequestDraft(
            kind=RightKind.ACCESS,
            requester="The data subject",
            received_on=TODAY - dt.timedelta(days=3),
            subject_person_id=person_id,
            identity_confirmed_on=TODAY - dt.timedelta(days=2) if confirmed else None,
        ),
    )
    return request.id


def _span(pack: SarPack, key: str, text: str) -> tuple[int, int]:
    start = pack.item(key).text.index(text)
    return start, start + len(text)


def _export(s: Session, request_id: int, folder: Path, **kw: bool) -> dict[str, bytes]:
    result = sar.export_pack(s, request_id, folder, compress=False, **kw)
    return {path.name: path.read_bytes() for path in result.written}


def _texts(files: dict[str, bytes]) -> list[str]:
    """What a reader of the files sees: the PDF's text, the JSON, the manifest."""
    texts = []
    for name, data in files.items():
        if name.endswith(".pdf"):
            texts += [pdf_text(data), data.decode("latin-1")]
        else:
            texts.append(json.dumps(json.loads(data), ensure_ascii=False))
    return texts


# -- the perpetrator safeguard ------------------------------------------------------------------


def test_a_perpetrators_pack_holds_their_own_data_and_nothing_that_finds_the_survivor(
    w: SarWorld, tmp_path: Path
) -> None:
    with signed_in(w.store, MANAGER) as s:
        request_id = _request(s, w.darren)
        pack = sar.preview(s, request_id)
        assert pack.perpetrator and pack.needs_signoff and not pack.ready
        assert "ALLEGED PERPETRATOR" in pack.warnings[0]
        assert len(pack.perpetrator_cases) == 2
        sar.sign_off(s, request_id, "Checked line by line", sole_manager_reason=SOLE)
        files = _export(s, request_id, tmp_path / "out")
    texts = _texts(files)
    pdf, document = texts[0], texts[2]
    assert leaks(texts, NOT_FOR_DARREN, NOT_FOR_DARREN_DIGITS) == []
    for own in DARREN_OWN:
        assert own in pdf, own
        assert own in document, own
    # Professionals acting in their role are not redacted.
    for professional in ("Dana Whitlock", "Northfield Police", "Detective Constable"):
        assert professional in pdf and professional in document
    assert "[REDACTED: serious_harm" in document
    assert "REDACTED: serious harm" in pdf
    # Both cases he appears on are there; the survivor's note that does not mention him is not.
    assert "SC-2026-000001" in pdf or "Case SC-" in pdf
    assert document.count('"title": "Case SC-') == 2
    assert "housing appointment" not in document


def test_a_perpetrators_pack_is_refused_until_a_manager_signs_it_off(
    w: SarWorld, tmp_path: Path
) -> None:
    with signed_in(w.store, MANAGER) as s:
        request_id = _request(s, w.darren)
        with pytest.raises(PackRefused, match="sign it off"):
            sar.export_pack(s, request_id, tmp_path / "out")
        with pytest.raises(PackRefused, match="sign it off"):
            sar.print_pack(s, request_id)
        assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())
    with signed_in(w.store, CASEWORKER) as s, pytest.raises(PermissionDenied):
        sar.sign_off(s, request_id, "Checked", sole_manager_reason=SOLE)
    with signed_in(w.store, DPO) as s, pytest.raises(PermissionDenied):
        sar.sign_off(s, request_id, "Checked", sole_manager_reason=SOLE)
    with signed_in(w.store, MANAGER) as s:
        signoff = sar.sign_off(s, request_id, "Checked", sole_manager_reason=SOLE)
        assert sar.preview(s, request_id).ready
        assert rights_model.signoffs(s.conn, request_id)[-1].id == signoff
        sar.export_pack(s, request_id, tmp_path / "out")
        assert sar.print_pack(s, request_id).startswith(b"%PDF")
        # A change to what would go out needs a new sign-off.
        pack = sar.preview(s, request_id)
        start, end = _span(pack, f"note:{w.call}:body", "Daz threatened her")
        sar.disclose(s, request_id, f"note:{w.call}:body", start, end, REASON)
        with pytest.raises(PackRefused, match="changed since it was last signed off"):
            sar.export_pack(s, request_id, tmp_path / "again")
        sar.sign_off(s, request_id, "Checked", sole_manager_reason=SOLE)
        sar.export_pack(s, request_id, tmp_path / "again")


def test_a_reviewer_cannot_disclose_the_survivors_safe_contact_details(
    w: SarWorld, tmp_path: Path
) -> None:
    key = f"note:{w.call}:body"
    with signed_in(w.store, MANAGER) as s:
        request_id = _request(s, w.darren)
        pack = sar.preview(s, request_id)
        assert pack.item(key).text == CALL
        protected = {(sp.start, sp.end): sp.why for sp in pack.item(key).spans if sp.protected}
        assert sorted(protected.values()) == [
            "confidential address",
            "safe contact code word",
            "safe contact number",
        ]
        head = audit_head(s)
        for text in ("07700 900582", "900582", "bluebell", "NF4 7QX", CALL):
            start, end = _span(pack, key, text)
            with pytest.raises(PackRefused, match="never disclosed"):
                sar.disclose(s, request_id, key, start, end, "The requester already knows it")
        assert audit_since(s, head) == []
        assert rights_model.decisions(s.conn, request_id) == []
        # His own part of the same note can be disclosed, and then appears.
        start, end = _span(pack, key, "She says Daz threatened her at the school gate")
        sar.disclose(s, request_id, key, start, end, "What he is said to have done")
        sar.sign_off(s, request_id, "Checked", sole_manager_reason=SOLE)
        files = _export(s, request_id, tmp_path / "out")
    texts = _texts(files)
    document = texts[2]
    assert "She says Daz threatened her at the school gate[REDACTED: " in document
    assert leaks(texts, NOT_FOR_DARREN, NOT_FOR_DARREN_DIGITS) == []


# -- a client's own pack -----------------------------------------------------------------------


def test_a_clients_pack_holds_her_data_in_full_and_the_perpetrator_redacted(
    w: SarWorld, tmp_path: Path
) -> None:
    with signed_in(w.store, MANAGER) as s:
        request_id = _request(s, w.jane)
        pack = sar.preview(s, request_id)
        assert not pack.perpetrator and pack.ready and pack.warnings == ()
        files = _export(s, request_id, tmp_path / "out")
    texts = _texts(files)
    pdf, document = texts[0], texts[2]
    for own in (
        "Jane Wexford",
        "Janey Marsh",
        "Flat 3, Orchard House, 27 Kestrel Lane",
        "NF4 7QX",
        "07700 900461",
        "07700 900582",
        "bluebell",
        "jane.wexford@example.org",
        "1990-04-12",
        "Housing options team",
        "Jane attended her housing appointment.",
        "15 of 24",
        "Dana Whitlock",
    ):
        assert own in document, own
        assert own in pdf, own
    darren = ("Darren", "Holt", "Daz", "14 Mill Road", "SG2 1AB", "d.holt@example.net")
    assert leaks(texts, (*darren, "1986-09-03", "Poppy", "19/02/2016"), ("07700900777",)) == []
    assert "[REDACTED: third_party] rang the office from [REDACTED: third_party]" in document
    # The other survivor on his second case is nothing to do with her.
    assert leaks(texts, ("Sasha", "Brennan", "kingfisher")) == []


def test_variants_of_a_third_partys_identifiers_are_redacted_and_say_which_rule_matched(
    w: SarWorld,
) -> None:
    """A note writes his details the way people type them: capitals, his street without the
    house number, his postcode without its space, his date of birth with a month name. Each
    is withheld, and the reviewer sees which identifier and which rule matched each run."""
    text = (
        "HOLT was seen on Mill Road on Friday; his postcode is sg21ab and his date of birth "
        "03-Sep-1986 (also given as 3rd September 1986)."
    )
    with signed_in(w.store, MANAGER) as s:
        note = notes.add_note(s, w.case, NoteKind.NOTE, text, dt.datetime.now(dt.UTC))
        item = sar.preview(s, _request(s, w.jane)).item(f"note:{note}:body")
    shown = item.disclosed()
    for variant in ("HOLT", "Mill Road", "sg21ab", "03-Sep-1986", "3rd September 1986"):
        assert variant not in shown, variant
    assert "was seen on" in shown and "on Friday" in shown
    assert [(text[sp.start : sp.end], sp.why) for sp in item.spans] == [
        ("HOLT", "name"),
        ("Mill Road", "street name without its house number"),
        ("sg21ab", "postcode"),
        ("03-Sep-1986", "date of birth, with the month's name"),
        ("3rd September 1986", "date of birth, with the month's name"),
    ]


def test_a_reviewer_discloses_one_span_with_a_reason_and_the_log_keeps_it_apart(
    w: SarWorld, tmp_path: Path
) -> None:
    key = f"case:{w.case}:safety_plan"
    with signed_in(w.store, MANAGER) as s:
        request_id = _request(s, w.jane)
        pack = sar.preview(s, request_id)
        assert pack.item(key).text == SAFETY_PLAN
        start, end = _span(pack, key, "Darren Holt")
        with pytest.raises(InvalidInput, match="why"):
            sar.disclose(s, request_id, key, start, end, " ")
        decision = sar.disclose(s, request_id, key, start, end, REASON)
        after = sar.preview(s, request_id).item(key)
        assert "release her to Darren Holt." in after.disclosed()
        assert "Call 999 if [REDACTED: third_party] appears" in after.disclosed()
        # A reviewer's redaction of some other words, with its code.
        start2, end2 = _span(pack, key, "Call 999")
        with pytest.raises(InvalidInput, match="other"):
            sar.redact(s, request_id, key, start2, end2, Exemption.OTHER)
        redaction = sar.redact(s, request_id, key, start2, end2, Exemption.CRIME_PREVENTION)
        item = sar.preview(s, request_id).item(key)
        assert [sp.source for sp in item.spans if sp.code == "crime_prevention"] == [
            Source.REVIEWER
        ]
        files = _export(s, request_id, tmp_path / "out")
        log = sar.redaction_log(s, request_id)
    first = next(d for d in log if d.id == decision)
    assert first.item.startswith(f"{key}@")
    assert (first.start, first.end, first.action, first.code) == (start, end, Action.DISCLOSE, "")
    assert first.reason == REASON and first.decided_by_name == MANAGER
    assert first.decided_at.startswith(TODAY.isoformat()[:4])
    second = next(d for d in log if d.id == redaction)
    assert (second.action, second.code) == (Action.REDACT, "crime_prevention")
    # The export added the automatic redactions it applied, by whom and when.
    applied = [d for d in log if d.reason.startswith(EXPORT_MARK)]
    assert applied and {d.code for d in applied} <= {"third_party", "serious_harm"}
    assert {d.decided_by_name for d in applied} == {MANAGER}
    assert any(d.reason == f"{EXPORT_MARK}automatic: name" for d in applied)
    # The log is kept with the request, never in what is sent.
    texts = _texts(files)
    assert "Darren Holt." in texts[2]
    assert "REDACTED: crime prevention" in texts[0]  # the code labels its box
    keys = (f"{key}@", f"note:{w.visit}:", "safety_plan")
    assert leaks(texts, (REASON, EXPORT_MARK.strip(), *keys)) == []
    # The DPO reads the log; a caseworker may not.
    with signed_in(w.store, DPO) as s:
        assert len(sar.redaction_log(s, request_id)) == len(log)
    with signed_in(w.store, CASEWORKER) as s, pytest.raises(PermissionDenied):
        sar.redaction_log(s, request_id)


def test_a_text_changed_after_review_is_withheld_whole_until_reviewed_again(
    w: SarWorld,
) -> None:
    key = f"note:{w.housing}:body"
    with signed_in(w.store, MANAGER) as s:
        request_id = _request(s, w.jane)
        pack = sar.preview(s, request_id)
        start, end = _span(pack, key, "housing")
        sar.redact(s, request_id, key, start, end, Exemption.OTHER, "Another agency's view")
        notes.correct_note(s, w.housing, "Jane attended her housing appointment at 10am.", "time")
        item = sar.preview(s, request_id).item(key)
        assert item.stale and item.disclosed() == "[REDACTED: other]"
        assert any(
            "changed after a reviewer" in text for text in sar.preview(s, request_id).warnings
        )
        sar.disclose(s, request_id, key, 0, 4, "Reviewed again: her name")
        partly = sar.preview(s, request_id).item(key)
        assert partly.stale and partly.disclosed() == "Jane[REDACTED: other]"
        sar.disclose(s, request_id, key, 0, len(item.text), "Reviewed again: all hers")
        again = sar.preview(s, request_id).item(key)
        assert not again.stale and again.disclosed() == item.text


# -- the files and their audit ------------------------------------------------------------------


def test_manifest_hashes_match_and_the_export_and_print_are_audited_by_id(
    w: SarWorld, tmp_path: Path
) -> None:
    with signed_in(w.store, MANAGER) as s:
        request_id = _request(s, w.jane)
        reference = rights.get_request(s, request_id).reference
        head = audit_head(s)
        steps: list[tuple[int, int, str]] = []
        result = sar.export_pack(
            s, request_id, tmp_path / "out", progress=lambda *a: steps.append(a)
        )
        pdf = sar.print_pack(s, request_id)
        zipped = sar.export_pack(s, request_id, tmp_path / "zip", as_zip=True)
        entries = audit_since(s, head)
    assert steps[0][0] == 0 and steps[-1][0] == steps[-1][1]
    names = sorted(p.name for p in result.written)
    assert names == sorted([f"{reference}.pdf", f"{reference}.json", f"{reference}-manifest.json"])
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == names
    manifest = json.loads((tmp_path / "out" / f"{reference}-manifest.json").read_text())
    assert manifest["reference"] == reference
    assert {f["name"] for f in manifest["files"]} == {f"{reference}.pdf", f"{reference}.json"}
    for listed in manifest["files"]:
        data = (tmp_path / "out" / listed["name"]).read_bytes()
        assert hashlib.sha256(data).hexdigest() == listed["sha256"]
        assert len(data) == listed["bytes"]
    assert (tmp_path / "out" / f"{reference}.pdf").stat().st_mode & 0o077 == 0
    assert pdf.startswith(b"%PDF")
    # The zip holds the same three files, its manifest matching them.
    assert [p.name for p in zipped.written] == [f"{reference}.zip"]
    with zipfile.ZipFile(zipped.written[0]) as bundle:
        assert sorted(bundle.namelist()) == names
        inner = json.loads(bundle.read(f"{reference}-manifest.json"))
        for listed in inner["files"]:
            assert hashlib.sha256(bundle.read(listed["name"])).hexdigest() == listed["sha256"]
    # Audited with ids only.
    actions = [(e.action, e.record) for e in entries]
    assert (audit.SAR_EXPORTED, f"rights:{request_id}") in actions
    assert (audit.SAR_PRINTED, f"rights:{request_id}") in actions
    exported = [e for e in entries if e.action == audit.SAR_EXPORTED]
    assert len(exported) == 2
    # Jane's safe-contact details say no letters: her pack is handed over, never posted.
    assert re.fullmatch(r"export:\d+ files=3 zip=no cover=by_hand", exported[0].detail)
    assert re.fullmatch(r"export:\d+ files=3 zip=yes cover=by_hand", exported[1].detail)
    printed = next(e for e in entries if e.action == audit.SAR_PRINTED)
    assert printed.detail == "cover=by_hand"


def test_the_audit_trail_never_names_anyone(w: SarWorld, tmp_path: Path) -> None:
    with signed_in(w.store, MANAGER) as s:
        head = audit_head(s)
        request_id = _request(s, w.darren)
        pack = sar.preview(s, request_id)
        start, end = _span(pack, f"note:{w.call}:body", "Daz threatened her")
        sar.disclose(s, request_id, f"note:{w.call}:body", start, end, REASON)
        start, end = _span(pack, f"note:{w.call}:body", "school gate")
        sar.redact(s, request_id, f"note:{w.call}:body", start, end, Exemption.SERIOUS_HARM)
        sar.sign_off(s, request_id, "Checked", sole_manager_reason=SOLE)
        sar.export_pack(s, request_id, tmp_path / "out")
        sar.print_pack(s, request_id)
        entries = audit_since(s, head)
    assert {e.action for e in entries} >= {
        audit.RIGHTS_REQUEST_CREATED,
        audit.SAR_PREVIEWED,
        audit.SAR_REDACTION,
        audit.SAR_SIGNED_OFF,
        audit.SAR_EXPORTED,
        audit.SAR_PRINTED,
    }
    lines = [f"{e.record} {e.detail}" for e in entries]
    assert leaks(lines, (*NOT_FOR_DARREN, *DARREN_OWN, "data subject", REASON, "Checked")) == []
    for line in lines:
        assert re.fullmatch(r"[a-z_]+:\d+[ a-z_=:\-\d]*", line.strip()), line


# -- four eyes on a perpetrator's pack ------------------------------------------------------------

SECOND, SECOND_PW = "mo", "harbour-thistle-cobalt-92"


def _second_manager(w: SarWorld) -> None:
    with signed_in(w.store, ADMIN) as s:
        accounts.add_user(s, SECOND, SECOND_PW, frozenset({Role.MANAGER}), must_change=False)


def test_the_manager_who_prepared_a_pack_cannot_sign_it_off_alone_without_a_reason(
    w: SarWorld, tmp_path: Path
) -> None:
    _second_manager(w)
    with signed_in(w.store, MANAGER) as s:
        request_id = _request(s, w.darren)
        pack = sar.preview(s, request_id)  # she builds the pack: she prepared it
        facts = sar.signoff_facts(s, request_id)
        assert facts.you_prepared and facts.prepared_by == (MANAGER,)
        assert facts.digest == pack.digest and facts.other_managers == 1
        assert facts.entries == sum(len(section.entries) for section in pack.sections) > 0
        with pytest.raises(InvalidInput, match="Add a note"):
            sar.sign_off(s, request_id, "  ")
        with pytest.raises(PackRefused, match="you prepared this pack"):
            sar.sign_off(s, request_id, "Checked every part")
        with pytest.raises(PackRefused, match="changed while you were reading"):
            sar.sign_off(s, request_id, "Checked", sole_manager_reason=SOLE, expected_sha256="0")
        assert rights_model.signoffs(s.conn, request_id) == []
        sar.sign_off(
            s, request_id, "Checked", sole_manager_reason=SOLE, expected_sha256=pack.digest
        )
        signed = rights_model.signoffs(s.conn, request_id)[-1]
        assert signed.sole_manager_reason == SOLE and signed.note == "Checked"
    # Another manager needs no reason: the pack then has had two pairs of eyes.
    with signed_in(w.store, MANAGER) as s:
        other_request = _request(s, w.darren)
        sar.preview(s, other_request)
    s = accounts.sign_in(w.store.path, SECOND, SECOND_PW, device=DeviceSecrets(w.store.keyring))
    try:
        facts = sar.signoff_facts(s, other_request)
        assert not facts.you_prepared and facts.prepared_by == (MANAGER,)
        sar.sign_off(s, other_request, "Checked every redaction")
        signed = rights_model.signoffs(s.conn, other_request)[-1]
        assert signed.sole_manager_reason == "" and signed.signed_by_name == SECOND
        assert sar.preview(s, other_request).ready
    finally:
        accounts.sign_out(s)


# -- who may do what ----------------------------------------------------------------------------


@pytest.mark.parametrize("user", [CASEWORKER, ADMIN, DPO])
def test_only_managers_build_review_and_send_packs(w: SarWorld, user: str, tmp_path: Path) -> None:
    with signed_in(w.store, MANAGER) as s:
        request_id = _request(s, w.jane)
        key = f"case:{w.case}:safety_plan"
        start, end = _span(sar.preview(s, request_id), key, "Darren Holt")
    with signed_in(w.store, user) as s:
        head = audit_head(s)
        calls = [
            lambda: sar.preview(s, request_id),
            lambda: sar.redact(s, request_id, key, start, end, Exemption.THIRD_PARTY),
            lambda: sar.disclose(s, request_id, key, start, end, REASON),
            lambda: sar.sign_off(s, request_id, "Checked", sole_manager_reason=SOLE),
            lambda: sar.export_pack(s, request_id, tmp_path / "out"),
            lambda: sar.print_pack(s, request_id),
        ]
        for call in calls:
            with pytest.raises(PermissionDenied):
                call()
        assert audit_since(s, head) == []
    assert not (tmp_path / "out").exists()


def test_a_pack_is_not_sent_before_identity_is_confirmed(w: SarWorld, tmp_path: Path) -> None:
    with signed_in(w.store, MANAGER) as s:
        request_id = _request(s, w.jane, confirmed=False)
        assert not sar.preview(s, request_id).ready
        with pytest.raises(PackRefused, match="identity"):
            sar.export_pack(s, request_id, tmp_path / "out")
        rights.confirm_identity(s, request_id, TODAY)
        sar.export_pack(s, request_id, tmp_path / "out")


def test_a_request_about_nobody_on_record_has_no_pack(w: SarWorld) -> None:
    with signed_in(w.store, MANAGER) as s:
        request = rights.create_request(
            s,
            rights.RequestDraft(
                kind=RightKind.ACCESS,
                requester="Someone",
                received_on=TODAY,
                subject_note="No match on name or date of birth",
            ),
        )
        with pytest.raises(InvalidInput, match="no data held"):
            sar.preview(s, request.id)


def test_the_letterhead_is_an_admins_setting_and_heads_the_letter(
    w: SarWorld, tmp_path: Path
) -> None:
    with signed_in(w.store, MANAGER) as s, pytest.raises(PermissionDenied):
        sar.set_letterhead(s, address="x", phone="y", email="z")
    with signed_in(w.store, ADMIN) as s:
        sar.set_letterhead(
            s,
            address="PO Box 12, Northfield NF1 1AA",
            phone="01632 960000",
            email="dpo@example.org",
        )
    with signed_in(w.store, MANAGER) as s:
        request_id = _request(s, w.jane)
        files = _export(s, request_id, tmp_path / "out")
    pdf = _texts(files)[0]
    for fact in (
        "PO Box 12, Northfield NF1 1AA",
        "01632 960000",
        "Information Commissioner",
        "0303 123 1113",
        "7 years after we stop working",
        "automated",
        "Page 1 of",
        "CONFIDENTIAL",
        "the police",
    ):
        assert fact in pdf, fact
    assert re.search(r"Page (\d+) of \1\b", pdf)


def test_the_cover_letter_names_the_data_protection_officer(w: SarWorld, tmp_path: Path) -> None:
    with signed_in(w.store, ADMIN) as s:
        sar.set_letterhead(
            s, address="PO Box 12", phone="", email="", dpo="Our DPO, dpo@example.org"
        )
    with signed_in(w.store, MANAGER) as s:
        request_id = _request(s, w.jane)
        pdf = _texts(_export(s, request_id, tmp_path / "out"))[0]
    assert "Our data protection officer: Our DPO, dpo@example.org" in pdf


def test_the_letter_tells_the_requester_the_retention_the_schedule_applies(
    w: SarWorld, tmp_path: Path
) -> None:
    """The cover letter and the JSON copy say how long records are kept from the same policy
    the retention schedule uses, including the rule for anyone who was a child while
    supported (the person asking, too), not a fixed sentence."""
    with signed_in(w.store, ADMIN) as s:
        retention.set_policy(s, 10, 30)
    with signed_in(w.store, MANAGER) as s:
        files = _export(s, _request(s, w.jane), tmp_path / "out")
    pdf = _texts(files)[0]
    document = next(json.loads(data) for name, data in files.items() if name.endswith(".json"))
    said = document["about_this_copy"]["retention"]
    assert said == retention_statement(Policy(years=10, child_until_age=30))
    flat = " ".join(pdf.split())
    assert "10 years after we stop working" in flat and "7 years" not in flat
    assert "under 18 at any time while we supported them" in flat
    assert "until the youngest of them is 30" in flat


def test_a_file_in_place_of_the_folder_is_refused_and_nothing_is_recorded(
    w: SarWorld, tmp_path: Path
) -> None:
    target = tmp_path / "not-a-folder"
    target.write_text("x")
    with signed_in(w.store, MANAGER) as s:
        request_id = _request(s, w.jane)
        with pytest.raises(InvalidInput, match="folder"):
            sar.export_pack(s, request_id, target)
        assert rights_model.exports(s.conn, request_id) == []


def _index_pages(pdf: bytes) -> list[tuple[str, int, int]]:
    """The index's lines as (section title, page it gives, page the heading is really on)."""
    lines = pdf_text(pdf).splitlines()
    at = lines.index("Index") + 1
    found: list[tuple[str, int]] = []
    while at < len(lines) - 1 and re.fullmatch(r"\d+", lines[at + 1]):
        found.append((lines[at], int(lines[at + 1])))
        at += 2
        if lines[at].startswith("CONFIDENTIAL"):  # the index goes on over the page
            at += 2
    result = []
    for title, page in found:
        heading = lines.index(title, at)  # the section's heading, after the index
        footer = next(line for line in lines[heading:] if re.fullmatch(r"Page \d+ of \d+", line))
        result.append((title, page, int(footer.split()[1])))
    return result


def test_the_index_gives_the_page_each_section_starts_on(w: SarWorld, tmp_path: Path) -> None:
    with signed_in(w.store, MANAGER) as s:
        request_id = _request(s, w.jane)
        pack = sar.preview(s, request_id)
        files = _export(s, request_id, tmp_path / "out")
    index = _index_pages(next(d for n, d in files.items() if n.endswith(".pdf")))
    assert [title for title, _, _ in index] == [part.title for part in pack.sections]
    assert all(given == real for _, given, real in index), index
    assert len({real for _, _, real in index}) > 1  # the sections really are on different pages

    # An index longer than a page goes on over the next, its numbers still right.
    many = dataclasses.replace(
        pack,
        sections=tuple(
            dataclasses.replace(part, title=f"{part.title} ({n})")
            for n in range(30)
            for part in pack.sections
        ),
    )
    pdf = sar_pdf.render(many, generated_on=TODAY, compress=False)
    index = _index_pages(pdf)
    assert len(index) == len(many.sections) > 60
    assert all(given == real for _, given, real in index)


def test_a_clients_pack_shows_her_categories_and_her_cases_court_dates(
    w: SarWorld, tmp_path: Path
) -> None:
    with signed_in(w.store, MANAGER) as s:
        categories.set_person_categories(
            s,
            w.jane,
            PersonCategories(
                ethnicity=Ethnicity.CARIBBEAN,
                religion=Religion.DECLINED,
                first_language="Portuguese",
                no_recourse_to_public_funds=Answer.YES,
            ),
        )
        categories.add_legal_item(
            s,
            w.case,
            LegalItem(
                LegalKind.PROTECTIVE_ORDER,
                TODAY,
                TODAY + dt.timedelta(days=180),
                OrderType.NON_MOLESTATION,
                "Northshire Family Court",
                "No contact by any means",
            ),
        )
        categories.set_referral_source(
            s, w.case, ReferralSource(AgencyType.HEALTH, "Midwife, Northshire Maternity")
        )
        request_id = _request(s, w.jane)
        files = _export(s, request_id, tmp_path / "out")
    document = _texts(files)[2]
    for shown in (
        "Midwife, Northshire Maternity",
        "Ethnicity (census 2021)",
        "black caribbean",
        "Religion or belief",
        "declined",
        "Portuguese",
        "No recourse to public funds",
        "non molestation",
        "Northshire Family Court",
        "No contact by any means",
    ):
        assert shown in document, shown


def test_a_childs_pack_shows_their_school_and_who_they_live_with(
    w: SarWorld, tmp_path: Path
) -> None:
    with signed_in(w.store, MANAGER) as s:
        categories.set_child(
            s,
            w.case,
            ChildDetails(
                w.poppy, "Kestrel Lane Primary", ChildProtection.CHILD_IN_NEED, LivesWith.CLIENT
            ),
        )
        request_id = _request(s, w.poppy)
        files = _export(s, request_id, tmp_path / "out")
    document = _texts(files)[2]
    for shown in ("School", "Kestrel Lane Primary", "child in need", "Lives with"):
        assert shown in document, shown

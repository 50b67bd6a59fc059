"""`safecase sar`: export a person's pack, sign it off, list the register."""

from __future__ import annotations

import datetime as dt
import json
import re
import zipfile
from pathlib import Path

from app.errors import EXIT_FAILED, EXIT_OK, EXIT_USAGE
from app.models.rights import Outcome, RightKind
from app.services import rights
from tests.helpers import CASEWORKER, CASEWORKER_PW, DPO, DPO_PW, MANAGER, MANAGER_PW, StoreCopy
from tests.services.casework import TODAY, audit_since, signed_in
from tests.services.sar_world import NOT_FOR_DARREN, build_world, leaks, new_request, pdf_text
from tests.test_cli import Result, cli

REFERENCE = re.compile(r"RR-\d{4}-\d{4}")


def _sar(store: StoreCopy, *args: str, user: str = MANAGER, password: str = MANAGER_PW) -> Result:
    action, *rest = args
    return cli(
        ["sar", action, "--store", str(store.path), "--user", user, *rest],
        f"{password}\n",
        store.keyring,
    )


def test_a_perpetrators_pack_is_refused_until_signed_off_then_written(
    store: StoreCopy, tmp_path: Path
) -> None:
    world = build_world(store)
    out = tmp_path / "packs"
    refused = _sar(store, "export", "--person", str(world.darren), "--out", str(out))
    assert refused.code == EXIT_FAILED
    assert refused.err.count("\n") == 1
    assert "alleged perpetrator" in refused.err and "sign it off" in refused.err
    match = REFERENCE.search(refused.err)
    assert match is not None
    reference = match.group()
    assert f"Opened access request {reference}" in refused.out
    assert not out.exists() or list(out.iterdir()) == []

    signed = _sar(store, "signoff", "--request", reference, "--note", "Checked")
    assert signed.code == EXIT_OK, signed.err
    assert f"Pack for {reference} signed off." in signed.out

    written = _sar(store, "export", "--person", str(world.darren), "--out", str(out))
    assert written.code == EXIT_OK, written.err
    assert "Opened" not in written.out  # the open request is used again
    names = sorted(p.name for p in out.iterdir())
    assert names == sorted([f"{reference}.pdf", f"{reference}.json", f"{reference}-manifest.json"])
    document = (out / f"{reference}.json").read_text(encoding="utf-8")
    assert leaks([document], NOT_FOR_DARREN) == []
    assert "Darren Holt" in document
    assert (out / f"{reference}.pdf").read_bytes().startswith(b"%PDF")


def test_a_clients_pack_as_one_zip(store: StoreCopy, tmp_path: Path) -> None:
    world = build_world(store)
    out = tmp_path / "packs"
    result = _sar(store, "export", "--person", str(world.jane), "--out", str(out), "--zip")
    assert result.code == EXIT_OK, result.err
    match = REFERENCE.search(result.out)
    assert match is not None
    bundle_path = out / f"{match.group()}.zip"
    assert [p.name for p in out.iterdir()] == [bundle_path.name]
    with zipfile.ZipFile(bundle_path) as bundle:
        assert len(bundle.namelist()) == 3
        document = json.loads(bundle.read(f"{match.group()}.json"))
    assert document["reference"] == match.group()
    text = json.dumps(document)
    assert "Jane Wexford" in text and "Darren" not in text
    # Her safe-contact details say letters are not safe: the pack is handed over, not posted.
    assert (
        "Hand the pack over; do not post it. The safe-contact details say letters are not safe "
        "for this person." in result.out
    )


def test_the_register_lists_due_dates_and_marks_overdue_requests(store: StoreCopy) -> None:
    world = build_world(store)
    day = dt.timedelta(days=1)
    with signed_in(store, MANAGER) as s:

        def made(subject: int, days_ago: int, confirmed: bool = True) -> rights.RightsRequest:
            start = TODAY - days_ago * day
            return rights.create_request(
                s,
                rights.RequestDraft(
                    kind=RightKind.ACCESS,
                    requester="Jane Wexford",
                    received_on=start,
                    subject_person_id=subject,
                    identity_confirmed_on=start if confirmed else None,
                ),
            )

        late = made(world.jane, 45)
        current = made(world.darren, 3)
        waiting = made(world.sasha, 2, confirmed=False)
        done = made(world.poppy, 10)
        rights.close_request(s, done.id, Outcome.NO_DATA_HELD, TODAY)
    listed = _sar(store, "list", user=DPO, password=DPO_PW)
    assert listed.code == EXIT_OK, listed.err
    lines = {line.split("\t")[0]: line for line in listed.out.splitlines()}
    assert set(lines) == {late.reference, current.reference, waiting.reference}
    assert lines[late.reference].endswith("\tOVERDUE")
    assert f"\tdue {late.due_on}\t" in lines[late.reference]
    assert f"\tdue {current.due_on}\tperson {world.darren}" in lines[current.reference]
    assert "OVERDUE" not in lines[current.reference]
    assert "identity not confirmed yet" in lines[waiting.reference]
    assert "Jane" not in listed.out and "Wexford" not in listed.out
    everything = _sar(store, "list", "--all")
    assert done.reference in everything.out and "no data held" in everything.out


def test_caseworkers_may_not_use_the_register(store: StoreCopy, tmp_path: Path) -> None:
    world = build_world(store)
    for args in (
        ("list",),
        ("export", "--person", str(world.jane), "--out", str(tmp_path / "x")),
        ("signoff", "--request", "RR-2026-0001"),
    ):
        result = _sar(store, *args, user=CASEWORKER, password=CASEWORKER_PW)
        assert result.code == EXIT_FAILED
        assert "role" in result.err and result.err.count("\n") == 1
    assert not (tmp_path / "x").exists()


def test_usage_and_unknown_requests(store: StoreCopy, tmp_path: Path) -> None:
    missing = cli(["sar", "export", "--store", str(store.path), "--user", MANAGER])
    assert missing.code == EXIT_USAGE and missing.err.count("\n") == 1
    unknown = _sar(store, "signoff", "--request", "RR-1999-0042")
    assert unknown.code == EXIT_USAGE
    assert "no request" in unknown.err and unknown.err.count("\n") == 1
    nobody = _sar(store, "export", "--person", "4242", "--out", str(tmp_path / "x"))
    assert nobody.code == EXIT_USAGE and "no such person" in nobody.err


def test_the_pdf_names_nobody_else_to_the_perpetrator(store: StoreCopy, tmp_path: Path) -> None:
    """The CLI writes compressed PDFs; this checks the same pack uncompressed."""
    from app.services import sar

    world = build_world(store)
    with signed_in(store, MANAGER) as s:
        request = rights.create_request(
            s,
            rights.RequestDraft(
                kind=RightKind.ACCESS,
                requester="x",
                received_on=TODAY,
                subject_person_id=world.darren,
                identity_confirmed_on=TODAY,
            ),
        )
        sar.sign_off(s, request.id, "Checked", sole_manager_reason="No other manager this week")
        pdf = sar.print_pack(s, request.id, compress=False)
    assert leaks([pdf_text(pdf)], NOT_FOR_DARREN) == []


def test_a_request_is_taken_from_identity_to_its_response_on_the_command_line(
    store: StoreCopy,
) -> None:
    world = build_world(store)
    reference = new_request(store, world.jane, TODAY - dt.timedelta(days=10))
    ten_days_ago = (TODAY - dt.timedelta(days=10)).isoformat()
    started = _sar(store, "confirm", "--request", reference, "--on", ten_days_ago)
    assert started.code == EXIT_OK, started.err
    assert f"Request {reference}: identity confirmed on {ten_days_ago}. Due " in started.out

    bad = _sar(store, "pause", "--request", reference, "--on", "2026-02-30", "--reason", "x")
    assert bad.code == EXIT_USAGE
    assert bad.err == "safecase: --on takes a real date written YYYY-MM-DD, such as 2026-03-31.\n"
    paused = _sar(store, "pause", "--request", reference, "--reason", "Which years?")
    assert paused.code == EXIT_OK and "clock stopped" in paused.out
    refused = _sar(store, "close", "--request", reference, "--outcome", "complied")
    assert refused.code == EXIT_USAGE and "restart it first" in refused.err
    assert _sar(store, "resume", "--request", reference).code == EXIT_OK
    extended = _sar(store, "extend", "--request", reference)
    assert extended.code == EXIT_OK, extended.err

    no_reasons = _sar(store, "close", "--request", reference, "--outcome", "partly_refused")
    assert no_reasons.code == EXIT_USAGE and "reasons for the refusal" in no_reasons.err
    closed = _sar(
        store,
        "close",
        "--request",
        reference,
        "--outcome",
        "partly_refused",
        "--reasons",
        "Third-party information withheld",
    )
    assert closed.code == EXIT_OK, closed.err
    assert closed.out == f"Request {reference}: closed on {TODAY.isoformat()}.\n"
    with signed_in(store, MANAGER) as s:
        request = rights.find_request(s, reference)
    assert request.outcome == Outcome.PARTLY_REFUSED.value
    assert request.extension_told_on == TODAY and request.identity_confirmed_on is not None


def test_find_gives_the_person_id_that_export_takes(store: StoreCopy, tmp_path: Path) -> None:
    world = build_world(store)
    found = _sar(store, "find", "--name", "jane wexford")
    assert found.code == EXIT_OK, found.err
    [line] = found.out.splitlines()
    person_id, name, born, role = line.split("\t")
    assert (int(person_id), name, born) == (world.jane, "Jane Wexford", "born 1990-04-12")
    assert role.startswith("client on SC-")
    nobody = _sar(store, "find", "--name", "Zebedee")
    assert nobody.out == "Nobody on the cases you may open matches.\n"
    refused = _sar(store, "find", "--name", "Jane", user=CASEWORKER, password=CASEWORKER_PW)
    assert refused.code != EXIT_OK and refused.out == ""


def _register_and_trail(store: StoreCopy) -> tuple[list[str], list[str]]:
    """The register's references and the audit trail's actions other than signing in and out."""
    from app.services import audit

    with signed_in(store, MANAGER) as s:
        references = [r.reference for r in rights.register(s)]
        entries = audit_since(s, 0)
    quiet = {audit.SIGN_IN, audit.SIGN_OUT}
    return references, [e.action for e in entries if e.action not in quiet]


def test_export_without_the_manager_role_opens_no_request(store: StoreCopy, tmp_path: Path) -> None:
    """The DPO keeps the register but may not export packs: refused before any request is
    opened (which would start a statutory clock and hold the case from destruction)."""
    world = build_world(store)
    before = _register_and_trail(store)
    out = tmp_path / "packs"
    result = _sar(
        store, "export", "--person", str(world.jane), "--out", str(out), user=DPO, password=DPO_PW
    )
    assert result.code == EXIT_FAILED
    assert "manager role" in result.err and result.err.count("\n") == 1
    assert "Opened" not in result.out
    assert _register_and_trail(store) == before
    assert not out.exists()


def test_export_into_a_folder_it_cannot_make_opens_no_request(
    store: StoreCopy, tmp_path: Path
) -> None:
    world = build_world(store)
    blocker = tmp_path / "a-file"
    blocker.write_text("in the way")
    before = _register_and_trail(store)
    result = _sar(store, "export", "--person", str(world.jane), "--out", str(blocker / "packs"))
    assert result.code == EXIT_FAILED
    assert "unexpected" not in result.err and result.err.count("\n") == 1
    assert "Opened" not in result.out
    assert _register_and_trail(store) == before
    assert blocker.read_text() == "in the way"

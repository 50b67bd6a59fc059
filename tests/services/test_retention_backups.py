"""A purge and the backups made before it, and a restore of a backup older than a purge: a
destroyed case never comes back, and the certificate says what remains where and until when."""

from __future__ import annotations

import datetime as dt
import os
import shutil
from pathlib import Path

import pytest

from app.crypto.device import DeviceSecrets
from app.models import cases as case_model
from app.models import retention as retention_model
from app.models.records import NoteKind
from app.services import accounts, backup, notes, retention
from app.services.backup import BackupChoice
from app.services.session import Session, uk_today
from tests.helpers import ADMIN, MANAGER, MemoryKeyring, StoreCopy
from tests.services import forensics
from tests.services.casework import person, signed_in
from tests.services.closed_cases import make_closed_case, reference_of
from tests.services.test_retention import approve_all, pdf_text

SECRET = ("Qxbrindlewort", "Zanzibarquay", "spoke of the Zorvelquistmarsh")


def marked_case(store: StoreCopy) -> str:
    """A due case whose client's name and note text the scans look for."""

    def fill(case_id: int) -> None:
        notes.add_note(
            session, case_id, NoteKind.CALL, SECRET[2], dt.datetime(2018, 7, 1, tzinfo=dt.UTC)
        )

    with signed_in(store, MANAGER) as session:
        case_id = make_closed_case(session, person("Zanzibarquay", "Qxbrindlewort"), fill=fill)
        return reference_of(session, case_id)


def nightly(tmp_path: Path) -> Path:
    """The folder the nightly generations go in."""
    folder = tmp_path / "nightly"
    folder.mkdir()
    return folder


def restore_into(store: StoreCopy, backup_file: Path, where: Path) -> accounts.Restored:
    return accounts.restore_store(
        backup_file,
        where / "cases.safecase",
        store.recovery_key,
        admin_name=ADMIN,
        new_password="restored-laptop-cobalt-ridge",
        device=DeviceSecrets(MemoryKeyring()),
    )


def assert_gone(restored: Session, reference: str) -> None:
    """The case is not in the restored store, and its words are on no page of it."""
    assert case_model.by_reference(restored.conn, reference) is None
    logged = [e.reference for e in retention_model.every_log_entry(restored.conn)]
    assert reference in logged
    key = forensics.data_key(restored)
    path = restored.vault.path
    accounts.sign_out(restored)
    assert forensics.found(forensics.read_pages(path, key), SECRET) == {}


def test_a_purge_with_older_backups_waits_for_the_admins_choice(
    store: StoreCopy, tmp_path: Path
) -> None:
    reference = marked_case(store)
    with signed_in(store, ADMIN) as session:
        backup.backup_to_folder(session, nightly(tmp_path))
        approve_all(session)
        with pytest.raises(retention.BackupChoiceNeeded, match="1 backup"):
            retention.purge(session)
        assert case_model.by_reference(session.conn, reference) is not None


def test_restoring_a_backup_from_before_a_purge_does_not_bring_the_case_back(
    store: StoreCopy, tmp_path: Path
) -> None:
    reference = marked_case(store)
    folder = nightly(tmp_path)
    with signed_in(store, ADMIN) as session:
        before, _ = backup.backup_to_folder(session, folder)
        approve_all(session)
        result = retention.purge(session, backups=BackupChoice.KEEP)
        assert [e.reference for e in result.destroyed] == [reference]
        assert result.backups is not None and result.backups.files == 1
        assert any("kept at the admin's choice" in line for line in result.backups.lines())
        backup.backup_to_folder(session, folder)  # the next night's backup, after the purge
    assert before.exists()  # kept, as chosen

    # Alone, with nothing newer beside it, the old backup still holds the case: the scan sees it.
    alone = tmp_path / "alone" / before.name
    alone.parent.mkdir()
    shutil.copyfile(before, alone)
    control = restore_into(store, alone, tmp_path / "control")
    assert control.destroyed_again.references == ()
    assert case_model.by_reference(control.session.conn, reference) is not None
    key, path = forensics.data_key(control.session), control.session.vault.path
    accounts.sign_out(control.session)
    assert set(forensics.found(forensics.read_pages(path, key), SECRET)) == set(SECRET)

    restored = restore_into(store, before, tmp_path / "laptop")
    assert restored.destroyed_again.references == (reference,)
    assert restored.destroyed_again.runs == (result.run_id,)
    assert_gone(restored.session, reference)


def test_rewrite_takes_the_destroyed_cases_out_of_older_backups(
    store: StoreCopy, tmp_path: Path
) -> None:
    reference = marked_case(store)
    with signed_in(store, ADMIN) as session:
        lone = tmp_path / "usb" / "before-purge.backup"
        lone.parent.mkdir()
        backup.backup(session, lone)
        approve_all(session)
        result = retention.purge(session, backups=BackupChoice.REWRITE)
        assert result.backups is not None
        assert (result.backups.files, result.backups.done, result.backups.failed) == (1, 1, 0)
        pdf = pdf_text(retention.certificate(session, result.run_id))
        assert b"rewritten without these cases" in pdf
        assert not any(word.encode() in pdf for word in SECRET)

    # Alone in its folder, with nothing newer beside it: the file itself no longer holds it.
    restored = restore_into(store, lone, tmp_path / "laptop")
    assert restored.destroyed_again.references == ()
    assert_gone(restored.session, reference)


def test_destroy_deletes_older_backups_after_writing_a_fresh_one(
    store: StoreCopy, tmp_path: Path
) -> None:
    reference = marked_case(store)
    folder = nightly(tmp_path)
    with signed_in(store, ADMIN) as session:
        old, _ = backup.backup_to_folder(session, folder, keep=3)
        approve_all(session)
        result = retention.purge(session, backups=BackupChoice.DESTROY)
        assert result.backups is not None and result.backups.fresh
        lines = " ".join(result.backups.lines())
        assert "1 deleted on" in lines and "SSD" in lines
    assert not old.exists()
    [fresh] = backup.generations(folder)
    restored = restore_into(store, fresh, tmp_path / "laptop")
    assert_gone(restored.session, reference)


def test_keep_says_until_about_when_the_older_generations_are_rotated_out(
    store: StoreCopy, tmp_path: Path
) -> None:
    marked_case(store)
    folder = nightly(tmp_path)
    with signed_in(store, ADMIN) as session:
        first, _ = backup.backup_to_folder(session, folder, keep=5)
        second, _ = backup.backup_to_folder(session, folder, keep=5)
        day = 24 * 3600
        os.utime(first, (second.stat().st_mtime - 2 * day,) * 2)  # two days apart
        approve_all(session)
        result = retention.purge(session, backups=BackupChoice.KEEP)
        assert result.backups is not None
        until = (uk_today() + dt.timedelta(days=10)).isoformat()
        assert f"about {until} (5 generations)" in result.backups.lines()[0]
        pdf = pdf_text(retention.certificate(session, result.run_id))
    assert until.encode() in pdf
    assert not any(word.encode() in pdf for word in SECRET)

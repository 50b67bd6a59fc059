"""A restore of a backup made before a purge never brings a destroyed case back, even when the
store did not know where that backup was (copied by hand): a later backup beside it carries the
destruction log, and the restore destroys the case again. Written with the calls a restore has
always had, so it shows the difference in behaviour alone."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

from app.crypto.device import DeviceSecrets
from app.models import cases as case_model
from app.models.records import NoteKind
from app.services import accounts, audit, backup, notes, retention
from tests.helpers import ADMIN, MANAGER, MemoryKeyring, StoreCopy
from tests.services import forensics
from tests.services.casework import person, signed_in
from tests.services.closed_cases import make_closed_case, reference_of
from tests.services.test_retention import approve_all

WORDS = ("Yelverquint", "Brisdamoor", "left for the Ostravelling refuge")


def test_an_unknown_copy_made_before_a_purge_restores_without_the_destroyed_case(
    store: StoreCopy, tmp_path: Path
) -> None:
    def fill(case_id: int) -> None:
        notes.add_note(
            session, case_id, NoteKind.CALL, WORDS[2], dt.datetime(2018, 7, 1, tzinfo=dt.UTC)
        )

    with signed_in(store, MANAGER) as session:
        reference = reference_of(
            session, make_closed_case(session, person("Brisdamoor", "Yelverquint"), fill=fill)
        )
    made, usb = tmp_path / "made-here.backup", tmp_path / "usb"
    usb.mkdir()
    with signed_in(store, ADMIN) as session:
        backup.backup(session, made)
        shutil.move(made, usb / "copied-by-hand.backup")  # the store no longer knows it
        approve_all(session)
        result = retention.purge(session)
        assert [e.reference for e in result.destroyed] == [reference]
        backup.backup(session, usb / "after-the-purge.backup")

    restored, _waiting = accounts.restore(
        usb / "copied-by-hand.backup",
        tmp_path / "laptop" / "cases.safecase",
        store.recovery_key,
        admin_name=ADMIN,
        new_password="restored-laptop-cobalt-ridge",
        device=DeviceSecrets(MemoryKeyring()),
    )
    try:
        assert case_model.by_reference(restored.conn, reference) is None
        destroyed = [e for e in audit.recent(restored, 20) if e.action == audit.CASE_DESTROYED]
        assert destroyed and "again after a restore" in destroyed[0].detail
        key, path = forensics.data_key(restored), restored.vault.path
    finally:
        accounts.sign_out(restored)
    assert forensics.found(forensics.read_pages(path, key), WORDS) == {}

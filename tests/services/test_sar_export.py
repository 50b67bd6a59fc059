"""Writing a SAR pack to disk: all of it or none of it, private while it is written, and
recorded as sent only once every file is in place."""

from __future__ import annotations

import datetime as dt
import errno
import os
import stat
from collections.abc import Callable
from pathlib import Path

import pytest

from app.errors import DiskFull, SafecaseError
from app.models import rights as rights_model
from app.models.rights import RightKind
from app.services import rights, sar
from app.services.session import Session
from tests.helpers import MANAGER
from tests.services.casework import TODAY, audit_head, audit_since, signed_in
from tests.services.sar_world import SarWorld
from tests.services.test_sar import w, world

__all__ = ["w", "world"]  # the SAR tests' fixtures: a world of records, copied per test


def _draft(person_id: int) -> rights.RequestDraft:
    return rights.RequestDraft(
        kind=RightKind.ACCESS,
        requester="The data subject",
        received_on=TODAY - dt.timedelta(days=3),
        subject_person_id=person_id,
        identity_confirmed_on=TODAY - dt.timedelta(days=2),
    )


def _fail_on_call(
    monkeypatch: pytest.MonkeyPatch, target: object, name: str, call: int
) -> list[int]:
    """Make ``target.name`` fail with a full disk on its ``call``-th use."""
    real: Callable[..., object] = getattr(target, name)
    calls = [0]

    def failing(*args: object, **kwargs: object) -> object:
        calls[0] += 1
        if calls[0] == call:
            raise OSError(errno.ENOSPC, "No space left on device")
        return real(*args, **kwargs)

    monkeypatch.setattr(target, name, failing)
    return calls


def _files(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.rglob("*")) if folder.exists() else []


def _nothing_recorded(s: Session, request_id: int, head: int) -> None:
    assert rights_model.exports(s.conn, request_id) == []
    assert audit_since(s, head) == []


def test_a_pack_whose_second_file_cannot_be_put_in_place_leaves_nothing(
    w: SarWorld, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The PDF is in place when the JSON copy fails: the PDF is taken out again and the
    export is not recorded as done."""
    out = tmp_path / "out"
    with signed_in(w.store, MANAGER) as s:
        request_id = rights.create_request(s, _draft(w.jane)).id
        head = audit_head(s)
        _fail_on_call(monkeypatch, sar.os, "replace", 2)
        with pytest.raises(DiskFull):
            sar.export_pack(s, request_id, out)
        monkeypatch.undo()
        assert _files(out) == []
        _nothing_recorded(s, request_id, head)
        # Nothing stands in the way of the next attempt.
        written = sar.export_pack(s, request_id, out).written
        assert sorted(p.name for p in written) == _files(out)


def test_a_record_that_fails_takes_the_files_back_out(
    w: SarWorld, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "out"
    out.mkdir()
    earlier = out / "kept.txt"
    earlier.write_text("the user's own file")
    with signed_in(w.store, MANAGER) as s:
        request_id = rights.create_request(s, _draft(w.jane)).id
        head = audit_head(s)

        def refuse(*args: object) -> int:
            raise SafecaseError("The record could not be written.")

        monkeypatch.setattr(rights_model, "add_export", refuse)
        with pytest.raises(SafecaseError, match="record could not"):
            sar.export_pack(s, request_id, out)
        monkeypatch.undo()
        assert _files(out) == ["kept.txt"]
        assert earlier.read_text() == "the user's own file"
        _nothing_recorded(s, request_id, head)


def test_a_re_export_that_fails_puts_the_earlier_files_back(
    w: SarWorld, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "out"
    with signed_in(w.store, MANAGER) as s:
        request_id = rights.create_request(s, _draft(w.jane)).id
        first = sar.export_pack(s, request_id, out)
        before = {p.name: p.read_bytes() for p in first.written}
        monkeypatch.setattr(rights_model, "add_export", _raise_full)
        with pytest.raises(DiskFull):
            sar.export_pack(s, request_id, out)
        monkeypatch.undo()
        assert {p.name: p.read_bytes() for p in out.iterdir()} == before
        assert len(rights_model.exports(s.conn, request_id)) == 1


def _raise_full(*args: object) -> int:
    raise OSError(errno.ENOSPC, "No space left on device")


def test_the_folder_it_makes_and_the_files_are_private(w: SarWorld, tmp_path: Path) -> None:
    out = tmp_path / "new" / "packs"
    with signed_in(w.store, MANAGER) as s:
        request_id = rights.create_request(s, _draft(w.jane)).id
        written = sar.export_pack(s, request_id, out).written
    for folder in (out, out.parent):
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    for path in written:
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert _files(out) == sorted(p.name for p in written)  # no staging folder left


def test_the_files_are_written_beside_the_target_out_of_sight(
    w: SarWorld, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """While the files are written they sit in a private folder of their own, 0700."""
    seen: list[tuple[str, int]] = []
    real = sar._write_private

    def watch(path: Path, data: bytes) -> None:
        seen.append((path.parent.parent.name, stat.S_IMODE(path.parent.stat().st_mode)))
        real(path, data)

    monkeypatch.setattr(sar, "_write_private", watch)
    out = tmp_path / "out"
    with signed_in(w.store, MANAGER) as s:
        sar.export_new_request(s, _draft(w.jane), out)
    assert seen and all(place == ("out", 0o700) for place in seen)


def test_a_new_request_whose_export_fails_is_not_opened(
    w: SarWorld, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "out"
    with signed_in(w.store, MANAGER) as s:
        head = audit_head(s)
        before = rights.register(s)
        _fail_on_call(monkeypatch, sar.os, "replace", 2)
        with pytest.raises(DiskFull):
            sar.export_new_request(s, _draft(w.jane), out)
        monkeypatch.undo()
        assert rights.register(s) == before
        assert audit_since(s, head) == []
        assert not out.exists()


def test_an_unwritable_folder_opens_no_request(w: SarWorld, tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("in the way")
    with signed_in(w.store, MANAGER) as s:
        head = audit_head(s)
        before = rights.register(s)
        with pytest.raises(SafecaseError):
            sar.export_new_request(s, _draft(w.jane), blocker / "packs")
        assert rights.register(s) == before
        assert audit_since(s, head) == []
    assert blocker.read_text() == "in the way"


def test_export_never_leaves_a_world_readable_file(w: SarWorld, tmp_path: Path) -> None:
    old_umask = os.umask(0)
    try:
        with signed_in(w.store, MANAGER) as s:
            _, result = sar.export_new_request(s, _draft(w.jane), tmp_path / "open")
    finally:
        os.umask(old_umask)
    assert stat.S_IMODE((tmp_path / "open").stat().st_mode) == 0o700
    assert all(stat.S_IMODE(p.stat().st_mode) == 0o600 for p in result.written)

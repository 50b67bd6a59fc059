"""The shared-folder transport under what sync clients and failing disks do to a folder.

Each test looks from a laptop's side: which envelopes it receives, that none is lost or
handed over twice, and which one sentence it is told.
"""

from __future__ import annotations

import errno
import os
import random
import shutil
import stat
from collections.abc import Mapping, Set
from pathlib import Path

import pytest

from app.errors import SafecaseError
from app.sync import folder as folder_module
from app.sync.folder import FolderTransport, envelope_name, frame, parse_name, unframe
from app.sync.transport import (
    EnvelopeNumberTaken,
    Incoming,
    Problem,
    ProblemKind,
    Transport,
    TransportUnavailable,
)

ALICE = "0192f0aa-0000-7000-8000-00000000000a"
BOB = "0192f0bb-0000-7000-8000-00000000000b"
CARA = "0192f0cc-0000-7000-8000-00000000000c"


def envelope(sender: str, seq: int, size: int = 300) -> bytes:
    """Synthetic opaque bytes standing in for a sealed envelope."""
    head = f"{sender}/{seq}/".encode()
    return (head * (size // len(head) + 1))[:size]


@pytest.fixture
def root(tmp_path: Path) -> Path:
    shared = tmp_path / "OneDrive - Example Service" / "Safecase Team"
    shared.mkdir(parents=True)
    FolderTransport(shared).prepare()
    return shared


def sync(
    transport: Transport, have: Mapping[str, Set[int]] | None = None
) -> tuple[list[Incoming], list[Problem]]:
    problems: list[Problem] = []
    got = list(transport.incoming(have or {}, problems=problems.append))
    return got, problems


def received(got: list[Incoming]) -> dict[tuple[str, int], bytes]:
    pairs = {(item.sender, item.seq): item.data for item in got}
    assert len(pairs) == len(got), "an envelope was handed over twice"
    return pairs


def device_folder(root: Path, device: str) -> Path:
    return root / "devices" / device


def drop(root: Path, device: str, name: str, content: bytes) -> Path:
    """A file as a sync client would leave it in a device's folder."""
    path = device_folder(root, device) / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)
    return path


# -- publishing ------------------------------------------------------------------------------


def test_what_one_laptop_publishes_another_receives_once(root: Path) -> None:
    alice, bob = FolderTransport(root), FolderTransport(root)
    for seq in range(3):
        alice.publish(ALICE, seq, envelope(ALICE, seq))
    bob.publish(BOB, 0, envelope(BOB, 0))

    got, problems = sync(bob, {BOB: {0}})
    assert received(got) == {(ALICE, seq): envelope(ALICE, seq) for seq in range(3)}
    assert problems == []
    files = sorted(p.name for p in device_folder(root, ALICE).iterdir())
    assert files == ["00000000.env", "00000001.env", "00000002.env"]  # no temporary left

    # Next sync, holding them: nothing new.
    assert sync(bob, {BOB: {0}, ALICE: {0, 1, 2}}) == ([], [])


def test_publishing_again_the_same_envelope_changes_nothing(root: Path) -> None:
    transport = FolderTransport(root)
    transport.publish(ALICE, 4, envelope(ALICE, 4))
    transport.publish(ALICE, 4, envelope(ALICE, 4))  # a retry after a crash
    got, _ = sync(transport)
    assert received(got) == {(ALICE, 4): envelope(ALICE, 4)}


def test_a_published_envelope_is_never_replaced(root: Path) -> None:
    transport = FolderTransport(root)
    transport.publish(ALICE, 4, envelope(ALICE, 4))
    with pytest.raises(EnvelopeNumberTaken) as caught:
        transport.publish(ALICE, 4, b"something else under the same number")
    assert "restored from an old copy" in str(caught.value)
    assert isinstance(caught.value, SafecaseError)
    got, _ = sync(transport)
    assert received(got) == {(ALICE, 4): envelope(ALICE, 4)}


def test_a_disk_without_hard_links_still_never_replaces(
    root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_links(src: object, dst: object) -> None:
        raise OSError(errno.EPERM, "Operation not permitted")

    monkeypatch.setattr(folder_module.os, "link", no_links)
    transport = FolderTransport(root)
    transport.publish(ALICE, 0, envelope(ALICE, 0))
    transport.publish(ALICE, 0, envelope(ALICE, 0))
    with pytest.raises(EnvelopeNumberTaken):
        transport.publish(ALICE, 0, b"different")
    got, _ = sync(transport)
    assert received(got) == {(ALICE, 0): envelope(ALICE, 0)}
    assert [p.name for p in device_folder(root, ALICE).iterdir()] == ["00000000.env"]


def test_the_envelope_is_on_disk_before_it_has_its_name(
    root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A reader never finds the final name on a file that is not whole and synced."""
    events: list[str] = []
    real_fsync, real_link = os.fsync, os.link

    def fsync(fd: int) -> None:
        events.append("fsync folder" if stat.S_ISDIR(os.fstat(fd).st_mode) else "fsync file")
        real_fsync(fd)

    def link(src: str, dst: str) -> None:
        assert unframe(Path(src).read_bytes()) == envelope(ALICE, 9)
        events.append("name")
        real_link(src, dst)

    monkeypatch.setattr(folder_module.os, "fsync", fsync)
    monkeypatch.setattr(folder_module.os, "link", link)
    FolderTransport(root).publish(ALICE, 9, envelope(ALICE, 9))
    assert events == ["fsync file", "name", "fsync folder"]


def test_a_publish_cut_by_a_crash_leaves_nothing_a_reader_takes(root: Path) -> None:
    # kill -9 after the temporary file was written, before it got its name.
    drop(root, ALICE, ".00000000.env.1a2b3c4d5e6f.tmp", frame(envelope(ALICE, 0))[:100])
    reader = FolderTransport(root)
    assert sync(reader) == ([], [])
    FolderTransport(root).publish(ALICE, 0, envelope(ALICE, 0))  # the retry
    got, problems = sync(reader)
    assert received(got) == {(ALICE, 0): envelope(ALICE, 0)} and problems == []


def test_a_full_shared_disk_sends_nothing_and_says_so(
    root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def full(path: Path, content: bytes) -> None:
        path.write_bytes(content[:10])
        path.unlink()
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(folder_module, "_write_new", full)
    with pytest.raises(TransportUnavailable) as caught:
        FolderTransport(root).publish(ALICE, 0, envelope(ALICE, 0))
    assert str(caught.value) == (
        f"The team's shared folder {root} is full. Free some space there, then sync again; "
        "nothing was sent."
    )
    assert list(device_folder(root, ALICE).iterdir()) == []


def test_an_unplugged_stick_is_unavailable_and_nothing_is_written_in_its_place(
    tmp_path: Path,
) -> None:
    stick = tmp_path / "media" / "SAFECASE"
    transport = FolderTransport(stick)
    with pytest.raises(TransportUnavailable) as caught:
        transport.publish(ALICE, 0, envelope(ALICE, 0))
    assert str(caught.value) == (
        f"The team's shared folder {stick} cannot be reached. Check that it is connected, "
        "then sync again."
    )
    assert isinstance(caught.value, SafecaseError) and caught.value.exit_code == 1
    with pytest.raises(TransportUnavailable):
        transport.incoming({})
    assert not stick.exists()
    # An empty mount point (the share not mounted) is not the team's folder either.
    stick.mkdir(parents=True)
    with pytest.raises(TransportUnavailable):
        transport.publish(ALICE, 0, envelope(ALICE, 0))
    assert list(stick.iterdir()) == []
    assert transport.status().reachable is False


def test_device_ids_that_could_collide_on_a_case_insensitive_disk_are_refused(
    root: Path,
) -> None:
    with pytest.raises(ValueError):
        FolderTransport(root).publish(ALICE.upper(), 0, b"x")
    with pytest.raises(ValueError):
        FolderTransport(root).publish("../elsewhere", 0, b"x")


# -- what sync clients do to the folder ------------------------------------------------------


@pytest.mark.parametrize(
    "cut",
    [
        pytest.param(lambda whole: whole[:5], id="shorter-than-the-header"),
        pytest.param(lambda whole: whole[: len(whole) // 2], id="cut-in-the-middle"),
        pytest.param(lambda whole: whole[:-1], id="one-byte-short"),
        pytest.param(lambda whole: b"\0" * len(whole), id="space-reserved-not-yet-filled"),
        pytest.param(lambda whole: whole[:-10] + b"\0" * 10, id="tail-not-yet-written"),
        pytest.param(lambda whole: b"", id="empty"),
    ],
)
def test_a_file_still_being_copied_is_skipped_and_read_later(root: Path, cut: object) -> None:
    assert callable(cut)
    whole = frame(envelope(ALICE, 7))
    path = drop(root, ALICE, "00000007.env", cut(whole))
    reader = FolderTransport(root)
    got, problems = sync(reader)
    assert got == []
    assert [(p.kind, p.sender, p.seq) for p in problems] == [(ProblemKind.INCOMPLETE, ALICE, 7)]
    assert problems[0].sentence == (
        f"Envelope 7 from device {ALICE} is incomplete or damaged (still being copied?); "
        "it will be tried again on the next sync."
    )
    path.write_bytes(whole)  # the sync client finishes
    got, problems = sync(reader)
    assert received(got) == {(ALICE, 7): envelope(ALICE, 7)} and problems == []


def test_copies_made_by_sync_clients_are_one_envelope(root: Path) -> None:
    whole = frame(envelope(ALICE, 12))
    for name in (
        "00000012.env",
        "00000012 (1).env",
        "00000012-LAPTOP-7.env",
        "00000012 - Copy.env",
        "Copy of 00000012.env",
        "00000012 (Example's conflicted copy 2026-01-02).env",
        "00000012.ENV",
    ):
        drop(root, ALICE, name, whole)
    got, problems = sync(FolderTransport(root))
    assert received(got) == {(ALICE, 12): envelope(ALICE, 12)}
    assert problems == []


def test_a_copy_alone_counts_when_the_original_has_not_arrived(root: Path) -> None:
    drop(root, ALICE, "00000003 (1).env", frame(envelope(ALICE, 3)))
    got, problems = sync(FolderTransport(root))
    assert received(got) == {(ALICE, 3): envelope(ALICE, 3)} and problems == []


def test_a_half_copied_duplicate_does_not_hold_back_the_whole_one(root: Path) -> None:
    whole = frame(envelope(ALICE, 12))
    drop(root, ALICE, "00000012.env", whole)
    drop(root, ALICE, "00000012 (1).env", whole[:40])
    got, problems = sync(FolderTransport(root))
    assert received(got) == {(ALICE, 12): envelope(ALICE, 12)} and problems == []


def test_two_different_envelopes_under_one_number_are_shown_never_picked(root: Path) -> None:
    transport = FolderTransport(root)
    transport.publish(ALICE, 12, envelope(ALICE, 12))
    transport.publish(ALICE, 13, envelope(ALICE, 13))
    drop(root, ALICE, "00000012-LAPTOP-7.env", frame(b"another envelope numbered 12"))
    got, problems = sync(transport)
    assert received(got) == {(ALICE, 13): envelope(ALICE, 13)}
    assert len(problems) == 1
    conflict = problems[0]
    assert (conflict.kind, conflict.sender, conflict.seq) == (ProblemKind.CONFLICT, ALICE, 12)
    assert conflict.names == ("00000012-LAPTOP-7.env", "00000012.env")
    assert conflict.sentence == (
        f"Device {ALICE} has 2 different envelopes numbered 12 in the shared folder; none of "
        "them was read. Ask your admin to check that device."
    )
    # Still not picked on the next sync: a person decides.
    assert sync(transport, {ALICE: {13}})[0] == []


def test_envelopes_out_of_order_and_with_gaps_all_arrive_once(root: Path) -> None:
    transport = FolderTransport(root)
    for seq in (7, 3, 0):
        transport.publish(ALICE, seq, envelope(ALICE, seq))
    have: dict[str, set[int]] = {}
    got, _ = sync(transport, have)
    assert set(received(got)) == {(ALICE, 0), (ALICE, 3), (ALICE, 7)}
    have[ALICE] = {item.seq for item in got}
    for seq in (5, 1):  # the gaps fill later, in their own order
        transport.publish(ALICE, seq, envelope(ALICE, seq))
    got, _ = sync(transport, have)
    assert received(got) == {(ALICE, 1): envelope(ALICE, 1), (ALICE, 5): envelope(ALICE, 5)}


def test_stray_and_hidden_files_are_ignored(root: Path) -> None:
    FolderTransport(root).publish(ALICE, 0, envelope(ALICE, 0))
    for name in (
        ".DS_Store",
        "desktop.ini",
        "Thumbs.db",
        "notes.txt",
        "~$00000001.env",
        ".00000001.env",
        "00000001.env.tmp",
        ".~lock.00000001.env#",
        "00000001.env.part",
    ):
        drop(root, ALICE, name, b"not an envelope")
    (device_folder(root, ALICE) / ".sync").mkdir()
    (root / "devices" / ".dropbox.cache").mkdir()
    (root / "devices" / "Icon\r").write_bytes(b"")
    (root / "devices" / "readme.txt").write_bytes(b"stray")
    (root / "devices" / "Not a device!").mkdir()
    (root / "devices" / "Not a device!" / "00000000.env").write_bytes(frame(b"stray"))
    (root / "stray.env").write_bytes(frame(b"stray"))
    got, problems = sync(FolderTransport(root))
    assert received(got) == {(ALICE, 0): envelope(ALICE, 0)}
    assert problems == []
    assert FolderTransport(root).status().published == {ALICE: 1}


def test_a_folder_named_like_an_envelope_is_not_one(root: Path) -> None:
    FolderTransport(root).publish(ALICE, 0, envelope(ALICE, 0))
    (device_folder(root, ALICE) / "00000002.env").mkdir()
    (device_folder(root, ALICE) / "00000000 (1).env").mkdir()
    got, problems = sync(FolderTransport(root))
    assert received(got) == {(ALICE, 0): envelope(ALICE, 0)} and problems == []


def test_a_device_folder_whose_name_a_sync_client_upper_cased_is_the_same_device(
    root: Path,
) -> None:
    FolderTransport(root).publish(ALICE, 0, envelope(ALICE, 0))
    drop(root, ALICE.upper(), "00000001.ENV", frame(envelope(ALICE, 1)))
    got, problems = sync(FolderTransport(root))
    assert received(got) == {(ALICE, 0): envelope(ALICE, 0), (ALICE, 1): envelope(ALICE, 1)}
    assert problems == []


def test_a_file_the_system_will_not_read_is_reported_and_the_rest_arrive(
    root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    transport = FolderTransport(root)
    for seq in range(3):
        transport.publish(ALICE, seq, envelope(ALICE, seq))
    real_read = folder_module._read_file

    def read(path: str) -> bytes:
        if path.endswith("00000001.env"):
            raise PermissionError(errno.EACCES, "Permission denied")
        return real_read(path)

    monkeypatch.setattr(folder_module, "_read_file", read)
    got, problems = sync(transport)
    assert set(received(got)) == {(ALICE, 0), (ALICE, 2)}
    assert [(p.kind, p.seq) for p in problems] == [(ProblemKind.UNREADABLE, 1)]
    assert problems[0].sentence == (
        f"Safecase could not read envelope 1 from device {ALICE} in the shared folder (its "
        "permissions, or another program holding it) and will try again on the next sync."
    )
    monkeypatch.setattr(folder_module, "_read_file", real_read)  # permissions fixed
    got, problems = sync(transport, {ALICE: {0, 2}})
    assert received(got) == {(ALICE, 1): envelope(ALICE, 1)} and problems == []


def test_a_device_folder_the_system_will_not_list_is_reported_and_the_rest_arrive(
    root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    transport = FolderTransport(root)
    transport.publish(ALICE, 0, envelope(ALICE, 0))
    transport.publish(BOB, 0, envelope(BOB, 0))
    real_listdir = os.listdir

    def listdir(path: str) -> list[str]:
        if str(path).endswith(BOB):
            raise PermissionError(errno.EACCES, "Permission denied")
        return real_listdir(path)

    monkeypatch.setattr(folder_module.os, "listdir", listdir)
    got, problems = sync(transport)
    assert set(received(got)) == {(ALICE, 0)}
    assert [(p.kind, p.sender, p.seq) for p in problems] == [(ProblemKind.UNREADABLE, BOB, None)]
    assert problems[0].sentence == (
        f"Safecase may not read the folder of device {BOB} in the shared folder; check the "
        "folder's permissions."
    )


def fill(root: Path) -> None:
    transport = FolderTransport(root)
    for device in (ALICE, BOB, CARA):
        for seq in range(3):
            transport.publish(device, seq, envelope(device, seq))


def test_the_shared_folder_vanishing_mid_sync_stops_it_and_keeps_what_arrived(
    root: Path,
) -> None:
    fill(root)
    transport = FolderTransport(root)
    stream = transport.incoming({})
    first = next(stream)
    second = next(stream)
    shutil.rmtree(root)  # the share drops, the stick is pulled
    with pytest.raises(TransportUnavailable) as caught:
        next(stream)
    assert "cannot be reached" in str(caught.value)
    with pytest.raises(StopIteration):
        next(stream)  # from then on, nothing more from this sync
    with pytest.raises(TransportUnavailable):
        transport.incoming({})
    assert transport.status().reachable is False

    # The folder comes back: only what was not yet received arrives, each once.
    root.mkdir()
    FolderTransport(root).prepare()
    fill(root)
    have = {first.sender: {first.seq}}
    have.setdefault(second.sender, set()).add(second.seq)
    got, _ = sync(transport, have)
    assert len(got) == 9 - 2
    assert {(first.sender, first.seq), (second.sender, second.seq)}.isdisjoint(received(got))


def test_a_device_folder_vanishing_mid_sync_stops_it(root: Path) -> None:
    fill(root)
    stream = FolderTransport(root).incoming({})
    assert next(stream).sender == ALICE
    shutil.rmtree(device_folder(root, BOB))
    with pytest.raises(TransportUnavailable):
        list(stream)


def test_a_file_renamed_by_a_sync_client_mid_sync_is_not_fatal(root: Path) -> None:
    fill(root)
    stream = FolderTransport(root).incoming({})
    assert next(stream).sender == ALICE
    gone = device_folder(root, BOB) / envelope_name(1)
    gone.rename(gone.with_name(".00000001.env.syncing"))
    got = received([*stream])
    assert (BOB, 1) not in got and len(got) == 9 - 2


# -- cost and status -------------------------------------------------------------------------


def test_a_sync_with_nothing_new_reads_no_file(root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fill(root)
    reads: list[str] = []
    real_read = folder_module._read_file

    def read(path: str) -> bytes:
        reads.append(path)
        return real_read(path)

    monkeypatch.setattr(folder_module, "_read_file", read)
    have = {device: {0, 1, 2} for device in (ALICE, BOB, CARA)}
    assert sync(FolderTransport(root), have) == ([], [])
    assert reads == []
    have[BOB] = {0, 2}
    got, _ = sync(FolderTransport(root), have)
    assert received(got) == {(BOB, 1): envelope(BOB, 1)}
    assert len(reads) == 1


def test_status_counts_what_each_device_has_published(root: Path) -> None:
    transport = FolderTransport(root)
    assert transport.status().reachable is True
    assert transport.status().published == {}
    fill(root)
    drop(root, ALICE, "00000002 (1).env", frame(envelope(ALICE, 2)))  # a copy is not another
    transport.publish(CARA, 10, envelope(CARA, 10))
    status = transport.status()
    assert status.reachable is True
    assert status.published == {ALICE: 3, BOB: 3, CARA: 4}


# -- the frame and the names -----------------------------------------------------------------


def test_the_frame_round_trips_and_refuses_anything_else() -> None:
    data = envelope(ALICE, 1, size=2048)
    whole = frame(data)
    assert whole[:6] == b"SCENV\x01" and len(whole) == 14 + 2048
    assert unframe(whole) == data
    assert unframe(frame(b"")) == b""
    assert unframe(whole + b"\0") is None  # something appended
    flipped = bytearray(whole)
    flipped[100] ^= 1
    assert unframe(bytes(flipped)) is None


def test_names_of_copies_are_read_as_their_number() -> None:
    assert parse_name("00000012.env") == 12
    assert parse_name("00000012 (1).env") == 12
    assert parse_name("00000012-DESKTOP-AB.env") == 12
    assert parse_name("Copy (2) of 00000012.env") == 12
    assert parse_name("123456789.env") == 123456789  # past eight digits
    for other in ("abc.env", ".00000012.env", "00000012.env.tmp", "00000012", "~00000012.env"):
        assert parse_name(other) is None


def test_a_stray_file_larger_than_any_envelope_is_not_read_whole(
    root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(folder_module, "MAX_ENVELOPE", 1000)
    drop(root, ALICE, "00000001.env", b"\0" * 50_000)
    sizes: list[int] = []
    real_read = folder_module._read_file

    def read(path: str) -> bytes:
        sizes.append(len(content := real_read(path)))
        return content

    monkeypatch.setattr(folder_module, "_read_file", read)
    got, problems = sync(FolderTransport(root))
    assert got == [] and [p.kind for p in problems] == [ProblemKind.INCOMPLETE]
    assert sizes == [14 + 1000 + 1]


def test_the_sync_log_never_carries_what_a_sync_client_put_in_a_file_name(
    root: Path, caplog: pytest.LogCaptureFixture
) -> None:
    FolderTransport(root).publish(ALICE, 2, envelope(ALICE, 2))
    drop(root, ALICE, "00000002 (Jane Example's conflicted copy).env", frame(b"other"))
    drop(root, BOB, "00000000 (Jane Example's conflicted copy).env", frame(b"x")[:5])
    with caplog.at_level("INFO", logger="safecase.sync"):
        _, problems = sync(FolderTransport(root))
    assert {p.kind for p in problems} == {ProblemKind.CONFLICT, ProblemKind.INCOMPLETE}
    assert len(caplog.records) == 2
    assert "Jane" not in caplog.text
    assert all("Jane" not in p.sentence for p in problems)


@pytest.mark.parametrize("seed", range(8))
def test_whatever_order_and_state_files_arrive_in_each_envelope_is_received_once(
    root: Path, seed: int
) -> None:
    """A sync client delivers another office's files in random order, some half-copied
    first, some duplicated, while this laptop syncs now and then."""
    chance = random.Random(seed)
    sent = {
        (d, s): envelope(d, s, size=chance.randrange(0, 600))
        for d in (ALICE, BOB)
        for s in range(12)
    }
    # One queue of arrivals per file name: a half-copied state, perhaps, then the whole file.
    queues: list[list[tuple[str, str, bytes]]] = []
    for (device, seq), data in sent.items():
        whole = frame(data)
        queue = [(device, envelope_name(seq), whole)]
        if chance.random() < 0.4:
            queue.insert(0, (device, envelope_name(seq), whole[: chance.randrange(len(whole))]))
        queues.append(queue)
        if chance.random() < 0.3:
            queues.append([(device, f"{seq:08d} ({chance.randrange(1, 4)}).env", whole)])
    arrivals: list[tuple[str, str, bytes]] = []
    while queues:  # files of different names arrive in any order
        queue = chance.choice(queues)
        arrivals.append(queue.pop(0))
        if not queue:
            queues.remove(queue)

    reader = FolderTransport(root)
    have: dict[str, set[int]] = {}
    got: list[Incoming] = []
    for device, name, content in arrivals:
        drop(root, device, name, content)
        if chance.random() < 0.3:
            new, problems = sync(reader, have)
            assert all(p.kind is ProblemKind.INCOMPLETE for p in problems)
            got.extend(new)
            for item in new:
                have.setdefault(item.sender, set()).add(item.seq)
    new, problems = sync(reader, have)
    got.extend(new)
    assert problems == []
    assert received(got) == sent


def test_compaction_deletes_only_the_purged_cases_envelopes(tmp_path: Path) -> None:
    from app.crypto.envelopes import envelope_digest, seal_envelope
    from app.crypto.team import GENESIS, DeviceKeys

    folder = FolderTransport(tmp_path)
    folder.prepare()
    keys = DeviceKeys.generate("dev-a")
    key = bytes(32)

    previous = [GENESIS]

    def sealed(seq: int, scope: str) -> bytes:
        data = seal_envelope(
            b"x",
            team="t",
            sender=keys,
            seq=seq,
            previous=previous[-1],
            scope=scope,
            key_id=f"{scope}#1",
            key=key,
        )
        previous.append(envelope_digest(data))
        return data

    folder.publish("dev-a", 1, sealed(1, "case:gone"))
    folder.publish("dev-a", 2, sealed(2, "case:kept"))
    (tmp_path / "devices" / "dev-a" / "00000001 (1).env").write_bytes(
        (tmp_path / "devices" / "dev-a" / "00000001.env").read_bytes()
    )
    assert folder.compact({"case:gone"}) == 2
    left = {inc.seq for inc in folder.incoming({})}
    assert left == {2}
    assert folder.compact({"case:gone"}) == 0


def test_an_order_is_left_for_one_device_and_replaced_by_a_newer_one(tmp_path: Path) -> None:
    folder = FolderTransport(tmp_path)
    folder.prepare()
    assert folder.order_for("dev-b") is None
    folder.post_order("dev-b", b"first")
    folder.post_order("dev-b", b"second")
    assert folder.order_for("dev-b") == b"second"
    assert folder.order_for("dev-c") is None
    shutil.rmtree(tmp_path / "devices")
    with pytest.raises(TransportUnavailable):
        folder.order_for("dev-b")


def test_a_receipt_is_kept_apart_from_the_order(tmp_path: Path) -> None:
    folder = FolderTransport(tmp_path)
    folder.prepare()
    folder.post_order("dev-b", b"order")
    assert folder.receipt_for("dev-b") is None
    folder.post_receipt("dev-b", b"done")
    assert (folder.order_for("dev-b"), folder.receipt_for("dev-b")) == (b"order", b"done")

"""Envelopes between a team's laptops: what a receiving laptop applies, skips or refuses."""

from __future__ import annotations

import json
import secrets
import struct

import pytest
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305
from hypothesis import given, settings
from hypothesis import strategies as st

from app.crypto.envelopes import (
    MESSAGES,
    EnvelopeRejected,
    Opened,
    RejectReason,
    ReplayGuard,
    Skipped,
    SkipReason,
    key_id_for,
    open_envelope,
    seal_envelope,
)
from app.crypto.team import DeviceKeys, Directory, new_key, pack
from tests.crypto.teams import TEAM, make_team

CASE = "case:0190bbbb"
KEY_ID = key_id_for(CASE, 1)
KEY = new_key()
PLAIN = b'[{"kind":"note.added","payload":{"text":"Synthetic note about Ann Example"}}]'
TEAM_AT = make_team()


def seal(seq: int = 1, sender: DeviceKeys | None = None, **changes: object) -> bytes:
    args: dict[str, object] = {
        "team": TEAM,
        "sender": sender or TEAM_AT.worker,
        "seq": seq,
        "scope": CASE,
        "key_id": KEY_ID,
        "key": KEY,
    }
    plaintext = changes.pop("plaintext", PLAIN)
    args.update(changes)
    return seal_envelope(plaintext, **args)  # type: ignore[arg-type]


ENVELOPE = seal(seq=3)


def receive(
    data: bytes,
    guard: ReplayGuard | None = None,
    directory: Directory | None = None,
    keys: dict[str, bytes] | None = None,
) -> Opened | Skipped:
    return open_envelope(
        data,
        team=TEAM,
        directory=directory or TEAM_AT.directory,
        keys={KEY_ID: KEY} if keys is None else keys,
        seen=guard or ReplayGuard(),
    )


def refused(data: bytes, **kwargs: object) -> RejectReason:
    with pytest.raises(EnvelopeRejected) as caught:
        receive(data, **kwargs)  # type: ignore[arg-type]
    assert str(caught.value) == MESSAGES[caught.value.reason]
    assert b"Ann" not in str(caught.value).encode()
    return caught.value.reason


def test_an_envelope_opens_for_a_laptop_holding_the_case_key() -> None:
    opened = receive(seal(seq=7))
    assert isinstance(opened, Opened)
    assert (opened.plaintext, opened.sender, opened.seq, opened.scope) == (
        PLAIN,
        "dev-worker",
        7,
        CASE,
    )


def test_the_ciphertext_hides_the_text() -> None:
    assert b"Ann Example" not in seal()


def test_every_truncation_is_refused_as_cut_short() -> None:
    data = seal()
    for length in range(len(data)):
        assert refused(data[:length]) is RejectReason.TRUNCATED


def test_bytes_after_the_signature_are_refused_as_damage() -> None:
    assert refused(seal() + b"\0") is RejectReason.CORRUPTED


def test_every_single_byte_flipped_is_refused() -> None:
    data = seal()
    for at in range(len(data)):
        flipped = data[:at] + bytes([data[at] ^ 0xFF]) + data[at + 1 :]
        refused(flipped)


@settings(max_examples=300, deadline=None)
@given(st.data())
def test_any_corruption_of_any_byte_is_refused(draw: st.DataObject) -> None:
    data = ENVELOPE
    at = draw.draw(st.integers(0, len(data) - 1))
    mask = draw.draw(st.integers(1, 255))
    guard = ReplayGuard()
    refused(data[:at] + bytes([data[at] ^ mask]) + data[at + 1 :], guard=guard)
    assert guard.seen == {}


def test_another_teams_envelope_is_refused() -> None:
    assert refused(seal(team="team-other")) is RejectReason.FOREIGN_TEAM


def test_a_device_the_directory_does_not_list_is_refused() -> None:
    stranger = DeviceKeys.generate("dev-stranger")
    assert refused(seal(sender=stranger)) is RejectReason.UNKNOWN_SENDER


def test_an_impostor_using_a_known_device_id_is_refused_for_its_signature() -> None:
    impostor = DeviceKeys.generate("dev-worker")
    assert refused(seal(sender=impostor)) is RejectReason.BAD_SIGNATURE


def test_an_unsigned_envelope_is_refused() -> None:
    data = seal()
    assert refused(data[:-64] + b"\0" * 64) is RejectReason.BAD_SIGNATURE
    assert refused(data[:-68]) is RejectReason.TRUNCATED


def test_a_revoked_device_is_refused_after_the_last_envelope_the_admin_accepted() -> None:
    # The admin had accepted envelopes 1 and 2 from the worker when revoking its laptop; the
    # laptop's own clock plays no part.
    revoked = TEAM_AT.directory.with_device_revoked(
        "dev-worker", last_seq=2, at="2026-12-02T09:00:00+00:00"
    )
    assert isinstance(receive(seal(seq=2), directory=revoked), Opened)
    assert refused(seal(seq=3), directory=revoked) is RejectReason.REVOKED_SENDER


def test_the_same_bytes_again_are_already_held_and_harmless() -> None:
    guard = ReplayGuard()
    data = seal(seq=5)
    first = receive(data, guard=guard)
    guard.record(first)
    again = receive(data, guard=guard)
    assert isinstance(again, Skipped) and again.why is SkipReason.ALREADY_HAVE


def test_a_different_envelope_under_a_number_already_seen_is_refused_as_replayed() -> None:
    guard = ReplayGuard()
    guard.record(receive(seal(seq=5), guard=guard))
    assert refused(seal(seq=5, plaintext=b"[]"), guard=guard) is RejectReason.REPLAYED
    # Another sender's number 5 is its own.
    assert isinstance(receive(seal(seq=5, sender=TEAM_AT.manager), guard=guard), Opened)


def test_an_envelope_opened_but_not_recorded_opens_again_after_a_crash() -> None:
    guard = ReplayGuard()
    data = seal(seq=9)
    receive(data, guard=guard)  # killed before the operations and the guard were saved
    assert isinstance(receive(data, guard=guard), Opened)


def test_the_guard_survives_a_restart_as_plain_data() -> None:
    guard = ReplayGuard()
    data = seal(seq=5)
    guard.record(receive(data, guard=guard))
    restarted = ReplayGuard.from_json(json.loads(json.dumps(guard.to_json())))
    assert isinstance(receive(data, guard=restarted), Skipped)
    assert refused(seal(seq=5, plaintext=b"[]"), guard=restarted) is RejectReason.REPLAYED
    assert restarted.have() == {"dev-worker": {5}}


def test_an_envelope_for_a_case_this_laptop_holds_no_key_for_is_skipped_not_refused() -> None:
    guard = ReplayGuard()
    data = seal(seq=4)
    skipped = receive(data, guard=guard, keys={})
    assert isinstance(skipped, Skipped) and skipped.why is SkipReason.NOT_FOR_THIS_LAPTOP
    guard.record(skipped)
    assert guard.waiting(CASE) == [("dev-worker", 4)]
    assert guard.have() == {"dev-worker": {4}}
    assert guard.have(reread={CASE}) == {"dev-worker": set()}
    # A forged envelope under that number is still refused without the key.
    assert refused(seal(seq=4, plaintext=b"[]"), guard=guard, keys={}) is RejectReason.REPLAYED
    # Once the case key arrives (re-allocation) the same envelope opens.
    opened = receive(data, guard=guard)
    assert isinstance(opened, Opened) and opened.plaintext == PLAIN
    guard.record(opened)
    assert guard.waiting(CASE) == []


def forge_mis_scoped(sender: DeviceKeys, seq: int) -> bytes:
    """A team member's hand-made envelope claiming one case while using another case's key."""
    other_key_id = key_id_for("case:0190cccc", 1)
    header = pack(
        b"SCENV1",
        TEAM.encode(),
        sender.device_id.encode(),
        struct.pack(">Q", seq),
        CASE.encode(),
        other_key_id.encode(),
    )
    nonce = secrets.token_bytes(12)
    signed = header + pack(b"", nonce, ChaCha20Poly1305(KEY).encrypt(nonce, PLAIN, header))
    return signed + pack(b"", sender.sign(signed))


def test_a_key_of_another_scope_cannot_write_into_this_case() -> None:
    assert refused(forge_mis_scoped(TEAM_AT.worker, 1)) is RejectReason.WRONG_SCOPE


def test_an_envelope_sealed_under_another_key_with_this_key_id_is_refused() -> None:
    assert refused(seal(key=new_key())) is RejectReason.UNDECRYPTABLE


VARIANTS = {
    (sender, seq, variant): seal(seq=seq, sender=sender, plaintext=b"[%d]" % variant)
    for sender in (TEAM_AT.worker, TEAM_AT.manager)
    for seq in (1, 2, 3)
    for variant in (0, 1)
}


@settings(max_examples=150, deadline=None)
@given(
    st.lists(
        st.tuples(st.sampled_from(sorted(VARIANTS, key=str)), st.booleans()),
        min_size=1,
        max_size=25,
    )
)
def test_across_restarts_the_first_envelope_under_each_number_is_the_only_one_applied(
    arrivals: list[tuple[tuple[DeviceKeys, int, int], bool]],
) -> None:
    guard = ReplayGuard()
    first: dict[tuple[str, int], int] = {}
    for (sender, seq, variant), restart in arrivals:
        if restart:
            guard = ReplayGuard.from_json(json.loads(json.dumps(guard.to_json())))
        number = (sender.device_id, seq)
        held = first.get(number)
        data = VARIANTS[(sender, seq, variant)]
        if held is None:
            opened = receive(data, guard=guard)
            assert isinstance(opened, Opened)
            guard.record(opened)
            first[number] = variant
        elif held == variant:
            skipped = receive(data, guard=guard)
            assert isinstance(skipped, Skipped) and skipped.why is SkipReason.ALREADY_HAVE
        else:
            assert refused(data, guard=guard) is RejectReason.REPLAYED
    assert guard.have() == {s: {q for (d, q) in first if d == s} for s in {d for (d, _) in first}}

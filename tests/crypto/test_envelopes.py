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
    envelope_digest,
    key_id_for,
    open_envelope,
    seal_envelope,
)
from app.crypto.team import GENESIS, DeviceKeys, Directory, new_key, pack
from tests.crypto.teams import TEAM, make_team

CASE = "case:0190bbbb"
KEY_ID = key_id_for(CASE, 1)
KEY = new_key()
PLAIN = b'[{"kind":"note.added","payload":{"text":"Synthetic note about Ann Example"}}]'
TEAM_AT = make_team()
SOME_DIGEST = "ab" * 32


def seal(seq: int = 1, sender: DeviceKeys | None = None, **changes: object) -> bytes:
    """Envelope ``seq``, naming a made-up previous envelope (GENESIS for the first)."""
    args: dict[str, object] = {
        "team": TEAM,
        "sender": sender or TEAM_AT.worker,
        "seq": seq,
        "previous": GENESIS if seq == 1 else SOME_DIGEST,
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
    second = seal(seq=2)
    revoked = TEAM_AT.directory.with_device_revoked(
        "dev-worker", last=(2, envelope_digest(second)), at="2026-12-02T09:00:00+00:00"
    )
    assert isinstance(receive(second, directory=revoked), Opened)
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
    other_place = seal(seq=5, plaintext=b"[]", previous="cd" * 32)
    assert refused(other_place, guard=guard) is RejectReason.REPLAYED
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
    assert refused(seal(seq=5, plaintext=b"[]"), guard=restarted) is RejectReason.FORKED
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
    assert refused(seal(seq=4, plaintext=b"[]"), guard=guard, keys={}) is RejectReason.FORKED
    # Once the case key arrives (re-allocation) the same envelope opens.
    opened = receive(data, guard=guard)
    assert isinstance(opened, Opened) and opened.plaintext == PLAIN
    guard.record(opened)
    assert guard.waiting(CASE) == []


def forge_mis_scoped(sender: DeviceKeys, seq: int) -> bytes:
    """A team member's hand-made envelope claiming one case while using another case's key."""
    other_key_id = key_id_for("case:0190cccc", 1)
    header = pack(
        b"SCENV2",
        TEAM.encode(),
        sender.device_id.encode(),
        struct.pack(">Q", seq),
        bytes.fromhex(GENESIS if seq == 1 else SOME_DIGEST),
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


def chain(sender: DeviceKeys, variant: int) -> list[bytes]:
    """Envelopes 1 to 3 of one history of ``sender``, each naming the one before it."""
    sent: list[bytes] = []
    for seq in (1, 2, 3):
        previous = envelope_digest(sent[-1]) if sent else GENESIS
        sent.append(seal(seq=seq, sender=sender, previous=previous, plaintext=b"[%d]" % variant))
    return sent


CHAINS = {
    (sender.device_id, variant): chain(sender, variant)
    for sender in (TEAM_AT.worker, TEAM_AT.manager)
    for variant in (0, 1)
}


@settings(max_examples=150, deadline=None)
@given(
    st.lists(
        st.tuples(st.sampled_from(sorted(CHAINS)), st.sampled_from([1, 2, 3]), st.booleans()),
        min_size=1,
        max_size=25,
    )
)
def test_across_restarts_only_one_history_per_device_is_ever_applied(
    arrivals: list[tuple[tuple[str, int], int, bool]],
) -> None:
    # Two histories per device (as a device and someone holding its keys might write): the
    # first envelope under each number wins, and nothing contradicting what is held opens.
    guard = ReplayGuard()
    held: dict[tuple[str, int], int] = {}
    for (sender, variant), seq, restart in arrivals:
        if restart:
            guard = ReplayGuard.from_json(json.loads(json.dumps(guard.to_json())))
        data = CHAINS[(sender, variant)][seq - 1]
        here = held.get((sender, seq))
        neighbours = {held.get((sender, seq - 1), variant), held.get((sender, seq + 1), variant)}
        if here == variant:
            skipped = receive(data, guard=guard)
            assert isinstance(skipped, Skipped) and skipped.why is SkipReason.ALREADY_HAVE
        elif here is not None:
            expected = RejectReason.FORKED if seq == 1 else RejectReason.REPLAYED
            assert refused(data, guard=guard) is expected
        elif neighbours != {variant}:
            assert refused(data, guard=guard) is RejectReason.FORKED
        else:
            opened = receive(data, guard=guard)
            assert isinstance(opened, Opened)
            guard.record(opened)
            held[(sender, seq)] = variant
    assert guard.have() == {s: {q for (d, q) in held if d == s} for s in {d for (d, _) in held}}

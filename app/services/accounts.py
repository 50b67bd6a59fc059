"""Creating a store, signing in and out, and managing users, passwords and keys."""

from __future__ import annotations

import datetime as dt
import json
import logging
import math
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from zxcvbn import zxcvbn

from app import policy
from app.crypto import anchor
from app.crypto import vault as vaultlib
from app.crypto.anchor import Anchor
from app.crypto.device import DeviceSecrets
from app.crypto.kdf import Argon2Params, calibrate
from app.crypto.slots import UNKNOWN_SLOT
from app.crypto.vault import Vault
from app.errors import AccountDisabled, InvalidInput, PermissionDenied, SafecaseError
from app.models import settings, users
from app.models.db import transaction
from app.models.schema import migrate
from app.models.users import Role, User
from app.services import audit
from app.services import backup as backup_service
from app.services.session import Session, utc_now

if TYPE_CHECKING:
    from app.sync.engine import State

log = logging.getLogger("safecase.accounts")

MIN_PASSWORD_LENGTH = 12
MIN_PASSWORD_SCORE = 3
USERNAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{1,63}$")


# -- rules ---------------------------------------------------------------------------------


def password_problem(password: str, username: str, service_name: str = "") -> str | None:
    """Why ``password`` is not good enough, or None when it is (NIST SP 800-63B-4).

    At least 12 characters and hard to guess, judged by zxcvbn with the username and the
    service's name as words an attacker would try first. No composition rules.
    """
    if len(password) < MIN_PASSWORD_LENGTH:
        return f"Choose a password of at least {MIN_PASSWORD_LENGTH} characters."
    hints = [w for w in (username, service_name, "safecase") if w]
    hints += service_name.split()
    if zxcvbn(password[:100], user_inputs=hints)["score"] < MIN_PASSWORD_SCORE:
        return "That password is too easy to guess. Try a few unrelated words together."
    return None


def check_password(password: str, username: str, service_name: str = "") -> None:
    problem = password_problem(password, username, service_name)
    if problem:
        raise InvalidInput(problem)


def check_username(username: str) -> str:
    name = username.strip()
    if not USERNAME.match(name):
        raise InvalidInput(
            "A username is 2 to 64 letters, digits, dots, dashes or underscores, "
            "starting with a letter or digit."
        )
    return name


def parse_roles(text: str) -> frozenset[Role]:
    try:
        roles = frozenset(Role(part.strip().lower()) for part in text.split(",") if part.strip())
    except ValueError:
        raise InvalidInput(
            "Roles are caseworker, manager, admin or dpo, separated by commas."
        ) from None
    if not roles:
        raise InvalidInput("Give the user at least one role.")
    return roles


def _kdf(conn_value: str | None) -> Argon2Params:
    if not conn_value:
        return calibrate()
    return Argon2Params.from_json(json.loads(conn_value))


def _service_name(session: Session) -> str:
    return settings.get(session.conn, settings.SERVICE_NAME) or ""


# -- creating and signing in -----------------------------------------------------------------


def check_password_only_allowed(device: DeviceSecrets | None) -> None:
    """A password-only slot (no device) is refused where the organisation forbids them."""
    if device is None and policy.load().allow_password_only is False:
        raise PermissionDenied(
            "Your organisation does not allow password-only stores on this computer; "
            "unlock the system keyring and try again."
        )


def create_store(
    path: Path,
    *,
    service_name: str,
    admin_name: str,
    password: str,
    device: DeviceSecrets | None,
    kdf: Argon2Params | None = None,
    training: bool = False,
) -> tuple[Session, str]:
    """Make a new store with its first admin. Returns the session and the recovery key.

    ``device`` None makes a password-only store: every slot then uses the stronger cost and
    each sign-in carries a warning. ``kdf`` None calibrates Argon2id on this machine.
    ``training`` marks a training store, the only kind that takes synthetic demo records; it
    is set here, once, and never changed afterwards.
    """
    check_password_only_allowed(device)
    service = service_name.strip()
    if not service:
        raise InvalidInput("Give the service's name.")
    name = check_username(admin_name)
    check_password(password, name, service)
    params = kdf or calibrate()
    created = vaultlib.create(path, name, password, kdf=params, device=device)
    v = created.vault
    try:
        # A record left beside an earlier store at this place says nothing about this one.
        anchor.forget(path)
        migrate(v.conn)
        with transaction(v.conn):
            settings.put(v.conn, settings.SERVICE_NAME, service)
            settings.put(v.conn, settings.KDF, json.dumps(params.to_json()))
            settings.put(v.conn, settings.PASSWORD_ONLY, "1" if device is None else "0")
            settings.put(v.conn, settings.TRAINING, "1" if training else "0")
            user_id = users.insert(
                v.conn, name, frozenset({Role.ADMIN}), created.admin_slot_id, utc_now()
            )
            audit.record(v.conn, user_id, audit.STORE_CREATED, "", "training" if training else "")
            audit.record(v.conn, user_id, audit.USER_ADDED, f"user:{user_id}", "roles=admin")
    except BaseException:
        v.close()
        for leftover in vaultlib.store_files(path):
            leftover.unlink(missing_ok=True)
        raise
    session = Session(v, user_id, name, frozenset({Role.ADMIN}), password_only=device is None)
    return session, created.recovery_key


def _start_session(v: Vault) -> Session:
    """Bring the schema up to date, write pending failures and the sign-in to the trail."""
    try:
        audit.check_anchor(v.conn, v.path)
        made = utc_now()
        before_update = backup_service.before_update(v, made)
        migrate(v.conn)
        failures, dropped = v.take_failed_sign_ins()
        user = users.by_slot(v.conn, v.slot_id)
        with transaction(v.conn):
            if dropped:
                audit.record(
                    v.conn,
                    None,
                    audit.SIGN_IN_FAILED,
                    "user:unknown",
                    f"dropped={dropped}",
                )
            for failure in failures:
                slot = str(failure.get("slot", UNKNOWN_SLOT))
                owner = users.by_slot(v.conn, slot) if slot != UNKNOWN_SLOT else None
                at = dt.datetime.fromtimestamp(float(str(failure.get("at", 0))), dt.UTC)
                audit.record(
                    v.conn,
                    None,
                    audit.SIGN_IN_FAILED,
                    f"user:{owner.id}" if owner else "user:unknown",
                    at=at.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
                )
            if user is None or user.disabled:
                audit.record(
                    v.conn,
                    None,
                    audit.SIGN_IN_FAILED,
                    f"user:{user.id}" if user else "user:unknown",
                    "account disabled",
                )
            else:
                audit.record(v.conn, user.id, audit.SIGN_IN, f"user:{user.id}")
                if before_update is not None:
                    backup_service.record_before_update(v.conn, user.id, before_update, made)
        if user is None or user.disabled:
            raise AccountDisabled()
        session = Session(
            v,
            user.id,
            user.username,
            user.roles,
            must_change_password=v.must_change,
            password_only=v.password_only,
            team_id=user.team_id,
            backup_before_update=before_update,
        )
        _finish_interrupted_purge(session)
    except BaseException:
        v.close()
        raise
    return session


def _finish_interrupted_purge(session: Session) -> None:
    """Close a purge run a crash left open; a full disk does not stop the sign-in."""
    # Imported here: retention calls back into this module for the purge's closing rekey.
    from app.services import retention

    try:
        retention.finish_interrupted_run(session)
    except SafecaseError as exc:
        log.warning("an interrupted purge could not be closed yet: %s", type(exc).__name__)


def sign_in(
    path: Path,
    username: str,
    password: str,
    *,
    device: DeviceSecrets | None,
    clock: Callable[[], float] = time.time,
) -> Session:
    """Open the store as ``username``. Raises a SignInRefused error with a clear sentence."""
    v = vaultlib.open_with_password(path, username, password, device=device, clock=clock)
    return _start_session(v)


def verify_audit(
    path: Path,
    username: str,
    password: str,
    *,
    device: DeviceSecrets | None,
    verification_key: bytes | None = None,
    checkpoints: Sequence[Path] = (),
    backups: Path | None = None,
    team: bool = False,
    clock: Callable[[], float] = time.time,
) -> audit.Verification:
    """Sign in and check the audit trail before anything is written to it (with ``team``,
    what the team's other laptops sent of theirs too).

    The user is looked up without writing; only a reader of the trail gets the check. When it
    finds tampering the store is closed untouched (no sign-in entry, no migration), so the
    evidence stays as it was found; otherwise the sign-in and the check are recorded.
    """
    v = vaultlib.open_with_password(path, username, password, device=device, clock=clock)
    result: audit.Verification | None = None
    try:
        user = users.by_slot(v.conn, v.slot_id)
        if user and not user.disabled and user.roles & set(audit.READERS) and not v.must_change:
            witnesses = [w for w in (anchor.read(path),) if w is not None]
            witnesses += _backup_anchors(v, backups) if backups is not None else []
            witnesses += [
                audit.checkpoint_anchor(c, verification_key, v.slots.store_id) for c in checkpoints
            ]
            result = audit.check(v.conn, verification_key=verification_key, anchors=witnesses)
            if team:
                result = audit.with_team(v.conn, result)
    except BaseException:
        v.close()
        raise
    if result is not None and not result.ok:
        v.close()
        return result
    session = _start_session(v)
    try:
        # Refuses (and has recorded the sign-in) when the user may not read the trail.
        session.require(*audit.READERS)
        assert result is not None
        audit.record_verified(session.conn, session.user_id, result)
    except BaseException:
        sign_out_after_error(session)
        raise
    sign_out(session)
    return result


def accept_lost_entries(
    path: Path,
    username: str,
    password: str,
    *,
    device: DeviceSecrets | None,
    clock: Callable[[], float] = time.time,
) -> tuple[int, int]:
    """Open a store that came back shorter than this computer last saw it, as it is.

    For an admin with no backup newer than the damage: the loss is written to the trail (the
    entry this computer saw and the one the store ends at) and the anchor starts again from
    there. Returns those two entry numbers.
    """
    v = vaultlib.open_with_password(path, username, password, device=device, clock=clock)
    try:
        user = users.by_slot(v.conn, v.slot_id)
        if user is None or user.disabled or not user.is_admin or v.must_change:
            raise PermissionDenied("Only an admin can open a store that lost audit entries.")
        seen = anchor.read(path)
        if seen is None:
            raise InvalidInput("This computer has no record of a longer trail; nothing was lost.")
        found = audit.last_entry(v.conn)
        with transaction(v.conn):
            audit.record(
                v.conn, user.id, audit.LOSS_ACCEPTED, "", f"seen={seen.count} found={found}"
            )
        count, head = audit.newest(v.conn)
        anchor.reset(path, count, head)
    except BaseException:
        v.close()
        raise
    sign_out(_start_session(v))
    return seen.count, found


def _backup_anchors(v: Vault, folder: Path) -> list[Anchor]:
    """What each backup of this store in ``folder`` saw of the trail."""
    if not folder.is_dir():
        raise InvalidInput("There is no folder of backups at that place.")
    found: list[Anchor] = []
    for file in sorted(folder.iterdir()):
        seen = vaultlib.backup_anchor(file)
        if seen is None or seen.store_id != v.slots.store_id:
            continue
        found.append(
            Anchor(f"the backup {file.name}", seen.count, seen.head, v.backup_tag_matches(seen))
        )
    return found


def recover(
    path: Path,
    recovery_key: str,
    *,
    admin_name: str,
    new_password: str,
    device: DeviceSecrets | None,
) -> Session:
    """Open the store with the recovery key and give ``admin_name`` a new password here.

    For a new laptop, or a keyring that lost its device secret. Other users' slots may need a
    password reset afterwards, since their device secret was on the old machine.
    """
    check_password_only_allowed(device)
    v = vaultlib.open_with_recovery(path, recovery_key, device=device)
    try:
        if device is not None:
            # The new slot is made on this machine, so it may need this machine's secret.
            device.get_or_create()
    except BaseException:
        v.close()
        raise
    return _enrol_recovered_admin(v, admin_name, new_password, audit.PASSWORD_RESET)


def _enrol_recovered_admin(v: Vault, admin_name: str, new_password: str, action: str) -> Session:
    try:
        audit.check_anchor(v.conn, v.path)
        migrate(v.conn)
        user = users.by_name(v.conn, admin_name)
        if user is None or not user.is_admin or user.disabled:
            raise InvalidInput("Name an enabled admin account of this store.")
        service = settings.get(v.conn, settings.SERVICE_NAME) or ""
        check_password(new_password, user.username, service)
        kdf = _kdf(settings.get(v.conn, settings.KDF))
        slot_id = v.write_user_slot(
            user.username, new_password, admin=True, kdf=kdf, slot_id=user.slot_id
        )
        with transaction(v.conn):
            users.set_slot(v.conn, user.id, slot_id)
            audit.record(v.conn, user.id, action, f"user:{user.id}", "by recovery key")
            audit.record(v.conn, user.id, audit.SIGN_IN, f"user:{user.id}")
    except BaseException:
        v.close()
        raise
    v.slot_id = slot_id
    return Session(v, user.id, user.username, user.roles, password_only=v.password_only)


@dataclass(frozen=True)
class Restored:
    session: Session
    waiting: int  # other users who need a password reset before they can sign in here
    destroyed_again: backup_service.Reapplied  # cases a later purge had destroyed


def restore(
    backup: Path,
    path: Path,
    recovery_key: str,
    *,
    admin_name: str,
    new_password: str,
    device: DeviceSecrets | None,
) -> tuple[Session, int]:
    """Rebuild a store at ``path`` from a backup; returns the session and how many other
    users need a password reset before they can sign in here."""
    restored = restore_store(
        backup, path, recovery_key, admin_name=admin_name, new_password=new_password, device=device
    )
    return restored.session, restored.waiting


def restore_store(
    backup: Path,
    path: Path,
    recovery_key: str,
    *,
    admin_name: str,
    new_password: str,
    device: DeviceSecrets | None,
) -> Restored:
    """Rebuild a store at ``path`` from a backup. A case the backup still holds that a purge
    destroyed later (by the destruction log sealed in any backup of this store beside it) is
    destroyed again at once, so a restore never brings a destroyed case back."""
    check_password_only_allowed(device)
    v = vaultlib.restore_backup(backup, path, recovery_key, device=device)
    try:
        # The store is rebuilt on purpose: what this computer saw of the old one no longer holds.
        anchor.forget(path)
        migrate(v.conn)
        with transaction(v.conn):
            users.clear_slots(v.conn)
    except BaseException:
        v.close()
        raise
    session = _enrol_recovered_admin(v, admin_name, new_password, audit.STORE_RESTORED)
    try:
        again = backup_service.reapply_after_restore(session, backup)
    except BaseException as exc:
        # A store that still holds cases destroyed since its backup is not left behind.
        session.vault.close()
        for leftover in vaultlib.store_files(path):
            leftover.unlink(missing_ok=True)
        if isinstance(exc, SafecaseError):
            raise SafecaseError(
                "The restore stopped: cases destroyed since this backup could not be destroyed "
                "again, so nothing was restored."
            ) from None
        raise
    waiting = sum(1 for u in users.all_users(session.conn) if not u.disabled and not u.slot_id)
    return Restored(session, waiting, again)


def _close(session: Session, action: str) -> None:
    """Record the sign-out or lock, then close the store even if the record failed."""
    if not session.active:
        return
    try:
        with transaction(session.conn):
            audit.record(session.conn, session.user_id, action, f"user:{session.user_id}")
            audit.seal_now(session.conn)
    finally:
        session.vault.close()


def sign_out(session: Session) -> None:
    _close(session, audit.SIGN_OUT)


def sign_out_after_error(session: Session) -> None:
    """Sign out after a call failed; a failure to record the sign-out is logged, not raised,
    so it never hides the error that stopped the call. The store is closed either way."""
    try:
        sign_out(session)
    except Exception as exc:
        log.info("sign-out after a failed call was not recorded: %s", type(exc).__name__)


def lock(session: Session) -> None:
    """Close the store at once (idle or quick lock); signing in again reopens it."""
    _close(session, audit.LOCK)


# -- passwords -------------------------------------------------------------------------------


def change_password(session: Session, old_password: str, new_password: str) -> None:
    """Change the signed-in user's own password; the old one stops working at once."""
    if not session.active:
        raise SafecaseError("The store is locked. Sign in again to go on.")
    v = session.vault
    if not v.check_password(v.slot_id, old_password):
        raise InvalidInput("The current password is wrong.")
    if new_password == old_password:
        raise InvalidInput("Choose a new password that differs from the current one.")
    check_password(new_password, session.username, _service_name(session))
    kdf = _kdf(settings.get(session.conn, settings.KDF))
    v.write_user_slot(
        session.username,
        new_password,
        admin=Role.ADMIN in session.roles,
        kdf=kdf,
        slot_id=v.slot_id,
    )
    with transaction(session.conn):
        audit.record(
            session.conn, session.user_id, audit.PASSWORD_CHANGED, f"user:{session.user_id}"
        )
    session.must_change_password = False


# -- users (admins) --------------------------------------------------------------------------


def _user(session: Session, username: str) -> User:
    user = users.by_name(session.conn, username)
    if user is None:
        raise InvalidInput("There is no user with that name.")
    return user


def list_users(session: Session) -> list[User]:
    session.require(Role.ADMIN)
    return users.all_users(session.conn)


def add_user(
    session: Session,
    username: str,
    password: str,
    roles: frozenset[Role],
    *,
    must_change: bool = True,
) -> int:
    """Add a user who signs in with ``password``; returns the new user's id.

    The admin chose that password, so by default it is a first password the user must change
    at their first sign-in (as after a reset). ``must_change=False`` is for synthetic
    training accounts and test stores only."""
    session.require(Role.ADMIN)
    name = check_username(username)
    if users.by_name(session.conn, name) is not None:
        raise InvalidInput("A user with that name already exists.")
    if not roles:
        raise InvalidInput("Give the user at least one role.")
    check_password(password, name, _service_name(session))
    kdf = _kdf(settings.get(session.conn, settings.KDF))
    slot_id = session.vault.write_user_slot(
        name, password, admin=Role.ADMIN in roles, kdf=kdf, must_change=must_change
    )
    try:
        with transaction(session.conn):
            user_id = users.insert(session.conn, name, roles, slot_id, session.now())
            audit.record(
                session.conn,
                session.user_id,
                audit.USER_ADDED,
                f"user:{user_id}",
                "roles=" + users.encode_roles(roles),
            )
    except BaseException:
        session.vault.remove_slot(slot_id)
        raise
    return user_id


def reset_password(session: Session, username: str, one_time_password: str) -> None:
    """Give a user a one-time password that must be changed at their next sign-in."""
    session.require(Role.ADMIN)
    user = _user(session, username)
    check_password(one_time_password, user.username, _service_name(session))
    kdf = _kdf(settings.get(session.conn, settings.KDF))
    slot_id = session.vault.write_user_slot(
        user.username,
        one_time_password,
        admin=user.is_admin,
        kdf=kdf,
        must_change=True,
        slot_id=user.slot_id,
    )
    with transaction(session.conn):
        users.set_slot(session.conn, user.id, slot_id)
        audit.record(session.conn, session.user_id, audit.PASSWORD_RESET, f"user:{user.id}")


def set_disabled(session: Session, username: str, disabled: bool) -> bool:
    """Disable or enable a user; returns whether they hold a key slot to sign in with (a key
    rotation while they were disabled removed it: they then need a password reset)."""
    session.require(Role.ADMIN)
    user = _user(session, username)
    if disabled and user.id == session.user_id:
        raise InvalidInput("You cannot disable your own account.")
    team = _team_signing_state(session) if disabled else None
    with transaction(session.conn):
        users.set_disabled(session.conn, user.id, disabled)
        audit.record(
            session.conn,
            session.user_id,
            audit.USER_DISABLED if disabled else audit.USER_ENABLED,
            f"user:{user.id}",
        )
        if team is not None:  # disabled in the team too: their devices are cut off
            from app.services import revocation

            revocation.disable_in_team(session.conn, team, user.id, session.user_id, session.now())
    if team is not None:
        _post_team_orders(session, team)
    return user.slot_id is not None


def _team_signing_state(session: Session) -> State | None:
    """In a team, the team state of this laptop, which must sign the team's directory (one
    sentence naming the laptop that does, before anything changes); None outside a team."""
    from app.services import membership

    if not membership.in_team(session):
        return None
    from app.services import revocation

    return revocation.signing_state(session.conn)


def _post_team_orders(session: Session, state: State) -> None:
    from app.services import revocation, team
    from app.sync import moving

    transport = team.transport_of(session.conn, state)  # its folder or its server
    try:
        revocation.post_orders(session.conn, session.user_id, session.now(), transport)
    finally:
        moving.close(transport)


# Rotation rewrites every page of the store under the new key. Measured: a 41 MB store
# rekeyed in 0.2 s on a development machine; a laptop's disk with fsync is slower, so the
# estimate assumes 50 MB/s and a second for the slot files.
ROTATION_BYTES_PER_SECOND = 50_000_000


def rotation_estimate(session: Session) -> int:
    """Whole seconds a key rotation is expected to take on this store, at least 1."""
    session.require(Role.ADMIN)
    size = sum(p.stat().st_size for p in vaultlib.store_files(session.vault.path) if p.exists())
    return 1 + math.ceil(size / ROTATION_BYTES_PER_SECOND)


def disable_user(session: Session, username: str, *, rotate: bool) -> int | None:
    """Disable a user and, with ``rotate``, give the store a new data key at once, so their
    key slot stops opening it; returns the user slots kept by the rotation (None without).

    Without a rotation the disabled user's password (on a copy of the store and its key file
    made before, or on this computer) still unseals the data key until the next rotation."""
    set_disabled(session, username, True)
    if not rotate:
        return None
    try:
        return rotate_keys(session)
    except SafecaseError as exc:
        failed = SafecaseError(
            f"The user is disabled, but the store's data key was not changed: {exc} "
            "Rotate the keys again once that is put right."
        )
        failed.exit_code = exc.exit_code
        raise failed from None


def rotate_keys(session: Session) -> int:
    """Give the store a new data key (after a leaver or a suspected compromise).

    Every enabled user keeps access; disabled users' slots are removed. Returns the number of
    user slots kept.
    """
    session.require(Role.ADMIN)
    everyone = users.all_users(session.conn)
    keep = {u.slot_id: u.is_admin for u in everyone if u.slot_id and not u.disabled}
    session.vault.rotate(keep)
    with transaction(session.conn):
        for user in everyone:
            if user.slot_id and user.disabled:
                users.set_slot(session.conn, user.id, None)
        audit.record(session.conn, session.user_id, audit.KEYS_ROTATED, "", f"slots={len(keep)}")
    return len(keep)


# -- settings --------------------------------------------------------------------------------


def idle_lock_minutes(session: Session) -> int:
    """The organisation's idle lock where it set one, else the store's (5 minutes unset)."""
    fixed = policy.load().idle_lock_minutes
    if fixed is not None:
        return fixed
    value = settings.get(session.conn, settings.IDLE_LOCK_MINUTES)
    return int(value or 5)


def is_training_store(session: Session) -> bool:
    """Whether the store was created as a training store (synthetic records only)."""
    return settings.get(session.conn, settings.TRAINING) == "1"


def service_name(session: Session) -> str:
    return _service_name(session)


def set_idle_lock_minutes(session: Session, minutes: int) -> None:
    session.require(Role.ADMIN)
    if policy.load().idle_lock_minutes is not None:
        raise PermissionDenied("Your organisation sets the idle lock on this computer.")
    if not 1 <= minutes <= 60:
        raise InvalidInput("Idle lock is between 1 and 60 minutes.")
    with transaction(session.conn):
        settings.put(session.conn, settings.IDLE_LOCK_MINUTES, str(minutes))
        audit.record(session.conn, session.user_id, audit.SETTINGS_CHANGED, "setting:idle_lock")


def may_manage_users(session: Session) -> bool:
    """Whether the user manages users, key slots and the store's settings."""
    return session.has(Role.ADMIN)


def may_change_own_password(session: Session) -> bool:
    """Whether the user may choose a new password for themselves (:func:`change_password`):
    everyone signed in with a role, whatever it is."""
    return session.has(*Role)

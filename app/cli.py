"""The command line: a thin layer over app/services, for admins, scheduled jobs and tests.

``safecase`` with no subcommand opens the desktop app. Every subcommand reads passwords as one
line each from standard input when it is not a terminal, and prompts otherwise. Messages are
one line on standard error; exit codes are 0 done, 1 failed, 2 usage, 3 sign-in refused,
4 store damaged or tampered.
"""

from __future__ import annotations

import argparse
import datetime as dt
import getpass
import logging
import re
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn, TextIO

from app import __version__, paths, policy
from app.crypto import process, sealing
from app.crypto.connection import DatabaseError, classify
from app.crypto.device import DeviceSecrets
from app.crypto.kdf import Argon2Params
from app.errors import (
    EXIT_DAMAGED,
    EXIT_FAILED,
    EXIT_OK,
    EXIT_USAGE,
    InvalidInput,
    KeyringUnavailable,
    SafecaseError,
)
from app.models.breaches import Breach, ClockState
from app.models.rights import Outcome, RequestStatus, RightKind, RightsRequest
from app.services import (
    accounts,
    audit,
    backup,
    breaches,
    demo,
    figures,
    retention,
    rights,
    sar,
)
from app.services.session import UK, Session

log = logging.getLogger("safecase.cli")


if TYPE_CHECKING:
    from app.sync.server import ServerAddress


class UsageError(Exception):
    pass


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage mistake is one line on stderr and exit code 2."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{message} (see 'safecase {self.prog.partition(' ')[2]} --help'.)")


@dataclass
class Context:
    """What the commands need from outside; tests pass their own."""

    stdin: TextIO = field(default_factory=lambda: sys.stdin)
    stdout: TextIO = field(default_factory=lambda: sys.stdout)
    stderr: TextIO = field(default_factory=lambda: sys.stderr)
    device: Callable[[], DeviceSecrets] = DeviceSecrets
    # None calibrates Argon2id on this machine (never below the RFC 9106 floor).
    kdf: Argon2Params | None = None

    def secret(self, prompt: str, *, confirm: bool = False) -> str:
        """Read one password: a line of standard input, or a prompt at a terminal."""
        if not self.stdin.isatty():
            line = self.stdin.readline()
            if not line:
                raise InvalidInput(f"Expected {prompt.rstrip(': ').lower()} on standard input.")
            return line.rstrip("\r\n")
        value = getpass.getpass(prompt)
        if confirm and getpass.getpass("Type it again: ") != value:
            raise InvalidInput("The two passwords differ; nothing was changed.")
        return value

    def say(self, text: str) -> None:
        print(text, file=self.stdout)


def _count(text: str) -> int:
    """A whole number, 0 or more (for argparse)."""
    try:
        value = int(text)
    except ValueError:
        value = -1
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected a whole number, 0 or more, not {text!r}")
    return value


def _parser() -> _Parser:
    parser = _Parser(prog="safecase", description="Safecase case records.")
    parser.add_argument("--version", action="version", version=f"Safecase {__version__}")
    parser.add_argument("--store", type=Path, help="the store to open in the desktop app")
    parser.add_argument(
        "--self-test",
        action="store_true",
        help="check this installation (store, keyring, fonts, windows), one line per check",
    )
    # For the bundle's own test and its benchmark: quit once the first window is on screen.
    parser.add_argument("--exit-when-shown", action="store_true", help=argparse.SUPPRESS)
    # The self-test's child process that starts Qt (Qt ends a process it cannot start in).
    parser.add_argument("--self-test-windows", action="store_true", help=argparse.SUPPRESS)
    sub = parser.add_subparsers(dest="command", parser_class=_Parser)

    def command(name: str, help_text: str, *, store: bool = True, user: bool = True) -> _Parser:
        p: _Parser = sub.add_parser(name, help=help_text, description=help_text)
        if store:
            p.add_argument("--store", type=Path, required=True, help="the store file")
        if user:
            p.add_argument("--user", required=True, help="your username")
        return p

    p = command("init", "Create a new store and print its recovery key once.", user=False)
    p.add_argument("--admin", required=True, help="the first admin's username")
    p.add_argument("--service", default="Safecase", help="the service's name")
    p.add_argument(
        "--password-only",
        action="store_true",
        help="no keyring on this machine: slots use the password alone (with a warning)",
    )
    p.add_argument(
        "--training",
        action="store_true",
        help="a training store for synthetic records only: the one kind 'demo' fills",
    )

    user = sub.add_parser("user", help="Manage users (admins).")
    user_sub = user.add_subparsers(dest="action", required=True, parser_class=_Parser)
    for name, text in (
        ("add", "Add a user; reads your password, then theirs."),
        ("passwd", "Change your own password; reads the current one, then the new one."),
        ("reset", "Give a user a one-time password to change at next sign-in."),
        ("disable", "Stop a user signing in, and give the store a new data key."),
        ("enable", "Let a disabled user sign in again."),
        ("list", "List users and their roles."),
    ):
        p = user_sub.add_parser(name, help=text, description=text)
        p.add_argument("--store", type=Path, required=True, help="the store file")
        p.add_argument("--user", required=True, help="your username")
        if name == "add":
            p.add_argument("--new", required=True, help="the new user's username")
            p.add_argument("--role", required=True, help="caseworker, manager, admin or dpo")
        elif name in ("reset", "disable", "enable"):
            p.add_argument("--name", required=True, help="the user to change")
        if name == "disable":
            p.add_argument(
                "--no-rotate",
                action="store_true",
                help="skip the key rotation that stops their key slot opening the store "
                "(it then still does, until the next 'safecase keys rotate')",
            )

    team = sub.add_parser("team", help="Team operation: laptops that sync through a folder.")
    team_sub = team.add_subparsers(dest="action", required=True, parser_class=_Parser)
    for name, text in (
        ("create", "Make this store the first laptop of a team sharing a folder (admins)."),
        ("invite", "Write a one-time invitation for a user; prints its passphrase once."),
        ("join", "Join a team: a new store for you; reads the passphrase, then your password."),
        ("sync", "Send this laptop's changes and take in the team's."),
        ("status", "Last sync, changes waiting, conflicts, and whether the folder is there."),
        ("devices", "The team's devices (admins and managers)."),
        ("revoke", "Revoke a lost or stolen device and order it to destroy its store (admins)."),
        ("compact", "Delete purged cases' envelopes from the team's folder (admins)."),
    ):
        p = team_sub.add_parser(name, help=text, description=text)
        if name == "join":
            p.add_argument("--invitation", type=Path, required=True, help="the invitation file")
            p.add_argument("--store", type=Path, required=True, help="the new store file")
            p.add_argument(
                "--password-only", action="store_true", help="no keyring on this machine"
            )
            continue
        p.add_argument("--store", type=Path, required=True, help="the store file")
        p.add_argument("--user", required=True, help="your username")
        if name == "create":
            where = p.add_mutually_exclusive_group(required=True)
            where.add_argument("--folder", type=Path, help="the team's shared folder")
            where.add_argument("--server", help="the team server's address (a PostgreSQL DSN)")
            _server_arguments(p)
        elif name == "revoke":
            p.add_argument("--device", required=True, help="the device id ('team devices')")
        elif name == "invite":
            p.add_argument("--name", required=True, help="the user to invite")
            p.add_argument("--out", type=Path, required=True, help="the invitation file to write")

    text = (
        "Move this folder team to its PostgreSQL server (the admin's laptop): each laptop "
        "follows on its next sync, and nothing published to the folder is lost."
    )
    p = team_sub.add_parser("move-to-server", help=text, description=text)
    p.add_argument("--store", type=Path, required=True, help="the store file")
    p.add_argument("--user", required=True, help="your username")
    p.add_argument("--server", required=True, help="the team server's address (a PostgreSQL DSN)")
    _server_arguments(p)

    server = team_sub.add_parser(
        "server", help="Set up a PostgreSQL team server (its owner, once)."
    )
    server_sub = server.add_subparsers(dest="server_action", required=True, parser_class=_Parser)
    text = (
        "Create the team server's schema and roles in a PostgreSQL database, as its owner "
        "(a role allowed to create roles); running it again changes nothing that is there."
    )
    p = server_sub.add_parser("init", help=text, description=text)
    p.add_argument(
        "--dsn",
        required=True,
        help="the owner's address, e.g. postgresql://owner@db.example.org/safecase "
        "(the password from PGPASSWORD or ~/.pgpass, not on the command line)",
    )

    keys = sub.add_parser("keys", help="Key management (admins).")
    keys_sub = keys.add_subparsers(dest="action", required=True, parser_class=_Parser)
    p = keys_sub.add_parser("rotate", help="Give the store a new data key.")
    p.add_argument("--store", type=Path, required=True)
    p.add_argument("--user", required=True)

    p = command(
        "demo",
        "Add synthetic demo accounts and, with --cases, synthetic case records "
        "(never real people; admins, on a training store).",
    )
    p.add_argument("--seed", type=int, default=1)
    p.add_argument(
        "--cases",
        type=_count,
        default=0,
        help="synthetic cases to add (default 0: the demo accounts only)",
    )

    aud = sub.add_parser("audit", help="The audit trail.")
    aud_sub = aud.add_subparsers(dest="action", required=True, parser_class=_Parser)
    audit_commands = {}
    for name, text in (
        (
            "verify",
            "Check the audit trail (chain, seals, records kept outside the store) before "
            "anything is written to it; exits 4 when it was changed, cut off or rolled back.",
        ),
        (
            "checkpoint",
            "(DPO) Check the trail and write a checkpoint signed with the audit verification "
            "key, read after the password; keep it away from the computer.",
        ),
        (
            "accept-loss",
            "(Admin) Open a store that came back shorter than this computer last saw it, as "
            "it is, when no backup is newer; the loss is written to the trail.",
        ),
        (
            "start-sealing",
            "(Admin or DPO) Start sealing a store made before sealing existed; prints the "
            "audit verification key once.",
        ),
    ):
        p = aud_sub.add_parser(name, help=text, description=text)
        p.add_argument("--store", type=Path, required=True, help="the store file")
        p.add_argument("--user", required=True, help="your username")
        audit_commands[name] = p
    p = audit_commands["verify"]
    p.add_argument(
        "--with-key",
        action="store_true",
        help="read the audit verification key after the password and check the seals with it",
    )
    p.add_argument(
        "--checkpoint",
        type=Path,
        action="append",
        default=[],
        help="a checkpoint file the DPO made (repeatable)",
    )
    p.add_argument("--backups", type=Path, help="a folder of backups to compare with")
    p.add_argument(
        "--team",
        action="store_true",
        help="also name each laptop of the team whose trail no longer matches what it sent",
    )
    audit_commands["checkpoint"].add_argument(
        "--out", type=Path, required=True, help="the checkpoint file to write"
    )

    sar_parser = sub.add_parser("sar", help="Subject access requests (managers and the DPO).")
    sar_sub = sar_parser.add_subparsers(dest="action", required=True, parser_class=_Parser)
    for name, text in (
        (
            "export",
            "Write a person's subject access pack (PDF, JSON copy, manifest) to a folder, "
            "using their open access request or opening one.",
        ),
        ("signoff", "Sign off a request's pack as checked (managers)."),
        ("list", "The rights-request register with due dates; overdue requests are marked."),
        (
            "find",
            "People on the cases you may open whose name, alias, phone or postcode matches: "
            "the person id that export takes.",
        ),
        (
            "confirm",
            "The requester's identity (or an agent's authority) was confirmed: the clock starts.",
        ),
        ("pause", "Stop a request's clock while waiting for clarification."),
        ("resume", "Restart a request's clock: the clarification arrived."),
        ("extend", "Extend a complex request to three months; the requester was told why."),
        ("close", "Record the response to a request and close it."),
    ):
        p = sar_sub.add_parser(name, help=text, description=text)
        p.add_argument("--store", type=Path, required=True, help="the store file")
        p.add_argument("--user", required=True, help="your username")
        if name in SAR_STEPS:
            p.add_argument("--request", required=True, help="the request's reference")
            p.add_argument("--on", help=f"{SAR_STEPS[name]} (YYYY-MM-DD; default today)")
        if name == "find":
            p.add_argument("--name", required=True, help="a name, phone number or postcode")
        elif name == "confirm":
            p.add_argument("--authority-seen", action="store_true", help="an agent's authority")
        elif name == "pause":
            p.add_argument("--reason", required=True, help="what clarification was asked for")
        elif name == "close":
            p.add_argument("--outcome", required=True, choices=[o.value for o in Outcome])
            p.add_argument("--reasons", default="", help="a refusal's reasons (required then)")
        elif name == "export":
            p.add_argument("--person", type=int, required=True, help="the person's id")
            p.add_argument("--out", type=Path, required=True, help="the folder to write to")
            p.add_argument("--zip", action="store_true", help="write one zip file instead")
        elif name == "signoff":
            p.add_argument("--request", required=True, help="the request's reference")
            p.add_argument("--note", default="", help="what you checked (required)")
            p.add_argument(
                "--no-other-manager",
                default="",
                metavar="REASON",
                help="why you sign a pack you prepared yourself (no other manager available)",
            )
        elif name == "list":
            p.add_argument("--all", action="store_true", help="closed requests too")

    breach_parser = sub.add_parser("breach", help="The breach log (the DPO).")
    breach_sub = breach_parser.add_subparsers(dest="action", required=True, parser_class=_Parser)
    text = (
        "The breach log with each breach's 72-hour clock; with --check, exits 1 when a breach "
        "is past its 72 hours and not reported (for a scheduled job)."
    )
    p = breach_sub.add_parser("list", help=text, description=text)
    p.add_argument("--store", type=Path, required=True, help="the store file")
    p.add_argument("--user", required=True, help="your username")
    p.add_argument("--open", action="store_true", help="open breaches only")
    p.add_argument(
        "--check",
        action="store_true",
        help="exit 1 (with one line on standard error) when a breach is overdue",
    )

    p = command(
        "purge",
        "Retention (admins): destroy the due cases that were approved; with --dry-run, list "
        "what is due and why. 'approve' and 'extend' review a due case, 'log' lists past "
        "runs and 'certificate' prints one run's certificate of destruction.",
    )
    p.add_argument("action", nargs="?", choices=PURGE_ACTIONS, help="leave out to purge")
    p.add_argument("--as-of", help="the date to judge what is due on (YYYY-MM-DD; default today)")
    p.add_argument("--dry-run", action="store_true", help="list what is due; destroy nothing")
    p.add_argument("--reference", action="append", help="a due case's reference (approve, extend)")
    p.add_argument("--reason", default="", help="why (approve: optional; extend: required)")
    p.add_argument("--until", help="extend: the new review date (YYYY-MM-DD)")
    p.add_argument(
        "--backups",
        choices=[c.value for c in backup.BackupChoice],
        help="what happens to the backups made before the purge: rewrite them without the "
        "destroyed cases, destroy them, or keep them (recorded on the certificate)",
    )
    p.add_argument("--run", help="certificate: the purge run's id")
    p.add_argument("--out", type=Path, help="certificate: the PDF file to write")

    p = command(
        "figures",
        "(Managers and the DPO) Figures for commissioners for a year or a quarter, with small "
        "numbers suppressed: written as CSV and/or PDF files, or as CSV on standard output.",
    )
    period = p.add_mutually_exclusive_group(required=True)
    period.add_argument("--year", type=int, help="a whole year, such as 2026")
    period.add_argument("--quarter", help="a quarter, such as 2026-Q3")
    p.add_argument("--csv", type=Path, help="the CSV file to write (not encrypted)")
    p.add_argument("--pdf", type=Path, help="the PDF file to write, with charts (not encrypted)")
    p.add_argument("--replace", action="store_true", help="replace files already there")

    p = command("backup", "Write a backup that the recovery key can restore.")
    p.add_argument(
        "--out",
        type=Path,
        required=True,
        help="the backup file to write, or a folder to keep dated generations in",
    )
    p.add_argument(
        "--keep",
        type=int,
        default=backup.DEFAULT_GENERATIONS,
        help="with a folder: how many generations to keep (default 7)",
    )
    p.add_argument(
        "--replace",
        action="store_true",
        help="replace a file already at --out (never the store's own files)",
    )

    p = command("restore", "Rebuild a store from a backup with the recovery key.", user=False)
    p.add_argument("--backup", type=Path, required=True)
    p.add_argument("--admin", required=True, help="the admin who will sign in afterwards")
    p.add_argument("--password-only", action="store_true")

    p = command(
        "recover",
        "Open a store with its recovery key and set an admin's password here.",
        user=False,
    )
    p.add_argument("--admin", required=True)
    p.add_argument("--password-only", action="store_true")
    return parser


def progress_bar(stream: TextIO, unit: str, width: int = 30) -> Callable[[int, int], None] | None:
    """A bar that redraws itself in place on ``stream``, or None when it is not a terminal
    (a log or a pipe gets only the summary line the command prints at the end)."""
    if not stream.isatty():
        return None

    def show(done: int, total: int) -> None:
        filled = width * done // total if total else width
        bar = "#" * filled + "." * (width - filled)
        end = "\n" if done >= total else ""
        stream.write(f"\r[{bar}] {done:,}/{total:,} {unit}{end}")
        stream.flush()

    return show


def _sign_in(ctx: Context, args: argparse.Namespace, password: str) -> Session:
    session = accounts.sign_in(args.store, args.user, password, device=ctx.device())
    if session.backup_before_update is not None:
        print(
            "This store was updated for this version of Safecase; a backup taken just before "
            f"is at {session.backup_before_update}.",
            file=ctx.stderr,
        )
    if session.password_only:
        print(
            "Warning: this store is not tied to this computer's keyring; "
            "its protection rests on passwords alone.",
            file=ctx.stderr,
        )
    return session


def _device_or_none(ctx: Context, password_only: bool) -> DeviceSecrets | None:
    return None if password_only else ctx.device()


def _run(ctx: Context, args: argparse.Namespace) -> int:
    command = args.command
    if command == "init":
        password = ctx.secret("Password for the first admin: ", confirm=True)
        try:
            session, recovery = accounts.create_store(
                args.store,
                service_name=args.service,
                admin_name=args.admin,
                password=password,
                device=_device_or_none(ctx, args.password_only),
                kdf=ctx.kdf,
                training=args.training,
            )
        except KeyringUnavailable:
            raise KeyringUnavailable(
                "No secure keyring is available on this computer; unlock the system keyring, "
                "or run init with --password-only if your service's policy allows it."
            ) from None
        try:
            verification = audit.start_sealing(session)
        except BaseException:
            accounts.sign_out_after_error(session)
            raise
        accounts.sign_out(session)
        ctx.say("Store created. Its recovery key, shown this once:")
        ctx.say("")
        ctx.say("    " + recovery)
        ctx.say("")
        ctx.say("Print it or write it down and keep it locked away from the computer.")
        _show_verification_key(ctx, verification)
        if args.password_only:
            print("Warning: this store uses passwords alone, with no keyring.", file=ctx.stderr)
        if args.training:
            ctx.say("This is a training store: synthetic records only ('safecase demo').")
        return EXIT_OK
    if command == "restore":
        recovery = ctx.secret("Recovery key: ")
        password = ctx.secret(f"New password for {args.admin}: ", confirm=True)
        restored = accounts.restore_store(
            args.backup,
            args.store,
            recovery,
            admin_name=args.admin,
            new_password=password,
            device=_device_or_none(ctx, args.password_only),
        )
        accounts.sign_out(restored.session)
        ctx.say(
            f"Store restored. {restored.waiting} other user(s) need a password reset to sign in."
        )
        again = restored.destroyed_again
        if again.references:
            ctx.say(
                f"This backup was older than purge run(s) {', '.join(again.runs)}: "
                f"{len(again.references)} case(s) it still held were destroyed again at once."
            )
        return EXIT_OK
    if command == "recover":
        recovery = ctx.secret("Recovery key: ")
        password = ctx.secret(f"New password for {args.admin}: ", confirm=True)
        session = accounts.recover(
            args.store,
            recovery,
            admin_name=args.admin,
            new_password=password,
            device=_device_or_none(ctx, args.password_only),
        )
        accounts.sign_out(session)
        ctx.say("The store is open on this computer again with the new password.")
        return EXIT_OK

    if command == "team" and args.action == "join":
        return _team_join(ctx, args)
    if command == "team" and args.action == "server":
        return _team_server(ctx, args)
    if command == "audit" and args.action == "verify":
        return _verify(ctx, args)
    if command == "audit" and args.action == "accept-loss":
        seen, found = accounts.accept_lost_entries(
            args.store, args.user, ctx.secret("Your password: "), device=ctx.device()
        )
        ctx.say(
            f"The store is open again as it is: entries {found + 1} to {seen} are lost, and "
            "the loss is recorded in the audit trail."
        )
        return EXIT_OK
    if command == "team" and (args.action == "move-to-server" or getattr(args, "server", None)):
        args.server_address = _team_server_address(args)
    if command == "purge":
        _check_purge(args)
    if command == "figures":
        args.period = _figures_period(args)
    password = ctx.secret("Your password: ")
    session = _sign_in(ctx, args, password)
    try:
        code = _signed_in(ctx, args, session, password)
    except BaseException:
        # What stopped the command is what the user needs to hear, not a sign-out that
        # failed after it (a damaged or full store fails both).
        accounts.sign_out_after_error(session)
        raise
    accounts.sign_out(session)
    return code


def _signed_in(ctx: Context, args: argparse.Namespace, session: Session, password: str) -> int:
    command, action = args.command, getattr(args, "action", None)
    if command == "user" and action == "passwd":
        new = ctx.secret("New password: ", confirm=True)
        accounts.change_password(session, password, new)
        ctx.say("Password changed.")
    elif command == "user" and action == "add":
        roles = accounts.parse_roles(args.role)
        new = ctx.secret(f"Password for {args.new}: ", confirm=True)
        user_id = accounts.add_user(session, args.new, new, roles)
        ctx.say(
            f"User added (id {user_id}); they must change this password at their first sign-in."
        )
    elif command == "user" and action == "reset":
        one_time = ctx.secret(f"One-time password for {args.name}: ", confirm=True)
        accounts.reset_password(session, args.name, one_time)
        ctx.say("Password reset; it must be changed at the next sign-in.")
    elif command == "user" and action == "disable":
        _disable(ctx, session, args.name, rotate=not args.no_rotate)
    elif command == "user" and action == "enable":
        if accounts.set_disabled(session, args.name, False):
            ctx.say("User enabled.")
        else:
            ctx.say(f"User enabled; {NEEDS_RESET}")
    elif command == "user" and action == "list":
        for user in accounts.list_users(session):
            state = "disabled" if user.disabled else "enabled"
            names = ",".join(sorted(r.value for r in user.roles))
            ctx.say(f"{user.id}\t{user.username}\t{names}\t{state}")
    elif command == "keys":
        kept = accounts.rotate_keys(session)
        ctx.say(f"New data key in place; {kept} user(s) keep access.")
    elif command == "demo":
        added = demo.add_demo_accounts(session, args.seed)
        ctx.say(f"Added {len(added)} synthetic demo account(s):")
        for account in added:
            names = ",".join(sorted(r.value for r in account.roles))
            ctx.say(f"  {account.username}\t{names}\t{account.password}")
        if args.cases:
            summary = demo.generate_cases(
                session, args.cases, args.seed, progress_bar(ctx.stderr, "cases")
            )
            ctx.say(
                f"Added {summary.cases:,} synthetic cases ({summary.people:,} people, "
                f"{summary.notes:,} notes) in {summary.seconds:.1f} s."
            )
    elif command == "audit" and action == "start-sealing":
        _show_verification_key(ctx, audit.start_sealing(session))
    elif command == "audit":
        key = _verification_key(ctx)
        count = audit.checkpoint(session, key, args.out)
        ctx.say(f"Checkpoint of entries 1 to {count} written to {args.out}.")
    elif command == "purge":
        return _purge(ctx, args, session)
    elif command == "figures":
        _figures(ctx, args, session)
    elif command == "sar":
        return _sar(ctx, args, session)
    elif command == "breach":
        return _breach_list(ctx, args, session)
    elif command == "team":
        return _team(ctx, args, session)
    elif command == "backup" and args.out.is_dir():
        written, removed = backup.backup_to_folder(session, args.out, args.keep)
        ctx.say(f"Backup written: {written.name}; {len(removed)} older generation(s) removed.")
    elif command == "backup":
        size = backup.backup(session, args.out, replace=args.replace)
        ctx.say(f"Backup written ({size:,} bytes).")
    else:
        raise UsageError("Unknown command.")
    return EXIT_OK


def _server_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--cert", type=Path, help="the server's certificate (PEM) to pin, over the network"
    )
    p.add_argument(
        "--admin-dsn",
        help="the server owner's address (who ran 'team server init'), used once to make the "
        "laptops' logins; its password from PGPASSWORD or ~/.pgpass",
    )


def _team_server_address(args: argparse.Namespace) -> tuple[ServerAddress, str]:
    """The server address and the owner's DSN, checked before the password is read."""
    from app.services import team_server

    if not args.admin_dsn:
        raise UsageError("Give the server owner's address with --admin-dsn.")
    return team_server.parse_address(args.server, args.cert), args.admin_dsn


def _team_join(ctx: Context, args: argparse.Namespace) -> int:
    from app.services import team as team_service  # only when a team command runs

    passphrase = ctx.secret("Invitation passphrase: ")
    password = ctx.secret("Your new password: ", confirm=True)
    session, recovery = team_service.join(
        args.invitation,
        passphrase,
        args.store,
        password,
        device=_device_or_none(ctx, args.password_only),
        kdf=ctx.kdf,
    )
    accounts.sign_out(session)
    ctx.say("Store created for you. Its recovery key, shown this once:")
    ctx.say("")
    ctx.say("    " + recovery)
    ctx.say("")
    ctx.say("Give it to your admin to keep locked away from the computer.")
    ctx.say(
        "This laptop has asked to join the team. Once your admin's laptop has synced, run "
        "'safecase team sync' to receive your cases."
    )
    return EXIT_OK


def _team_server(ctx: Context, args: argparse.Namespace) -> int:
    from app.sync import server  # only when the server is set up

    report = server.init_server(args.dsn)
    if report.made:
        ctx.say(f"Team server set up: made {', '.join(report.made)}.")
    else:
        ctx.say("The team server was already set up; its rules and grants were checked.")
    if report.present and report.made:
        ctx.say(f"Already there: {', '.join(report.present)}.")
    ctx.say(
        "Next: the team's admin moves the team to this server from their laptop; each laptop "
        f"then signs in with a login role of its own in the group {server.DEVICE_GROUP}."
    )
    return EXIT_OK


def _team(ctx: Context, args: argparse.Namespace, session: Session) -> int:
    from app.services import team as team_service  # only when a team command runs

    if args.action == "create" and args.server:
        from app.services import team_server

        address, admin_dsn = args.server_address
        team_server.create_on_server(session, address, admin_dsn)
        ctx.say(f"Team created; its laptops sync through {address.describe()}.")
    elif args.action == "create":
        team_service.create_team(session, args.folder)
        ctx.say(f"Team created; its laptops sync through {args.folder}.")
    elif args.action == "move-to-server":
        from app.services import team_server

        address, admin_dsn = args.server_address
        moved = team_server.move_to_server(session, address, admin_dsn)
        ctx.say(
            f"The team now syncs through {address.describe()}: {moved.devices} laptop login(s) "
            f"made, {moved.copied} envelope(s) copied ({moved.held} there already). Each "
            "laptop moves on its next sync."
        )
        if moved.withdrawn:
            ctx.say(
                f"{moved.withdrawn} invitation(s) made on the folder and not used yet were "
                "withdrawn: invite those users again."
            )
        if moved.different:
            ctx.say(
                f"{moved.different} envelope(s) in the folder differ from the server's under "
                "the same number and were not copied; see the sync log."
            )
    elif args.action == "invite":
        passphrase = team_service.invite(session, args.name, args.out)
        ctx.say(f"Invitation written to {args.out}; it can be used once, within a day.")
        ctx.say("Its passphrase, shown this once (read it to them, do not send it with it): ")
        ctx.say("    " + passphrase)
    elif args.action == "sync":
        report = team_service.sync(session)
        ctx.say(
            f"Synced: {report.applied} change(s) taken in, {report.sent} envelope(s) sent, "
            f"{report.rejected} refused (see the sync log), {report.pending} waiting."
        )
        for sentence in report.problems:
            print(f"safecase: {sentence}", file=ctx.stderr)
    elif args.action == "revoke":
        team_service.revoke(session, args.device)
        ctx.say(
            f"Device {args.device} revoked: the team ignores what it sends from now on, and it "
            "destroys its store when it next syncs."
        )
    elif args.action == "compact":
        from app.services import team_purge

        deleted = team_purge.compact(session)
        ctx.say(f"Compacted: {deleted} envelope(s) of purged cases deleted from the team's folder.")
    elif args.action == "status":
        status = team_service.status(session)
        ctx.say(status.line())
        for sentence in status.problems:
            ctx.say(f"  {sentence}")
    else:
        for line in team_service.devices(session):
            mine = " (this laptop)" if line.this_laptop else ""
            seen = f"  last seen {line.last_seen}" if line.last_seen else ""
            ctx.say(
                f"{line.device_id}  {line.username}  added {line.added}  {line.state}{seen}{mine}"
            )
    return EXIT_OK


def _figures_period(args: argparse.Namespace) -> figures.Period:
    """The period asked for, checked before the password is read."""
    try:
        if args.quarter is not None:
            if not re.fullmatch(r"\d{4}-[Qq][1-4]", args.quarter.strip()):
                raise InvalidInput("Give the quarter as a year and quarter, such as 2026-Q3.")
            return figures.Period.parse(args.quarter)
        return figures.Period.year(args.year)
    except InvalidInput as exc:
        raise UsageError(str(exc)) from None


def _figures(ctx: Context, args: argparse.Namespace, session: Session) -> None:
    period: figures.Period = args.period
    if args.csv is None and args.pdf is None:
        text = figures.csv_bytes(figures.figures(session, period)).decode("utf-8-sig")
        ctx.stdout.write(text.replace("\r\n", "\n"))
        return
    try:
        written = figures.export(
            session, period, csv_file=args.csv, pdf_file=args.pdf, replace=args.replace
        )
    except figures.FiguresFileExists:
        raise figures.FiguresFileExists(
            "A file of that name is already there; nothing was written. Add --replace to "
            "replace it."
        ) from None
    ctx.say(
        f"Figures for {period.label} written, not encrypted: {', '.join(str(p) for p in written)}."
    )


NEEDS_RESET = (
    "their key slot went with a key rotation, so give them a password with "
    "'safecase user reset' before they sign in."
)


def _disable(ctx: Context, session: Session, name: str, *, rotate: bool) -> None:
    if not rotate:
        accounts.disable_user(session, name, rotate=False)
        ctx.say("User disabled.")
        print(
            "Warning: their key slot still opens the store (with their password, on a copy "
            "made before) until the next 'safecase keys rotate'.",
            file=ctx.stderr,
        )
        return
    seconds = accounts.rotation_estimate(session)
    ctx.say(f"Disabling {name} and giving the store a new data key (about {seconds} s)...")
    kept = accounts.disable_user(session, name, rotate=True)
    ctx.say(
        f"User disabled; their key slot no longer opens the store ({kept} user(s) keep access)."
    )


def _show_verification_key(ctx: Context, key: str) -> None:
    ctx.say("")
    ctx.say("Its audit verification key, for the data protection officer, shown this once:")
    ctx.say("")
    ctx.say("    " + key)
    ctx.say("")
    ctx.say(
        "It checks that nobody changed, cut or rolled back the audit trail "
        "('safecase audit verify --with-key'). Whoever holds it could also forge the seals: "
        "the DPO keeps it, away from the computer, and nobody else."
    )


def _verification_key(ctx: Context) -> bytes:
    return sealing.parse_verification_key(ctx.secret("Audit verification key: "))


def _verify(ctx: Context, args: argparse.Namespace) -> int:
    """``audit verify``: the check runs before anything is written (see accounts.verify_audit)."""
    password = ctx.secret("Your password: ")
    key = _verification_key(ctx) if args.with_key else None
    result = accounts.verify_audit(
        args.store,
        args.user,
        password,
        device=ctx.device(),
        verification_key=key,
        checkpoints=args.checkpoint,
        backups=args.backups,
        team=args.team,
    )
    if not result.ok:
        for problem in result.problems:
            print(f"safecase: {problem}", file=ctx.stderr)
        return EXIT_DAMAGED
    ctx.say(f"Checked {result.checked} entries; the audit trail is intact.")
    for note in result.notes:
        ctx.say(note)
    return EXIT_OK


PURGE_ACTIONS = ("approve", "extend", "log", "certificate")

# The steps on a request in the register, and what each one's --on date is.
SAR_STEPS = {
    "confirm": "the day identity was confirmed",
    "pause": "the day clarification was asked for",
    "resume": "the day the clarification arrived",
    "extend": "the day the requester was told",
    "close": "the day the response was sent",
}

# Which options each form of ``purge`` needs, and which it takes.
_PURGE_NEEDS = {
    None: (),
    "approve": ("reference",),
    "extend": ("reference", "reason", "until"),
    "log": (),
    "certificate": ("run", "out"),
}
_PURGE_TAKES = {
    None: {"as_of", "dry_run", "backups"},
    "approve": {"reference", "reason"},
    "extend": {"reference", "reason", "until"},
    "log": set(),
    "certificate": {"run", "out"},
}


def _check_purge(args: argparse.Namespace) -> None:
    """Catch a mistyped purge command before the password is asked for."""
    action = args.action
    name = f"purge {action}" if action else "purge"
    for option in ("as_of", "dry_run", "backups", "reference", "reason", "until", "run", "out"):
        given = bool(getattr(args, option))
        flag = "--" + option.replace("_", "-")
        if option in _PURGE_NEEDS[action] and not given:
            raise UsageError(f"'safecase {name}' needs {flag}.")
        if given and option not in _PURGE_TAKES[action]:
            raise UsageError(f"'safecase {name}' does not take {flag}.")
    if action == "extend" and len(args.reference) > 1:
        raise UsageError("Extend one case at a time.")
    args.as_of = retention.parse_day(args.as_of, "--as-of") if args.as_of else None
    args.until = retention.parse_day(args.until, "--until") if args.until else None


def _purge(ctx: Context, args: argparse.Namespace, session: Session) -> int:
    action = args.action
    if action == "approve":
        for reference in args.reference:
            done = retention.approve(session, [reference], args.reason)
            ctx.say(f"{reference}: {'approved for destruction' if done else 'already approved'}.")
    elif action == "extend":
        reference = args.reference[0]
        retention.extend(session, reference, args.reason, args.until)
        ctx.say(f"{reference}: kept until {args.until.isoformat()}, then reviewed again.")
    elif action == "log":
        for run in retention.runs(session):
            ctx.say(f"{run.run_id}\t{run.started[:19]}\t{run.cases}\t{run.destroyed_by_name}")
    elif action == "certificate":
        cases = retention.save_certificate(session, args.run, args.out)
        ctx.say(f"Certificate written to {args.out} ({cases:,} case(s)).")
    elif args.dry_run:
        items = retention.due_items(session, args.as_of)
        day = (args.as_of or retention.today(session)).isoformat()
        if not items:
            ctx.say(f"Nothing is due for destruction as of {day}.")
            return EXIT_OK
        ctx.say(f"Due for destruction as of {day}: {retention.summary(items)}.")
        older = backup.known_backups(session)
        if older:
            ctx.say(
                f"{len(older)} backup(s) of this store made before now; the purge will need "
                "--backups rewrite, destroy or keep."
            )
        ctx.say("reference\tclosed\tdue\trule\tstatus")
        for item in items:
            ctx.say(
                f"{item.reference}\t{item.closed_date.isoformat()}\t{item.due_date.isoformat()}"
                f"\t{item.rule.value}\t{retention.status_text(item)}"
            )
    else:
        choice = backup.BackupChoice(args.backups) if args.backups else None
        if choice is backup.BackupChoice.KEEP:
            print(
                "Warning: backups made before this purge keep the destroyed cases until they "
                "are rotated out; the certificate says so.",
                file=ctx.stderr,
            )
        try:
            result = retention.purge(
                session,
                as_of=args.as_of,
                progress=progress_bar(ctx.stderr, "cases"),
                backups=choice,
            )
        except retention.BackupChoiceNeeded as exc:
            raise UsageError(
                f"{exc} Add --backups rewrite, --backups destroy or --backups keep."
            ) from None
        day = result.as_of.isoformat()
        if not result.destroyed:
            ctx.say(
                f"Nothing was destroyed: no approved case is due as of {day} "
                f"({result.awaiting_review} awaiting review, {result.blocked} blocked)."
            )
            return EXIT_OK
        ctx.say(
            f"Purge run {result.run_id} as of {day}: destroyed {len(result.destroyed):,} "
            f"case(s) in {result.seconds:.1f} s."
        )
        for entry in result.destroyed:
            ctx.say(
                f"{entry.reference}\t{entry.closed_date.isoformat() if entry.closed_date else '-'}"
                f"\t{entry.due_date.isoformat()}\t{entry.rule.value}"
                f"\tpeople={entry.counts.get('people', 0)} notes={entry.counts.get('notes', 0)}"
            )
        ctx.say(
            f"Left alone: {result.awaiting_review} awaiting review, {result.blocked} blocked, "
            f"{len(result.changed)} changed since approval."
        )
        for sentence in result.backups.lines() if result.backups else ():
            ctx.say(sentence)
        ctx.say(
            f"Certificate: safecase purge certificate --store {args.store} --user {args.user} "
            f"--run {result.run_id} --out FILE.pdf"
        )
    return EXIT_OK


def _register_line(request: RightsRequest, today: dt.date) -> str:
    """One register row: ids and dates only, never the requester's or the subject's name."""
    if request.status is RequestStatus.CLOSED:
        due = f"answered {request.responded_on or '-'} ({request.outcome.replace('_', ' ')})"
    elif request.paused:
        due = "clock paused for clarification"
    elif request.deadline is None:
        due = "identity not confirmed yet"
    else:
        due = f"{'extended to' if request.extended_to else 'due'} {request.deadline}"
    subject = f"person {request.subject_person_id}" if request.subject_person_id else "not found"
    line = (
        f"{request.reference}\t{request.kind.value}\t{request.status.value}"
        f"\treceived {request.received_on}\t{due}\t{subject}"
    )
    running = request.status is RequestStatus.OPEN and not request.paused
    if request.overdue(today):
        line += "\tOVERDUE"
    elif running and request.deadline and request.deadline <= today + rights.WEEK:
        line += "\tdue this week"
    return line


def _sar_step(ctx: Context, args: argparse.Namespace, session: Session) -> int:
    request = rights.find_request(session, args.request)
    on = retention.parse_day(args.on, "--on") if args.on else session.today()
    if args.action == "confirm":
        done = rights.confirm_identity(session, request.id, on, authority_seen=args.authority_seen)
        what = "identity confirmed"
    elif args.action == "pause":
        done = rights.pause_clock(session, request.id, on, args.reason)
        what = "clock stopped"
    elif args.action == "resume":
        done = rights.resume_clock(session, request.id, on)
        what = "clock restarted"
    elif args.action == "extend":
        done = rights.extend(session, request.id, on)
        what = "extended"
    else:
        done = rights.close_request(session, request.id, Outcome(args.outcome), on, args.reasons)
        what = "closed"
    line = f"Request {done.reference}: {what} on {on.isoformat()}."
    if done.status is RequestStatus.OPEN and done.deadline is not None and not done.paused:
        line += f" Due {done.deadline.isoformat()}."
    ctx.say(line)
    return EXIT_OK


def _sar(ctx: Context, args: argparse.Namespace, session: Session) -> int:
    today = session.today()
    if args.action in SAR_STEPS:
        return _sar_step(ctx, args, session)
    if args.action == "find":
        people = rights.find_subjects(session, args.name)
        for c in people:
            born = f"born {c.date_of_birth.isoformat()}" if c.date_of_birth else "born unknown"
            ctx.say(f"{c.person_id}\t{c.name}\t{born}\t{c.role.value} on {c.reference}")
        if not people:
            ctx.say("Nobody on the cases you may open matches.")
        return EXIT_OK
    if args.action == "list":
        requests = rights.register(session, None if args.all else RequestStatus.OPEN)
        for request in requests:
            ctx.say(_register_line(request, today))
        if not requests:
            ctx.say("No requests." if args.all else "No open requests.")
        return EXIT_OK
    if args.action == "signoff":
        request = rights.find_request(session, args.request)
        sar.sign_off(session, request.id, args.note, sole_manager_reason=args.no_other_manager)
        ctx.say(f"Pack for {request.reference} signed off.")
        return EXIT_OK
    # The role first: a refused call opens no request and writes nothing.
    session.require(*sar.PACK_ROLES)
    found = rights.open_access_request(session, args.person)
    if found is not None:
        result = sar.export_pack(session, found.id, args.out, as_zip=args.zip)
    else:
        draft = rights.RequestDraft(
            kind=RightKind.ACCESS,
            requester="The data subject",
            received_on=today,
            subject_person_id=args.person,
            identity_confirmed_on=today,
        )
        try:
            found, result = sar.export_new_request(session, draft, args.out, as_zip=args.zip)
        except sar.PackRefused as exc:
            if exc.request is not None:
                _say_opened(ctx, exc.request)
            raise
        _say_opened(ctx, found)
    names = ", ".join(path.name for path in result.written)
    ctx.say(f"Pack for {found.reference} written to {args.out}: {names}.")
    if result.by_hand:
        ctx.say(f"Hand the pack over; do not post it. {result.by_hand}")
    return EXIT_OK


def _span(minutes: int) -> str:
    hours, rest = divmod(minutes, 60)
    if hours and rest:
        return f"{hours} h {rest} min"
    return f"{hours} h" if hours else f"{rest} min"


def _uk(moment: dt.datetime) -> str:
    return moment.astimezone(UK).strftime("%Y-%m-%d %H:%M %Z")


def _breach_line(breach: Breach, now: dt.datetime) -> str:
    """One breach: its reference, when the service knew, and where its clock stands. The
    description stays in the app: a log file or a scheduled job's mail gets no more."""
    facts = breach.facts
    clock = breach.clock(now)
    if clock.state is ClockState.REPORTED and facts.reported_at is not None:
        state = f"reported {_uk(facts.reported_at)}, ICO ref {facts.ico_reference}"
        if clock.late:
            state += " (after the 72 hours)"
    elif clock.state is ClockState.NOT_REPORTABLE:
        state = "not reportable: decision and reason recorded"
    elif clock.state is ClockState.OVERDUE:
        state = f"OVERDUE by {_span(clock.minutes)} (due {_uk(clock.deadline)})"
    else:
        state = f"{_span(clock.minutes)} left to report (due {_uk(clock.deadline)})"
    risk = facts.risk.value.replace("_", " ")
    line = f"{breach.reference}\taware {_uk(facts.aware_at)}\trisk: {risk}\t{state}"
    return line + ("\tclosed" if breach.closed else "")


def _breach_list(ctx: Context, args: argparse.Namespace, session: Session) -> int:
    now = session.moment()
    log_ = breaches.breach_log(session, include_closed=not args.open)
    for breach in log_:
        ctx.say(_breach_line(breach, now))
    if not log_:
        ctx.say("No open breaches." if args.open else "No breaches recorded.")
    late = sum(1 for b in log_ if not b.closed and b.clock(now).state is ClockState.OVERDUE)
    if args.check and late:
        what = "1 breach is" if late == 1 else f"{late} breaches are"
        print(f"safecase: {what} past the 72 hours and not reported to the ICO.", file=ctx.stderr)
        return EXIT_FAILED
    return EXIT_OK


def _say_opened(ctx: Context, request: RightsRequest) -> None:
    ctx.say(
        f"Opened access request {request.reference}, received and identity confirmed today; "
        f"due {request.due_on}."
    )


def run(argv: Sequence[str], ctx: Context | None = None) -> int:
    """Run one command line and return its exit code. Never raises, never prints a traceback."""
    ctx = ctx or Context()
    try:
        args = _parser().parse_args(list(argv))
        if args.command is None and (args.self_test or args.self_test_windows):
            from app.ui import self_test

            return self_test.probe() if args.self_test_windows else self_test.run_cli(ctx.stdout)
        if args.command is None:
            from app.ui.app import run_app

            # Where the organisation fixed the store's location, that is the store.
            store = policy.load().store_path or args.store or paths.default_store()
            return run_app(store, exit_when_shown=args.exit_when_shown)
        return _run(ctx, args)
    except SystemExit as exc:  # --help and --version
        return int(exc.code or 0)
    except UsageError as exc:
        print(f"safecase: {exc}", file=ctx.stderr)
        return EXIT_USAGE
    except SafecaseError as exc:
        print(f"safecase: {exc}", file=ctx.stderr)
        return exc.exit_code
    except DatabaseError as exc:
        known = classify(exc)
        if known is None:
            return _unexpected(ctx, exc)
        print(f"safecase: {known}", file=ctx.stderr)
        return known.exit_code
    except KeyboardInterrupt:
        print("safecase: stopped; nothing more was changed.", file=ctx.stderr)
        return EXIT_FAILED
    except Exception as exc:
        return _unexpected(ctx, exc)


def _unexpected(ctx: Context, exc: Exception) -> int:
    log.debug("unexpected error", exc_info=True)
    print(
        f"safecase: an unexpected problem stopped this ({type(exc).__name__}). "
        "Please report it; no personal data was shown.",
        file=ctx.stderr,
    )
    return EXIT_FAILED


def main() -> NoReturn:
    # A crash must not leave the process's memory, keys included, on disk.
    process.harden()
    sys.exit(run(sys.argv[1:]))

"""Errors a user can meet, each with one clear sentence and a command-line exit code.

Everything that is not one of these is a bug: the command line and the window show a short
apology without personal data, never a traceback.
"""

from __future__ import annotations

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_SIGN_IN = 3
EXIT_DAMAGED = 4


class SafecaseError(Exception):
    """An error the user can act on. ``str(error)`` is the sentence to show."""

    exit_code = EXIT_FAILED
    default_message = "Safecase could not finish that."

    def __init__(self, message: str | None = None) -> None:
        super().__init__(message or self.default_message)


class SignInRefused(SafecaseError):
    exit_code = EXIT_SIGN_IN


class WrongPassword(SignInRefused):
    default_message = "The username or password is wrong. Check them and try again."


class WrongRecoveryKey(SignInRefused):
    default_message = "That recovery key does not open this store. Check it and try again."


class RecoveryKeyMistyped(SignInRefused):
    default_message = "The recovery key is mistyped. Check it against the printed copy."


class SignInDelayed(SignInRefused):
    def __init__(self, seconds: int) -> None:
        self.seconds = seconds
        super().__init__(f"Too many wrong passwords. Wait {seconds} seconds before trying again.")


class AccountDisabled(SignInRefused):
    default_message = "This account is disabled. Ask an admin to re-enable it."


class MissingDeviceSecret(SignInRefused):
    default_message = (
        "This computer does not hold the key for this store. "
        "Open it with the recovery key, or on the computer where it was set up."
    )


class KeyringUnavailable(SafecaseError):
    default_message = (
        "No secure keyring is available on this computer. "
        "Unlock or install the system keyring, or ask an admin about a password-only store."
    )


class DamagedStore(SafecaseError):
    exit_code = EXIT_DAMAGED
    default_message = (
        "The store is damaged or has been tampered with. "
        "Restore it from a backup with the recovery key."
    )


class TrailTampered(DamagedStore):
    """The audit trail does not match its seals or a record of it kept outside the store."""

    default_message = (
        "The audit trail has been changed, cut short or rolled back. "
        "Tell your data protection officer and restore the newest backup."
    )


class NewerStore(SafecaseError):
    default_message = (
        "This store was made by a newer version of Safecase. Update Safecase to open it."
    )


class DiskFull(SafecaseError):
    default_message = "The disk is full. Free some space and try again; nothing was changed."


class DiskError(SafecaseError):
    default_message = (
        "Safecase could not read or write the store on this disk: it may be full, removed "
        "or failing. Free some space or check the disk, then try again."
    )


class StoreReadOnly(SafecaseError):
    default_message = (
        "The store file is read-only here. Check its permissions, or move it to a folder "
        "you can write to."
    )


class StoreUnreadable(SafecaseError):
    default_message = (
        "Safecase cannot open the store file. Check that it is there and that you may read "
        "and write it."
    )


class StoreLocked(SafecaseError):
    default_message = (
        "The store is open in another copy of Safecase. Close that copy and try again."
    )


class StoreNotFound(SafecaseError):
    default_message = "There is no store at that place. Check the path, or create one with init."


class StoreExists(SafecaseError):
    default_message = "A store already exists at that place; nothing was changed."


class BackupTargetTaken(SafecaseError):
    """A backup was pointed at a file that is there already: never replaced unless asked."""

    default_message = (
        "A file already exists there; a backup never replaces a file unless you ask it to "
        "(--replace). Nothing was written."
    )


class PermissionDenied(SafecaseError):
    default_message = "Your role does not allow that."


class NotTrainingStore(SafecaseError):
    default_message = (
        "Demo records go only into a training store: this store holds real records, so create "
        "a training store with 'safecase init --training' and add them there."
    )


class InvalidInput(SafecaseError):
    exit_code = EXIT_USAGE

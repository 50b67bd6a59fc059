"""Users and settings (admins): add, disable and enable users, reset passwords, idle lock.

Adding a user or resetting a password writes a key slot, which takes the calibrated Argon2id
time (about half a second), so those calls show progress.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QCheckBox, QHBoxLayout, QLabel, QMessageBox, QVBoxLayout, QWidget

from app import policy
from app.errors import InvalidInput
from app.models.retention import Policy
from app.models.users import Role, User
from app.services import accounts
from app.services.sar import Letterhead
from app.services.session import Session
from app.ui import labels, service_settings
from app.ui.errors import error_sentence
from app.ui.forms import FormDialog, button, check_box, confirm, spin_box
from app.ui.i18n import translate
from app.ui.letter_templates import TemplatesDialog
from app.ui.record_table import Column, RecordTable
from app.ui.service_settings import ServiceSettingsDialog
from app.ui.store_calls import StoreCalls
from app.ui.widgets import heading, line_edit, message_label, paragraph, set_message, table_view


class _PasswordForm(FormDialog):
    """A form that takes a new password twice and names a weak one as it is typed."""

    service_name = ""

    def _password_fields(self, label: str) -> None:
        self.password_field = line_edit(label.replace("&", ""), password=True)
        self.add_field(label, self.password_field)
        self.confirm_field = line_edit(translate("UsersPage", "Password again"), password=True)
        self.add_field(translate("UsersPage", "Password a&gain"), self.confirm_field)
        self.password_field.textChanged.connect(self._check_password)
        self.confirm_field.textChanged.connect(self._check_password)

    def username(self) -> str:
        raise NotImplementedError

    def password_problem(self) -> str | None:
        password = self.password_field.text()
        if not password:
            return None
        problem = accounts.password_problem(password, self.username(), self.service_name)
        if problem:
            return translate("errors", problem)
        confirm_text = self.confirm_field.text()
        if confirm_text and confirm_text != password:
            return translate("UsersPage", "The two passwords differ.")
        return None

    def _check_password(self) -> None:
        if not self.busy:
            self.show_problem(self.password_problem())

    def checked_password(self) -> str:
        password = self.password_field.text()
        if not password:
            raise InvalidInput("Choose a password.")
        problem = self.password_problem()
        if problem:
            raise InvalidInput(problem)
        if self.confirm_field.text() != password:
            raise InvalidInput("Type the password twice.")
        return password

    def busy_text(self) -> str:
        return translate("UsersPage", "Writing the key slot…")


class AddUserDialog(_PasswordForm):
    def __init__(
        self,
        calls: StoreCalls,
        service_name: str,
        parent: QWidget | None = None,
        *,
        lock_action: QAction | None = None,
    ) -> None:
        super().__init__(
            calls,
            translate("UsersPage", "Add a user"),
            parent,
            intro=translate(
                "UsersPage",
                "Give the new user a first password and tell it to them in person. They must "
                "choose their own when they first sign in.",
            ),
            save_text=translate("UsersPage", "&Add the user"),
            lock_action=lock_action,
        )
        self.service_name = service_name
        self.username_field = self.line(translate("UsersPage", "&Username"))
        self.role_boxes: dict[Role, QCheckBox] = {}
        for role in (Role.CASEWORKER, Role.MANAGER, Role.ADMIN, Role.DPO):
            box = check_box(labels.role(role))
            self.role_boxes[role] = box
            self.add_field(translate("UsersPage", "Role") if role is Role.CASEWORKER else "", box)
        self._password_fields(translate("UsersPage", "&Password"))
        self.username_field.textChanged.connect(self._check_password)
        self.username_field.setFocus()

    def username(self) -> str:
        return self.username_field.text().strip()

    def roles(self) -> frozenset[Role]:
        return frozenset(role for role, box in self.role_boxes.items() if box.isChecked())

    def make_call(self) -> Callable[[Session], object]:
        name = accounts.check_username(self.username())
        roles = self.roles()
        if not roles:
            raise InvalidInput("Give the user at least one role.")
        password = self.checked_password()
        return lambda s: accounts.add_user(s, name, password, roles)


class ResetPasswordDialog(_PasswordForm):
    def __init__(
        self,
        calls: StoreCalls,
        service_name: str,
        user: User,
        parent: QWidget | None = None,
        *,
        lock_action: QAction | None = None,
    ) -> None:
        super().__init__(
            calls,
            translate("UsersPage", "Reset a password"),
            parent,
            intro=translate(
                "UsersPage",
                "{name} will sign in with this one-time password and must choose a new one "
                "straight away.",
            ).format(name=user.username),
            save_text=translate("UsersPage", "&Reset the password"),
            lock_action=lock_action,
        )
        self.service_name = service_name
        self.user = user
        self._password_fields(translate("UsersPage", "&One-time password"))
        self.password_field.setFocus()
        self.confirm_before_saving(
            translate(
                "UsersPage",
                "Reset {name}'s password? Their current password stops working at once.",
            ).format(name=user.username),
            translate("UsersPage", "&Reset the password"),
        )

    def username(self) -> str:
        return self.user.username

    def make_call(self) -> Callable[[Session], object]:
        password = self.checked_password()
        name = self.user.username
        return lambda s: accounts.reset_password(s, name, password)


class UsersPage(QWidget):
    idle_minutes_changed = Signal(int)

    def __init__(
        self,
        calls: StoreCalls,
        session: Session,
        parent: QWidget | None = None,
        *,
        lock_action: QAction | None = None,
    ) -> None:
        super().__init__(parent)
        self.calls = calls
        self.lock_action = lock_action
        self.own_id = session.user_id
        self.service_name = ""
        self.dialog: FormDialog | None = None
        self.question: QMessageBox | None = None
        self.setAccessibleName(translate("UsersPage", "Users and settings"))

        self.model: RecordTable[User] = RecordTable(
            [
                Column(translate("UsersPage", "Username"), lambda u: u.username),
                Column(translate("UsersPage", "Roles"), lambda u: labels.roles(u.roles)),
                Column(
                    translate("UsersPage", "State"),
                    lambda u: (
                        translate("UsersPage", "Disabled")
                        if u.disabled
                        else translate("UsersPage", "Enabled")
                    ),
                ),
            ],
            self,
        )
        self.table = table_view(translate("UsersPage", "Users"), self.model)
        self.add_button = button(translate("UsersPage", "&Add a user…"))
        self.reset_button = button(translate("UsersPage", "&Reset the password…"))
        self.disable_button = button(translate("UsersPage", "&Disable"))
        self.idle_field = spin_box(translate("UsersPage", "Idle lock, in minutes"), 1, 60, 5)
        self.idle_field.setSuffix(translate("UsersPage", " min"))
        self.idle_save_button = button(translate("UsersPage", "Save the &idle lock"))
        self.templates_dialog: TemplatesDialog | None = None
        self.letterhead_button = button(translate("UsersPage", "Letter&head and retention…"))
        self.templates_button = button(translate("UsersPage", "Letter te&mplates…"))
        self.status_label = message_label(translate("UsersPage", "Status"), "status")
        self.problem_label = message_label(translate("UsersPage", "Problem"))

        users_row = QHBoxLayout()
        users_row.addWidget(self.add_button)
        users_row.addWidget(self.reset_button)
        users_row.addWidget(self.disable_button)
        users_row.addStretch(1)
        idle_label = QLabel(translate("UsersPage", "Lock Safecase after idle &time:"))
        idle_label.setBuddy(self.idle_field)
        idle_row = QHBoxLayout()
        idle_row.addWidget(idle_label)
        idle_row.addWidget(self.idle_field)
        idle_row.addWidget(self.idle_save_button)
        idle_row.addWidget(self.letterhead_button)
        idle_row.addWidget(self.templates_button)
        fixed = policy.load()
        self.policy_label = paragraph(
            translate("UsersPage", "Set by your organisation: {settings}.").format(
                settings=", ".join(fixed.fixed_labels())
            )
        )
        self.policy_label.setVisible(bool(fixed.fixed()))
        if fixed.idle_lock_minutes is not None:
            self.idle_field.setEnabled(False)
            self.idle_save_button.setEnabled(False)
            idle_row.addWidget(QLabel(translate("UsersPage", "set by your organisation")))
        idle_row.addStretch(1)

        layout = QVBoxLayout(self)
        layout.addWidget(heading(translate("UsersPage", "Users and settings")))
        layout.addWidget(
            paragraph(
                translate(
                    "UsersPage",
                    "Disabled users cannot sign in; their records and audit entries stay.",
                )
            )
        )
        layout.addLayout(users_row)
        layout.addWidget(self.table, 1)
        layout.addWidget(heading(translate("UsersPage", "Settings")))
        layout.addLayout(idle_row)
        layout.addWidget(self.policy_label)
        layout.addWidget(self.status_label)
        layout.addWidget(self.problem_label)

        self.add_button.clicked.connect(self.add_user)
        self.reset_button.clicked.connect(self.reset_password)
        self.disable_button.clicked.connect(self.toggle_disabled)
        self.idle_save_button.clicked.connect(self.save_idle)
        self.letterhead_button.clicked.connect(self.open_service_settings)
        self.templates_button.clicked.connect(self.open_templates)
        self.table.selectionModel().currentRowChanged.connect(self._selection_changed)
        self._selection_changed()

    def start(self) -> None:
        self.refresh()
        self.calls.run(accounts.service_name, self._service_name_arrived, receiver=self)
        self.calls.run(accounts.idle_lock_minutes, self.idle_field.setValue, receiver=self)

    def _service_name_arrived(self, name: str) -> None:
        self.service_name = name

    def refresh(self) -> None:
        self.calls.run(accounts.list_users, self._users_arrived, self._failed, receiver=self)

    def _users_arrived(self, users: list[User]) -> None:
        chosen = self.selected_user()
        self.model.set_records(users)
        if chosen is not None:
            for row, user in enumerate(users):
                if user.id == chosen.id:
                    self.table.selectRow(row)
        self._selection_changed()

    def selected_user(self) -> User | None:
        index = self.table.currentIndex()
        return self.model.record(index.row()) if index.isValid() else None

    def select_user(self, username: str) -> None:
        for row, user in enumerate(self.model.records):
            if user.username == username:
                self.table.selectRow(row)
                self.table.setCurrentIndex(self.model.index(row, 0))

    def _selection_changed(self, *_args: object) -> None:
        user = self.selected_user()
        self.reset_button.setEnabled(user is not None)
        self.disable_button.setEnabled(user is not None and user.id != self.own_id)
        self.disable_button.setText(
            translate("UsersPage", "&Enable")
            if user is not None and user.disabled
            else translate("UsersPage", "&Disable")
        )
        self.disable_button.setAccessibleName(self.disable_button.text().replace("&", ""))

    def _open(self, dialog: FormDialog, message: str) -> None:
        self.dialog = dialog

        def saved(_value: object) -> None:
            self._say(message)
            self.refresh()

        dialog.saved.connect(saved)
        dialog.open()

    def add_user(self) -> None:
        self._open(
            AddUserDialog(self.calls, self.service_name, self, lock_action=self.lock_action),
            translate("UsersPage", "User added."),
        )

    def reset_password(self) -> None:
        user = self.selected_user()
        if user is None:
            return
        self._open(
            ResetPasswordDialog(
                self.calls, self.service_name, user, self, lock_action=self.lock_action
            ),
            translate("UsersPage", "Password reset: it must be changed at the next sign-in."),
        )

    def toggle_disabled(self) -> None:
        user = self.selected_user()
        if user is None:
            return
        name = user.username
        if user.disabled:
            self.calls.run(
                lambda s: accounts.set_disabled(s, name, False),
                lambda has_slot: self._changed(
                    translate("UsersPage", "User enabled.")
                    if has_slot
                    else translate(
                        "UsersPage",
                        "User enabled. Their key slot went with a key rotation: reset their "
                        "password before they sign in.",
                    )
                ),
                self._failed,
                receiver=self,
            )
            return
        self.calls.run(
            accounts.rotation_estimate,
            lambda seconds: self._ask_to_disable(name, seconds),
            self._failed,
            receiver=self,
        )

    def _ask_to_disable(self, name: str, seconds: int) -> None:
        """Ask before disabling, offering the key rotation that stops the user's key slot
        opening the store, with how long it is expected to take."""
        rotate_box = QCheckBox(
            translate(
                "UsersPage",
                "Also give the store a new &data key now (about {n} s; Safecase waits meanwhile)",
            ).format(n=seconds)
        )
        rotate_box.setChecked(True)

        def run() -> None:
            rotate = rotate_box.isChecked()
            self.calls.run(
                lambda s: accounts.disable_user(s, name, rotate=rotate),
                lambda _v: self._changed(
                    translate(
                        "UsersPage",
                        "User disabled; the store has a new data key, so their key slot no "
                        "longer opens it.",
                    )
                    if rotate
                    else translate(
                        "UsersPage",
                        "User disabled. Their key slot still opens the store until the keys "
                        "are rotated.",
                    )
                ),
                self._failed,
                receiver=self,
                label=translate("UsersPage", "Disabling the user…"),
            )

        self.question = confirm(
            self,
            translate("UsersPage", "Disable a user"),
            translate(
                "UsersPage",
                "Disable {name}? They can no longer sign in until an admin enables them.\n\n"
                "Until the store gets a new data key, their password still unseals it "
                "(on this computer, or on a copy of the store made before).",
            ).format(name=name),
            translate("UsersPage", "&Disable"),
            run,
            lock_action=self.lock_action,
        )
        self.question.setCheckBox(rotate_box)

    def _changed(self, message: str) -> None:
        self._say(message)
        self.refresh()

    def save_idle(self) -> None:
        minutes = self.idle_field.value()

        def saved(_value: object) -> None:
            self._say(
                translate("UsersPage", "Safecase now locks after {n} idle minutes.").format(
                    n=minutes
                )
            )
            self.idle_minutes_changed.emit(minutes)

        self.calls.run(
            lambda s: accounts.set_idle_lock_minutes(s, minutes), saved, self._failed, receiver=self
        )

    def open_service_settings(self) -> None:
        def arrived(loaded: tuple[Letterhead, Policy]) -> None:
            dialog = ServiceSettingsDialog(self.calls, *loaded, self, lock_action=self.lock_action)
            self._open(dialog, translate("UsersPage", "Letterhead and retention saved."))

        self.calls.run(service_settings.load, arrived, self._failed, receiver=self)

    def open_templates(self) -> None:
        """The letter templates (admins): changed, previewed and reset in their own dialog."""
        self.templates_dialog = TemplatesDialog(self.calls, self, lock_action=self.lock_action)
        self.templates_dialog.open()

    def _say(self, text: str) -> None:
        set_message(self.problem_label, None)
        set_message(self.status_label, text)

    def _failed(self, error: BaseException) -> None:
        set_message(self.status_label, None)
        set_message(self.problem_label, error_sentence(error))

    def clear(self) -> None:
        self.model.clear()

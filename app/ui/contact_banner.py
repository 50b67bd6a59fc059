"""The safe contact banner: how it is safe to contact a case's client, always in view.

Three states, each with its own colour and words so nobody has to read closely: no details
recorded (amber: ask the client first), do not contact (red), and the safe number, times and
ways with the code word hidden until someone clicks to see it.

A fourth, over any of them: two laptops recorded different safe contact details and nobody has
chosen yet (an open conflict). The banner turns red and shows every value with who set it and
when, so nobody rings the wrong number; code words stay hidden behind the same button.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QVBoxLayout

from app.models.records import ContactMethod, ContactRules
from app.services.conflicts import SAFETY_PREFIX, Conflict
from app.ui import conflict_labels, labels
from app.ui.i18n import translate
from app.ui.widgets import keep_left_to_right

HIDDEN_CODE_WORD = "••••••"


def _label(name: str) -> QLabel:
    label = QLabel()
    label.setAccessibleName(name)
    label.setWordWrap(True)
    label.setTextFormat(Qt.TextFormat.PlainText)
    # Not selectable: a selection would reach other programs through the primary selection.
    label.setTextInteractionFlags(Qt.TextInteractionFlag.NoTextInteraction)
    return keep_left_to_right(label)  # a name or code word in Arabic stays where it belongs


class ContactBanner(QFrame):
    """Shows a case's :class:`ContactRules`."""

    UNKNOWN, DO_NOT_CONTACT, SAFE = "contactUnknown", "doNotContact", "contactSafe"
    CONFLICT = "contactConflict"

    def __init__(self) -> None:
        super().__init__()
        self.setAccessibleName(translate("ContactBanner", "Safe contact"))
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.state = self.UNKNOWN
        self._code_word = ""
        self._contact: ContactRules | None = None
        self._conflicts: list[Conflict] = []

        self.title = _label(translate("ContactBanner", "Safe contact state"))
        self.title.setObjectName("bannerTitle")
        self.number_line = _label(translate("ContactBanner", "Safe number and times"))
        self.ways_line = _label(translate("ContactBanner", "Ways of contact that are OK"))
        self.people_line = _label(translate("ContactBanner", "Safe and unsafe people"))
        self.conflict_line = _label(translate("ContactBanner", "Conflicting safe contact details"))
        self.conflict_line.setObjectName("bannerConflict")
        self.code_word_label = _label(translate("ContactBanner", "Code word"))
        self.code_word_button = QPushButton(translate("ContactBanner", "Show code &word"))
        self.code_word_button.setAccessibleName(translate("ContactBanner", "Show code word"))
        self.code_word_button.setCheckable(True)
        self.code_word_button.setAutoDefault(False)
        self.code_word_button.toggled.connect(self._show_code_word)

        # The code word sits on the title row, so the banner stays short on a small screen.
        top = QHBoxLayout()
        top.addWidget(self.title, 1)
        top.addWidget(self.code_word_label)
        top.addWidget(self.code_word_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 4, 8, 4)
        layout.setSpacing(2)
        layout.addLayout(top)
        layout.addWidget(self.conflict_line)
        layout.addWidget(self.number_line)
        layout.addWidget(self.ways_line)
        layout.addWidget(self.people_line)
        self.set_rules(None)

    def set_rules(self, contact: ContactRules | None) -> None:
        self._contact = contact
        self._render()

    def set_conflicts(self, conflicts: list[Conflict]) -> None:
        """Show the case's open conflicts on safe contact details in the banner itself."""
        self._conflicts = [c for c in conflicts if c.open and c.field.startswith(SAFETY_PREFIX)]
        self._render()

    @property
    def conflicted_fields(self) -> set[str]:
        return {c.field for c in self._conflicts}

    def _render(self) -> None:
        self.code_word_button.setChecked(False)
        contact = self._contact
        rules = contact.rules if contact is not None else None
        self._code_word = rules.code_word if rules else ""
        if rules is None:
            self._set_state(self.UNKNOWN)
            self.title.setText(
                translate(
                    "ContactBanner",
                    "No safe contact details are recorded. Ask the client how to reach them "
                    "safely before making any contact.",
                )
            )
            for line in (self.number_line, self.ways_line, self.people_line, self.conflict_line):
                line.clear()  # nothing of a case left behind a hidden line
                line.setVisible(False)
            self._show_code_row(False)
            self._describe()
            return
        if rules.do_not_contact:
            self._set_state(self.DO_NOT_CONTACT)
            self.title.setText(
                translate(
                    "ContactBanner",
                    "DO NOT CONTACT the client: no calls, texts, letters or visits.",
                )
            )
        else:
            self._set_state(self.SAFE)
            self.title.setText(translate("ContactBanner", "Safe contact"))
        method = ""
        if rules.method:
            try:
                method = labels.contact_method(ContactMethod(rules.method))
            except ValueError:
                method = rules.method
        number = rules.safe_number or translate("ContactBanner", "none recorded")
        if "safe_contacts.safe_number" in self.conflicted_fields:
            number = translate("ContactBanner", "IN CONFLICT, see above")
        parts = [translate("ContactBanner", "Safe number: {number}").format(number=number)]
        if method:
            parts.append(translate("ContactBanner", "Way: {method}").format(method=method))
        if rules.safe_times:
            parts.append(
                translate("ContactBanner", "Safe times: {times}").format(times=rules.safe_times)
            )
        self.number_line.setText(" · ".join(parts))
        self.number_line.setVisible(not rules.do_not_contact)
        ways = [
            translate("ContactBanner", "Voicemail: {ok}").format(ok=self._ok(rules.voicemail_ok)),
            translate("ContactBanner", "Text: {ok}").format(ok=self._ok(rules.text_ok)),
            translate("ContactBanner", "Letters: {ok}").format(ok=self._ok(rules.letters_ok)),
        ]
        if rules.letters_ok:
            safe_to = ", ".join(p for p in (rules.safe_address, rules.safe_postcode) if p)
            ways[-1] = (
                translate("ContactBanner", "Letters: yes, only to {address}").format(
                    address=safe_to.replace("\n", ", ")
                )
                if safe_to
                else translate("ContactBanner", "Letters: yes, but no safe address recorded")
            )
        if rules.last_checked:
            ways.append(
                translate("ContactBanner", "Last checked {date}").format(
                    date=labels.date(rules.last_checked)
                )
            )
        self.ways_line.setText(" · ".join(ways))
        self.ways_line.setVisible(not rules.do_not_contact)
        people = []
        if rules.safe_people:
            people.append(
                translate("ContactBanner", "Safe to speak to: {who}").format(who=rules.safe_people)
            )
        if rules.unsafe_people:
            people.append(
                translate("ContactBanner", "Never speak to: {who}").format(who=rules.unsafe_people)
            )
        self.people_line.setText(" · ".join(people))
        self.people_line.setVisible(bool(people))
        conflicted = self.conflicted_fields
        if conflicted:
            self._set_state(self.CONFLICT)
            if "safe_contacts.do_not_contact" in conflicted:
                self.title.setText(
                    translate(
                        "ContactBanner",
                        "Safe contact details in conflict. One record says DO NOT CONTACT: make "
                        "no contact until a person resolves this.",
                    )
                )
            elif rules.do_not_contact:
                self.title.setText(
                    translate(
                        "ContactBanner",
                        "DO NOT CONTACT the client: no calls, texts, letters or visits. Some safe "
                        "contact details are also in conflict.",
                    )
                )
            else:
                self.title.setText(
                    translate(
                        "ContactBanner",
                        "Safe contact details in conflict: check with the client before using "
                        "either.",
                    )
                )
        self.conflict_line.setVisible(bool(conflicted))
        self._show_code_row(bool(self._code_word) or "safe_contacts.code_word" in conflicted)
        self._show_code_word(False)

    @staticmethod
    def _ok(value: bool) -> str:
        return translate("ContactBanner", "OK") if value else translate("ContactBanner", "NO")

    def _set_state(self, state: str) -> None:
        self.state = state
        self.setObjectName(state)
        self.style().unpolish(self)
        self.style().polish(self)

    def _show_code_row(self, shown: bool) -> None:
        self.code_word_label.setVisible(shown)
        self.code_word_button.setVisible(shown)

    def _show_code_word(self, shown: bool) -> None:
        word = self._code_word if shown else HIDDEN_CODE_WORD
        if "safe_contacts.code_word" in self.conflicted_fields:
            word = translate("ContactBanner", "in conflict")
        self.conflict_line.setText(
            "\n".join(
                translate("ContactBanner", "{field}, {n} values recorded:\n{values}").format(
                    field=conflict_labels.field_name(c.field),
                    n=len(c.candidates),
                    values=conflict_labels.values_lines(c, hide=not shown),
                )
                for c in self._conflicts
            )
        )
        self.code_word_label.setText(
            translate("ContactBanner", "Code word: {word}").format(word=word)
        )
        self.code_word_button.setText(
            translate("ContactBanner", "Hide code &word")
            if shown
            else translate("ContactBanner", "Show code &word")
        )
        self._describe()

    def _describe(self) -> None:
        lines = [self.title.text()]
        lines += [
            line.text()
            for line in (self.conflict_line, self.number_line, self.ways_line, self.people_line)
            if not line.isHidden() and line.text()
        ]
        self.setAccessibleDescription(" ".join(lines))

    def clear(self) -> None:
        self._conflicts = []
        self.set_rules(None)

"""How a conflict reads on screen: the field's name, each value, and who set it when."""

from __future__ import annotations

import datetime as dt

from app.models.records import CaseStatus, ContactMethod, RiskLevel
from app.services.conflicts import Candidate, Conflict
from app.ui import labels
from app.ui.i18n import translate

HIDDEN = "••••••"  # a code word, until the user asks to see it
_YES_NO = ("voicemail_ok", "text_ok", "letters_ok")


def field_name(field: str) -> str:
    """``safe_contacts.safe_number`` as a person calls it: "Safe number"."""
    t = translate
    names = {
        "safe_contacts.safe_number": t("Conflicts", "Safe number"),
        "safe_contacts.method": t("Conflicts", "Way of contact"),
        "safe_contacts.safe_times": t("Conflicts", "Safe times"),
        "safe_contacts.voicemail_ok": t("Conflicts", "Voicemail OK"),
        "safe_contacts.text_ok": t("Conflicts", "Texts OK"),
        "safe_contacts.letters_ok": t("Conflicts", "Letters OK"),
        "safe_contacts.code_word": t("Conflicts", "Code word"),
        "safe_contacts.do_not_contact": t("Conflicts", "Do not contact"),
        "safe_contacts.safe_people": t("Conflicts", "Safe people"),
        "safe_contacts.unsafe_people": t("Conflicts", "Unsafe people"),
        "safe_contacts.last_checked": t("Conflicts", "Safe contact last checked"),
        "safe_contacts.safe_address": t("Conflicts", "Safe address"),
        "safe_contacts.safe_postcode": t("Conflicts", "Safe postcode"),
        "cases.status": t("Conflicts", "Status"),
        "cases.risk_level": t("Conflicts", "Risk level"),
        "cases.allocated_user_id": t("Conflicts", "Allocated worker"),
        "cases.opened_date": t("Conflicts", "Date opened"),
        "cases.closed_date": t("Conflicts", "Date closed"),
        "cases.closed_reason": t("Conflicts", "Reason for closing"),
        "cases.referral_date": t("Conflicts", "Referral date"),
        "cases.referral_source": t("Conflicts", "Referral source"),
        "cases.referrer_id": t("Conflicts", "Referrer"),
        "cases.other_services": t("Conflicts", "Other services"),
        "cases.needs_assessment": t("Conflicts", "Needs assessment"),
        "cases.safety_plan": t("Conflicts", "Safety plan"),
        "cases.next_review": t("Conflicts", "Next review"),
        "people.given_name": t("Conflicts", "Given name"),
        "people.family_name": t("Conflicts", "Family name"),
    }
    return names.get(field, field)


def fields_text(conflicts: list[Conflict]) -> str:
    return ", ".join(field_name(c.field) for c in conflicts)


def value_text(field: str, candidate: Candidate, *, hide: bool = False) -> str:
    """One value as a person reads it (a code word hidden while ``hide``)."""
    value = candidate.value
    column = field.split(".", 1)[1]
    if field == "safe_contacts.code_word" and hide and value:
        return HIDDEN
    if value is None or value == "":
        return translate("Conflicts", "(none recorded)")
    try:
        if column == "do_not_contact":
            return (
                translate("Conflicts", "DO NOT CONTACT")
                if value
                else translate("Conflicts", "contact allowed")
            )
        if column in _YES_NO:
            return labels.yes_no(bool(value))
        if column == "method":
            return labels.contact_method(ContactMethod(str(value)))
        if field == "cases.status":
            return labels.status(CaseStatus(str(value)))
        if field == "cases.risk_level":
            return labels.risk(RiskLevel(str(value)))
        if field == "cases.allocated_user_id":
            return candidate.user_value or translate("Conflicts", "another worker")
        if column.endswith("_date") or column == "last_checked":
            return labels.date(dt.date.fromisoformat(str(value)))
    except ValueError:
        pass
    return str(value)


def when_text(candidate: Candidate) -> str:
    moment = dt.datetime.fromtimestamp(candidate.at_ms / 1000, dt.UTC)
    return labels.moment(moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ"))


def who_text(candidate: Candidate) -> str:
    """ "set by sam on 1 Dec 2026 10:42"."""
    who = candidate.username or translate("Conflicts", "someone on another laptop")
    return translate("Conflicts", "set by {who} on {when}").format(
        who=who, when=when_text(candidate)
    )


def candidate_text(field: str, candidate: Candidate, *, hide: bool = False) -> str:
    """The value, and who set it when: 07700 900001 (set by sam on 1 Dec 2026 10:42)."""
    return translate("Conflicts", "{value} ({who})").format(
        value=value_text(field, candidate, hide=hide), who=who_text(candidate)
    )


def short_candidate_text(field: str, candidate: Candidate, *, hide: bool = False) -> str:
    """For a table cell: 07700 900001 (sam, 1 Dec 2026 10:42)."""
    return translate("Conflicts", "{value} ({who}, {when})").format(
        value=value_text(field, candidate, hide=hide),
        who=candidate.username or translate("Conflicts", "another laptop"),
        when=when_text(candidate),
    )


def values_text(conflict: Conflict, *, hide: bool = False) -> str:
    """Every value the conflict holds, oldest first, with who and when, on one line."""
    return translate("Conflicts", " or ").join(
        short_candidate_text(conflict.field, c, hide=hide) for c in conflict.candidates
    )


def values_lines(conflict: Conflict, *, hide: bool = False) -> str:
    """Every value the conflict holds, oldest first, one line each with who and when."""
    return "\n".join(
        translate("Conflicts", "• {value}").format(
            value=candidate_text(conflict.field, c, hide=hide)
        )
        for c in conflict.candidates
    )

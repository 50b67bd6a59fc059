"""The letters step: a store from before it keeps every safe-contact record, and a client whose
details said "letters OK" gets no letter until someone records the safe address (the address on
record is never assumed to be safe)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from app.crypto.connection import connect
from app.models import cases as case_model
from app.models import people as people_model
from app.models.records import CaseRole
from app.models.schema import MIGRATIONS, SCHEMA_VERSION, _v11_letters, migrate
from app.services.contact_rules import Facts, Output, Rule, decide

NOW = "2026-01-05T10:00:00.000000Z"


def test_old_safe_contact_details_are_kept_and_no_letter_goes_to_the_address_on_record(
    tmp_path: Path,
) -> None:
    conn = connect(tmp_path / "old.safecase", bytes(range(32)), create=True)
    try:
        migrate(conn, MIGRATIONS[: MIGRATIONS.index(_v11_letters)])
        conn.execute(
            "INSERT INTO users (id, username, roles, created_at) "
            "VALUES (1, 'worker', 'caseworker', ?)",
            (NOW,),
        )
        conn.execute(
            "INSERT INTO people (id, given_name, family_name, address, postcode, created_at, "
            "updated_at) VALUES (1, 'Synthetic', 'Client', '14 Shared Road', 'ZZ1 1AA', ?, ?)",
            (NOW, NOW),
        )
        conn.execute(
            "INSERT INTO cases (id, reference, status, referral_date, created_at, updated_at) "
            "VALUES (1, 'SC-2026-000001', 'open', '2026-01-05', ?, ?)",
            (NOW, NOW),
        )
        conn.execute("INSERT INTO case_people VALUES (1, 1, 'client')")
        conn.execute(
            "INSERT INTO safe_contacts (case_id, person_id, safe_number, safe_times, text_ok, "
            "letters_ok, code_word, updated_by, updated_at) "
            "VALUES (1, 1, '07700 900111', 'mornings', 1, 1, 'heron', 1, ?)",
            (NOW,),
        )
        before = conn.execute("SELECT * FROM safe_contacts").fetchall()
        assert migrate(conn) == SCHEMA_VERSION
        after = conn.execute("SELECT * FROM safe_contacts").fetchall()
        assert [row[: len(before[0])] for row in after] == before
        rules = case_model.safe_contact(conn, 1, 1)
        assert rules is not None and rules.letters_ok and rules.code_word == "heron"
        assert (rules.safe_address, rules.safe_postcode) == ("", "")
        client = people_model.get(conn, 1)
        assert client is not None
        facts = Facts(client, CaseRole.CLIENT, rules, dt.datetime(2026, 1, 6, 10, tzinfo=dt.UTC))
        decision = decide(Output.APPOINTMENT, facts)
        assert decision.rule is Rule.NO_SAFE_ADDRESS
        assert "address on record" in decision.reason
        assert conn.execute("SELECT count(*) FROM contact_overrides").fetchone() == (0,)
        assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
    finally:
        conn.close()

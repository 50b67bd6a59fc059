"""The schema, versioned by ``PRAGMA user_version`` as an append-only list of steps.

Each step runs in one transaction with the version bump. Opening an older store migrates it;
opening a store newer than this code is refused.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable

from app.crypto.connection import Connection
from app.errors import NewerStore
from app.models.db import transaction
from app.sync.clock import UUID7_SQL


def _v1(conn: Connection) -> None:
    conn.execute(
        """CREATE TABLE settings (
            key   TEXT PRIMARY KEY,
            value TEXT NOT NULL
        ) STRICT"""
    )
    conn.execute(
        """CREATE TABLE users (
            id          INTEGER PRIMARY KEY,
            username    TEXT NOT NULL UNIQUE COLLATE NOCASE,
            roles       TEXT NOT NULL,
            slot_id     TEXT UNIQUE,
            disabled    INTEGER NOT NULL DEFAULT 0,
            created_at  TEXT NOT NULL
        ) STRICT"""
    )
    conn.execute(
        """CREATE TABLE audit (
            id        INTEGER PRIMARY KEY,
            at        TEXT NOT NULL,
            user_id   INTEGER,
            action    TEXT NOT NULL,
            record    TEXT NOT NULL DEFAULT '',
            detail    TEXT NOT NULL DEFAULT '',
            prev_hash TEXT NOT NULL,
            hash      TEXT NOT NULL
        ) STRICT"""
    )
    # The trail is append-only: no statement may change or remove an entry.
    conn.execute(
        """CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit
           BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END"""
    )
    conn.execute(
        """CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit
           BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END"""
    )


def _no_update(conn: Connection, table: str) -> None:
    conn.execute(
        f"""CREATE TRIGGER {table}_no_update BEFORE UPDATE ON {table}
           BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END"""
    )


def _v2(conn: Connection) -> None:
    """Case records: people, cases, safe contact, consent, sharing, notes, risk, search."""
    conn.execute("CREATE TABLE teams (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE) STRICT")
    conn.execute("INSERT INTO teams (id, name) VALUES (1, 'Team')")
    conn.execute("ALTER TABLE users ADD COLUMN team_id INTEGER NOT NULL DEFAULT 1")
    conn.execute(
        """CREATE TABLE people (
            id                   INTEGER PRIMARY KEY,
            given_name           TEXT NOT NULL,
            family_name          TEXT NOT NULL,
            aliases              TEXT NOT NULL DEFAULT '[]',
            date_of_birth        TEXT,
            gender               TEXT NOT NULL DEFAULT '',
            sexuality            TEXT NOT NULL DEFAULT '',
            ethnicity            TEXT NOT NULL DEFAULT '',
            language             TEXT NOT NULL DEFAULT '',
            interpreter_needed   INTEGER NOT NULL DEFAULT 0,
            disabilities         TEXT NOT NULL DEFAULT '',
            address              TEXT NOT NULL DEFAULT '',
            postcode             TEXT NOT NULL DEFAULT '',
            address_confidential INTEGER NOT NULL DEFAULT 0,
            phones               TEXT NOT NULL DEFAULT '[]',
            email                TEXT NOT NULL DEFAULT '',
            health_notes         TEXT NOT NULL DEFAULT '',
            organisation         TEXT NOT NULL DEFAULT '',
            job_title            TEXT NOT NULL DEFAULT '',
            restricted           INTEGER NOT NULL DEFAULT 0,
            restriction_reason   TEXT NOT NULL DEFAULT '',
            created_at           TEXT NOT NULL,
            updated_at           TEXT NOT NULL
        ) STRICT"""
    )
    conn.execute(
        """CREATE TABLE cases (
            id                  INTEGER PRIMARY KEY,
            reference           TEXT NOT NULL UNIQUE,
            status              TEXT NOT NULL CHECK (status IN ('referral', 'open', 'closed')),
            referral_date       TEXT NOT NULL,
            referral_source     TEXT NOT NULL DEFAULT '',
            referrer_id         INTEGER REFERENCES people(id),
            allocated_user_id   INTEGER REFERENCES users(id),
            team_id             INTEGER NOT NULL DEFAULT 1 REFERENCES teams(id),
            opened_date         TEXT,
            closed_date         TEXT,
            closed_reason       TEXT NOT NULL DEFAULT '',
            risk_level          TEXT CHECK (risk_level IN ('standard', 'medium', 'high')),
            marac_referral_date TEXT,
            marac_meeting_date  TEXT,
            other_services      TEXT NOT NULL DEFAULT '',
            needs_assessment    TEXT NOT NULL DEFAULT '',
            safety_plan         TEXT NOT NULL DEFAULT '',
            next_review         TEXT,
            legal_hold_reason   TEXT NOT NULL DEFAULT '',
            legal_hold_review   TEXT,
            client_name         TEXT NOT NULL DEFAULT '',
            created_at          TEXT NOT NULL,
            updated_at          TEXT NOT NULL
        ) STRICT"""
    )
    conn.execute("CREATE INDEX cases_allocated ON cases (allocated_user_id, reference)")
    conn.execute("CREATE INDEX cases_team ON cases (team_id, reference)")
    conn.execute("CREATE INDEX cases_status ON cases (status, closed_date)")
    conn.execute(
        """CREATE TABLE case_people (
            case_id   INTEGER NOT NULL REFERENCES cases(id),
            person_id INTEGER NOT NULL REFERENCES people(id),
            role      TEXT NOT NULL CHECK (role IN ('client', 'alleged_perpetrator', 'child',
                                                    'household_member', 'professional')),
            PRIMARY KEY (case_id, person_id, role)
        ) STRICT, WITHOUT ROWID"""
    )
    conn.execute("CREATE INDEX case_people_person ON case_people (person_id, role)")
    conn.execute(
        """CREATE TABLE safe_contacts (
            case_id        INTEGER NOT NULL REFERENCES cases(id),
            person_id      INTEGER NOT NULL REFERENCES people(id),
            safe_number    TEXT NOT NULL DEFAULT '',
            method         TEXT NOT NULL DEFAULT '',
            safe_times     TEXT NOT NULL DEFAULT '',
            voicemail_ok   INTEGER NOT NULL DEFAULT 0,
            text_ok        INTEGER NOT NULL DEFAULT 0,
            letters_ok     INTEGER NOT NULL DEFAULT 0,
            code_word      TEXT NOT NULL DEFAULT '',
            do_not_contact INTEGER NOT NULL DEFAULT 0,
            safe_people    TEXT NOT NULL DEFAULT '',
            unsafe_people  TEXT NOT NULL DEFAULT '',
            last_checked   TEXT,
            updated_by     INTEGER NOT NULL REFERENCES users(id),
            updated_at     TEXT NOT NULL,
            PRIMARY KEY (case_id, person_id)
        ) STRICT"""
    )
    conn.execute(
        """CREATE TABLE consents (
            id          INTEGER PRIMARY KEY,
            person_id   INTEGER NOT NULL REFERENCES people(id),
            purpose     TEXT NOT NULL,
            target      TEXT NOT NULL DEFAULT '',
            state       TEXT NOT NULL CHECK (state IN ('given', 'refused', 'withdrawn',
                                                       'not_asked')),
            decided_on  TEXT NOT NULL,
            how         TEXT,
            given_by    TEXT NOT NULL,
            recorded_by INTEGER NOT NULL REFERENCES users(id),
            recorded_at TEXT NOT NULL,
            review_date TEXT,
            note        TEXT NOT NULL DEFAULT ''
        ) STRICT"""
    )
    conn.execute("CREATE INDEX consents_person ON consents (person_id, purpose, target, id)")
    conn.execute(
        """CREATE TABLE shares (
            id                   INTEGER PRIMARY KEY,
            case_id              INTEGER NOT NULL REFERENCES cases(id),
            direction            TEXT NOT NULL CHECK (direction IN ('in', 'out')),
            shared_at            TEXT NOT NULL,
            organisation         TEXT NOT NULL,
            recipient_category   TEXT NOT NULL,
            data_categories      TEXT NOT NULL,
            purpose              TEXT NOT NULL,
            method               TEXT NOT NULL DEFAULT '',
            lawful_basis         TEXT NOT NULL,
            court_reference      TEXT NOT NULL DEFAULT '',
            reason               TEXT NOT NULL DEFAULT '',
            person_told          INTEGER NOT NULL,
            not_told_reason      TEXT NOT NULL DEFAULT '',
            consulted_manager_id INTEGER REFERENCES users(id),
            approval             TEXT NOT NULL,
            review_due           TEXT NOT NULL DEFAULT '',
            recorded_by          INTEGER NOT NULL REFERENCES users(id),
            recorded_at          TEXT NOT NULL
        ) STRICT"""
    )
    conn.execute("CREATE INDEX shares_case ON shares (case_id, shared_at)")
    conn.execute("CREATE INDEX shares_approval ON shares (approval, review_due)")
    conn.execute(
        """CREATE TABLE share_people (
            share_id  INTEGER NOT NULL REFERENCES shares(id),
            person_id INTEGER NOT NULL REFERENCES people(id),
            PRIMARY KEY (share_id, person_id)
        ) STRICT, WITHOUT ROWID"""
    )
    conn.execute("CREATE INDEX share_people_person ON share_people (person_id)")
    conn.execute(
        """CREATE TABLE share_reviews (
            id          INTEGER PRIMARY KEY,
            share_id    INTEGER NOT NULL REFERENCES shares(id),
            outcome     TEXT NOT NULL CHECK (outcome IN ('approved', 'not_approved')),
            note        TEXT NOT NULL DEFAULT '',
            reviewed_by INTEGER NOT NULL REFERENCES users(id),
            reviewed_at TEXT NOT NULL
        ) STRICT"""
    )
    conn.execute("CREATE INDEX share_reviews_share ON share_reviews (share_id)")
    conn.execute(
        """CREATE TABLE notes (
            id          INTEGER PRIMARY KEY,
            case_id     INTEGER NOT NULL REFERENCES cases(id),
            kind        TEXT NOT NULL,
            occurred_at TEXT NOT NULL,
            body        TEXT NOT NULL,
            author_id   INTEGER NOT NULL REFERENCES users(id),
            created_at  TEXT NOT NULL
        ) STRICT"""
    )
    conn.execute("CREATE INDEX notes_case ON notes (case_id, occurred_at)")
    conn.execute(
        """CREATE TABLE note_revisions (
            id         INTEGER PRIMARY KEY,
            note_id    INTEGER NOT NULL REFERENCES notes(id),
            kind       TEXT NOT NULL CHECK (kind IN ('correction', 'disputed')),
            body       TEXT NOT NULL DEFAULT '',
            reason     TEXT NOT NULL,
            changed_by INTEGER NOT NULL REFERENCES users(id),
            changed_at TEXT NOT NULL
        ) STRICT"""
    )
    conn.execute("CREATE INDEX note_revisions_note ON note_revisions (note_id, id)")
    conn.execute(
        """CREATE TABLE dash_assessments (
            id                  INTEGER PRIMARY KEY,
            case_id             INTEGER NOT NULL REFERENCES cases(id),
            person_id           INTEGER NOT NULL REFERENCES people(id),
            completed_on        TEXT NOT NULL,
            answers             TEXT NOT NULL,
            sources             TEXT NOT NULL DEFAULT '{}',
            yes_count           INTEGER NOT NULL,
            score_level         TEXT NOT NULL,
            judgement_level     TEXT,
            judgement_reason    TEXT NOT NULL DEFAULT '',
            police_callouts_12m INTEGER NOT NULL DEFAULT 0,
            level               TEXT NOT NULL,
            marac_reasons       TEXT NOT NULL DEFAULT '[]',
            recorded_by         INTEGER NOT NULL REFERENCES users(id),
            recorded_at         TEXT NOT NULL
        ) STRICT"""
    )
    conn.execute("CREATE INDEX dash_case ON dash_assessments (case_id, completed_on)")
    conn.execute(
        """CREATE TABLE break_glass (
            id      INTEGER PRIMARY KEY,
            user_id INTEGER NOT NULL REFERENCES users(id),
            case_id INTEGER NOT NULL REFERENCES cases(id),
            reason  TEXT NOT NULL,
            at      TEXT NOT NULL
        ) STRICT"""
    )
    conn.execute("CREATE INDEX break_glass_at ON break_glass (at)")
    conn.execute("CREATE INDEX break_glass_case ON break_glass (case_id)")
    # The search index: one row per searchable text, its owner in search_rows (same rowid).
    conn.execute(
        """CREATE TABLE search_rows (
            id        INTEGER PRIMARY KEY,
            case_id   INTEGER NOT NULL,
            person_id INTEGER,
            note_id   INTEGER,
            kind      TEXT NOT NULL
        ) STRICT"""
    )
    conn.execute("CREATE INDEX search_rows_case ON search_rows (case_id)")
    conn.execute("CREATE INDEX search_rows_person ON search_rows (person_id)")
    conn.execute("CREATE INDEX search_rows_note ON search_rows (note_id)")
    conn.execute(
        "CREATE VIRTUAL TABLE search_index USING fts5("
        "text, tokenize = 'unicode61 remove_diacritics 2')"
    )
    for table in (
        "notes",
        "note_revisions",
        "consents",
        "shares",
        "share_people",
        "share_reviews",
        "dash_assessments",
        "break_glass",
    ):
        _no_update(conn, table)


def _v3(conn: Connection) -> None:
    """Retention: review decisions on due cases, and the destruction log (no personal data)."""
    conn.execute(
        """CREATE TABLE retention_decisions (
            id          INTEGER PRIMARY KEY,
            case_id     INTEGER NOT NULL REFERENCES cases(id),
            decision    TEXT NOT NULL CHECK (decision IN ('approve', 'extend')),
            reason      TEXT NOT NULL,
            review_date TEXT,
            decided_by  INTEGER NOT NULL REFERENCES users(id),
            decided_at  TEXT NOT NULL,
            closed_date TEXT,
            due_date    TEXT
        ) STRICT"""
    )
    conn.execute("CREATE INDEX retention_decisions_case ON retention_decisions (case_id, id)")
    # Deleting a person checks every table that points at people: index those columns.
    conn.execute("CREATE INDEX dash_person ON dash_assessments (person_id)")
    conn.execute("CREATE INDEX safe_contacts_person ON safe_contacts (person_id)")
    conn.execute("CREATE INDEX cases_referrer ON cases (referrer_id)")
    # FTS5 keeps a deleted row's words in its index until a merge unless told otherwise.
    conn.execute("INSERT INTO search_index (search_index, rank) VALUES ('secure-delete', 1)")
    conn.execute(
        """CREATE TABLE destruction_log (
            id           INTEGER PRIMARY KEY,
            run_id       TEXT NOT NULL,
            reference    TEXT NOT NULL,
            closed_date  TEXT,
            due_date     TEXT NOT NULL,
            rule         TEXT NOT NULL,
            reason       TEXT NOT NULL DEFAULT '',
            approved_by  INTEGER REFERENCES users(id),
            approved_at  TEXT,
            destroyed_by INTEGER NOT NULL REFERENCES users(id),
            destroyed_at TEXT NOT NULL,
            counts       TEXT NOT NULL
        ) STRICT"""
    )
    conn.execute("CREATE INDEX destruction_log_run ON destruction_log (run_id)")
    conn.execute("CREATE INDEX destruction_log_reference ON destruction_log (reference)")
    _no_update(conn, "destruction_log")


def _v4(conn: Connection) -> None:
    """The rights-request register (subject access and the other rights) and SAR packs."""
    conn.execute(
        """CREATE TABLE rights_requests (
            id                    INTEGER PRIMARY KEY,
            reference             TEXT NOT NULL UNIQUE,
            kind                  TEXT NOT NULL CHECK (kind IN ('access', 'rectification',
                                      'erasure', 'restriction', 'objection', 'portability')),
            requester             TEXT NOT NULL,
            subject_person_id     INTEGER REFERENCES people(id),
            subject_note          TEXT NOT NULL DEFAULT '',
            by_agent              INTEGER NOT NULL DEFAULT 0,
            authority_seen        INTEGER NOT NULL DEFAULT 0,
            received_on           TEXT NOT NULL,
            identity_confirmed_on TEXT,
            due_on                TEXT,
            extended_to           TEXT,
            extension_told_on     TEXT,
            status                TEXT NOT NULL DEFAULT 'open'
                                      CHECK (status IN ('open', 'closed')),
            outcome               TEXT NOT NULL DEFAULT '',
            refusal_reason        TEXT NOT NULL DEFAULT '',
            responded_on          TEXT,
            created_by            INTEGER NOT NULL REFERENCES users(id),
            created_at            TEXT NOT NULL,
            updated_at            TEXT NOT NULL
        ) STRICT"""
    )
    conn.execute("CREATE INDEX rights_requests_subject ON rights_requests (subject_person_id)")
    conn.execute("CREATE INDEX rights_requests_open ON rights_requests (status, due_on)")
    conn.execute(
        """CREATE TABLE rights_pauses (
            id         INTEGER PRIMARY KEY,
            request_id INTEGER NOT NULL REFERENCES rights_requests(id),
            from_date  TEXT NOT NULL,
            to_date    TEXT,
            reason     TEXT NOT NULL
        ) STRICT"""
    )
    conn.execute("CREATE INDEX rights_pauses_request ON rights_pauses (request_id)")
    conn.execute(
        """CREATE TABLE redactions (
            id         INTEGER PRIMARY KEY,
            request_id INTEGER NOT NULL REFERENCES rights_requests(id),
            item       TEXT NOT NULL,
            start      INTEGER NOT NULL,
            end        INTEGER NOT NULL,
            action     TEXT NOT NULL CHECK (action IN ('redact', 'disclose')),
            code       TEXT NOT NULL,
            reason     TEXT NOT NULL DEFAULT '',
            decided_by INTEGER NOT NULL REFERENCES users(id),
            decided_at TEXT NOT NULL
        ) STRICT"""
    )
    conn.execute("CREATE INDEX redactions_request ON redactions (request_id, item)")
    conn.execute(
        """CREATE TABLE sar_signoffs (
            id         INTEGER PRIMARY KEY,
            request_id INTEGER NOT NULL REFERENCES rights_requests(id),
            signed_by  INTEGER NOT NULL REFERENCES users(id),
            signed_at  TEXT NOT NULL,
            note       TEXT NOT NULL DEFAULT '',
            pack_sha256 TEXT NOT NULL DEFAULT ''
        ) STRICT"""
    )
    conn.execute(
        """CREATE TABLE sar_exports (
            id          INTEGER PRIMARY KEY,
            request_id  INTEGER NOT NULL REFERENCES rights_requests(id),
            exported_by INTEGER NOT NULL REFERENCES users(id),
            exported_at TEXT NOT NULL,
            manifest    TEXT NOT NULL
        ) STRICT"""
    )
    for table in ("redactions", "sar_signoffs", "sar_exports"):
        _no_update(conn, table)


def _v5(conn: Connection) -> None:
    """Case lists: a MARAC-due flag and an index per sortable column; the audit by record."""
    conn.execute("ALTER TABLE cases ADD COLUMN marac_due INTEGER NOT NULL DEFAULT 0")
    conn.execute(
        "UPDATE cases SET marac_due = 1 WHERE id IN (SELECT d.case_id FROM dash_assessments d "
        "WHERE d.marac_reasons != '[]' AND d.id = (SELECT max(id) FROM dash_assessments "
        "WHERE case_id = d.case_id)) AND (marac_referral_date IS NULL OR marac_referral_date < "
        "(SELECT max(completed_on) FROM dash_assessments WHERE case_id = cases.id))"
    )
    for column in ("client_name", "status", "risk_level", "next_review", "marac_due"):
        conn.execute(f"CREATE INDEX cases_by_{column} ON cases ({column}, reference)")
    conn.execute("CREATE INDEX audit_record ON audit (record)")


# The records the audit trail names by id ("case:12"), and a purge destroys.
NEVER_REUSED = ("cases", "people", "notes", "shares", "dash_assessments", "consents")


def _v6(conn: Connection) -> None:
    """Ids are never reused. SQLite gives a new row the highest id plus one, so destroying the
    newest case let the next case take its id, and the old audit entries would then seem to
    be about the new one. AUTOINCREMENT remembers the highest id ever given out; adding it
    means building each table again (SQLite's documented way to change a table's definition).
    """
    for table in NEVER_REUSED:
        _rebuild_with_autoincrement(conn, table)


def _rebuild_with_autoincrement(conn: Connection, table: str) -> None:
    definition = str(
        conn.execute(
            "SELECT sql FROM sqlite_schema WHERE type = 'table' AND name = ?", (table,)
        ).fetchone()[0]
    )
    extras = [
        str(r[0])
        for r in conn.execute(
            "SELECT sql FROM sqlite_schema WHERE type IN ('index', 'trigger') AND tbl_name = ? "
            "AND sql IS NOT NULL ORDER BY type, name",
            (table,),
        )
    ]
    new, found = re.subn(
        r"^CREATE TABLE (\w+) \((\s+)id(\s+)INTEGER PRIMARY KEY,",
        rf"CREATE TABLE {table}_rebuilt (\2id\3INTEGER PRIMARY KEY AUTOINCREMENT,",
        definition,
    )
    if found != 1:
        raise RuntimeError(f"unexpected definition of {table}")
    conn.execute(new)
    conn.execute(f"INSERT INTO {table}_rebuilt SELECT * FROM {table}")
    conn.execute(f"DROP TABLE {table}")
    conn.execute(f"ALTER TABLE {table}_rebuilt RENAME TO {table}")
    for sql in extras:
        conn.execute(sql)


def _v7(conn: Connection) -> None:
    """Forward-secure seals on the audit trail (app/models/audit.py). Each seal covers the
    entries up to one id with a key that is then evolved and overwritten; the one key row holds
    the current key. A store upgraded to this step is not sealed until an admin or the DPO
    starts sealing (``safecase audit start-sealing``) and keeps the verification key."""
    conn.execute(
        """CREATE TABLE audit_seals (
            id         INTEGER PRIMARY KEY,
            epoch      INTEGER NOT NULL UNIQUE,
            last_entry INTEGER NOT NULL,
            head       TEXT NOT NULL,
            at         TEXT NOT NULL,
            tag        TEXT NOT NULL
        ) STRICT"""
    )
    _no_update(conn, "audit_seals")
    conn.execute(
        """CREATE TRIGGER audit_seals_no_delete BEFORE DELETE ON audit_seals
           BEGIN SELECT RAISE(ABORT, 'audit_seals is append-only'); END"""
    )
    conn.execute(
        """CREATE TABLE audit_seal_key (
            id      INTEGER PRIMARY KEY CHECK (id = 1),
            epoch   INTEGER NOT NULL,
            key     BLOB NOT NULL,
            started TEXT NOT NULL
        ) STRICT"""
    )


def _v8(conn: Connection) -> None:
    """Drafts: what a user had typed in an open form when the store locked, kept here (so
    encrypted) until they save or discard it after signing in again. One draft per user, kind of
    form, case and record; ``fields`` is the form's values as JSON."""
    conn.execute(
        """CREATE TABLE drafts (
            id         INTEGER PRIMARY KEY AUTOINCREMENT,
            user_id    INTEGER NOT NULL REFERENCES users(id),
            kind       TEXT NOT NULL,
            case_id    INTEGER REFERENCES cases(id),
            target_id  INTEGER,
            fields     TEXT NOT NULL,
            saved_at   TEXT NOT NULL
        ) STRICT"""
    )
    conn.execute(
        "CREATE UNIQUE INDEX drafts_by_key ON drafts "
        "(user_id, kind, ifnull(case_id, 0), ifnull(target_id, 0))"
    )
    conn.execute("CREATE INDEX drafts_by_case ON drafts (case_id)")


def _v9(conn: Connection) -> None:
    """Four eyes on an alleged perpetrator's pack: who prepared it (the first manager to build
    it), and why the sign-off came from that same manager when no other was available. Case
    lists start with the newest activity first, so that order gets an index."""
    conn.execute("CREATE INDEX cases_by_activity ON cases (updated_at, reference)")
    conn.execute("ALTER TABLE rights_requests ADD COLUMN pack_prepared_by INTEGER")
    conn.execute("ALTER TABLE sar_signoffs ADD COLUMN sole_manager_reason TEXT NOT NULL DEFAULT ''")


def _v10_outcomes(conn: Connection) -> None:
    """Outcomes recorded when a case closes, as counted by commissioners: the reason from a list,
    risk at exit, whether the abuse stopped or reduced, feeling safer, quality of life and
    engagement. One row per case; reopening the case removes it, closing again writes it anew."""
    conn.execute(
        """CREATE TABLE case_outcomes (
            case_id         INTEGER PRIMARY KEY REFERENCES cases(id),
            reason          TEXT NOT NULL,
            risk_at_exit    TEXT NOT NULL,
            abuse           TEXT NOT NULL,
            feeling_safer   TEXT NOT NULL,
            quality_of_life TEXT NOT NULL,
            engagement      TEXT NOT NULL,
            recorded_by     INTEGER REFERENCES users(id),
            recorded_at     TEXT NOT NULL
        ) STRICT"""
    )


def _v10_marac_actions(conn: Connection) -> None:
    """Actions agreed at a MARAC meeting for a case, each with an owner (the agency or person
    who does it) and a due date, shown on the case until marked done."""
    conn.execute(
        """CREATE TABLE marac_actions (
            id          INTEGER PRIMARY KEY AUTOINCREMENT,
            case_id     INTEGER NOT NULL REFERENCES cases(id),
            action      TEXT NOT NULL,
            owner       TEXT NOT NULL,
            due_on      TEXT NOT NULL,
            done_on     TEXT,
            recorded_by INTEGER REFERENCES users(id),
            recorded_at TEXT NOT NULL
        ) STRICT"""
    )
    conn.execute("CREATE INDEX marac_actions_by_case ON marac_actions (case_id, done_on)")


def _v10_person_merges(conn: Connection) -> None:
    """Two records of one person merged by a manager: which was kept, which was merged into
    it, and what moved (ids only: the case parties, consents, share subjects, checklists, safe
    contact rows, referrer and rights-request links), so that undoing the merge puts each
    back exactly. Pending until a manager confirms it; then the merged record is destroyed.
    No foreign keys: a confirmed merge outlives the record it destroyed."""
    conn.execute(
        """CREATE TABLE person_merges (
            id          INTEGER PRIMARY KEY AUTOINCREMENT,
            kept_id     INTEGER NOT NULL,
            merged_id   INTEGER NOT NULL,
            moved       TEXT NOT NULL,
            state       TEXT NOT NULL CHECK (state IN ('pending', 'undone', 'confirmed')),
            merged_by   INTEGER REFERENCES users(id),
            merged_at   TEXT NOT NULL,
            decided_by  INTEGER REFERENCES users(id),
            decided_at  TEXT
        ) STRICT"""
    )
    conn.execute("CREATE INDEX person_merges_kept ON person_merges (kept_id, state)")
    conn.execute("CREATE INDEX person_merges_merged ON person_merges (merged_id, state)")


def _v10_categories(conn: Connection) -> None:
    """The categories a service records about a person (each "not asked" until asked), the
    legal side of a case (court dates, protective orders, bail conditions) and the other
    agencies involved, each agency with a contact; where the referral came from (the kind of
    agency and the referrer); and for each child on a case their school, child-protection
    status and who they live with."""
    conn.execute(
        """CREATE TABLE person_categories (
            person_id                   INTEGER PRIMARY KEY REFERENCES people(id),
            sex                         TEXT NOT NULL DEFAULT 'not_asked',
            gender_identity             TEXT NOT NULL DEFAULT 'not_asked',
            sexual_orientation          TEXT NOT NULL DEFAULT 'not_asked',
            ethnicity                   TEXT NOT NULL DEFAULT 'not_asked',
            religion                    TEXT NOT NULL DEFAULT 'not_asked',
            disability                  TEXT NOT NULL DEFAULT 'not_asked',
            disability_type             TEXT NOT NULL DEFAULT '',
            first_language              TEXT NOT NULL DEFAULT '',
            interpreter_needed          TEXT NOT NULL DEFAULT 'not_asked',
            immigration_status          TEXT NOT NULL DEFAULT 'not_asked',
            no_recourse_to_public_funds TEXT NOT NULL DEFAULT 'not_asked',
            pregnant                    TEXT NOT NULL DEFAULT 'not_asked',
            updated_by                  INTEGER REFERENCES users(id),
            updated_at                  TEXT NOT NULL
        ) STRICT"""
    )
    conn.execute(
        """CREATE TABLE case_legal (
            id          INTEGER PRIMARY KEY AUTOINCREMENT,
            case_id     INTEGER NOT NULL REFERENCES cases(id),
            kind        TEXT NOT NULL
                        CHECK (kind IN ('court_date', 'protective_order', 'bail_conditions')),
            starts_on   TEXT NOT NULL,
            ends_on     TEXT,
            order_type  TEXT NOT NULL DEFAULT '',
            court       TEXT NOT NULL DEFAULT '',
            conditions  TEXT NOT NULL DEFAULT '',
            recorded_by INTEGER REFERENCES users(id),
            recorded_at TEXT NOT NULL
        ) STRICT"""
    )
    conn.execute("CREATE INDEX case_legal_by_case ON case_legal (case_id, starts_on)")
    conn.execute(
        """CREATE TABLE case_agencies (
            id          INTEGER PRIMARY KEY AUTOINCREMENT,
            case_id     INTEGER NOT NULL REFERENCES cases(id),
            agency_type TEXT NOT NULL,
            name        TEXT NOT NULL DEFAULT '',
            contact     TEXT NOT NULL DEFAULT '',
            recorded_by INTEGER REFERENCES users(id),
            recorded_at TEXT NOT NULL
        ) STRICT"""
    )
    conn.execute("CREATE INDEX case_agencies_by_case ON case_agencies (case_id)")
    conn.execute(
        """CREATE TABLE case_referral_sources (
            case_id     INTEGER PRIMARY KEY REFERENCES cases(id),
            agency_type TEXT NOT NULL,
            referrer    TEXT NOT NULL DEFAULT '',
            updated_by  INTEGER REFERENCES users(id),
            updated_at  TEXT NOT NULL
        ) STRICT"""
    )
    conn.execute(
        """CREATE TABLE case_children (
            case_id          INTEGER NOT NULL REFERENCES cases(id),
            person_id        INTEGER NOT NULL REFERENCES people(id),
            school           TEXT NOT NULL DEFAULT '',
            protection       TEXT NOT NULL DEFAULT 'not_asked',
            lives_with       TEXT NOT NULL DEFAULT 'not_asked',
            updated_by       INTEGER REFERENCES users(id),
            updated_at       TEXT NOT NULL,
            PRIMARY KEY (case_id, person_id)
        ) STRICT, WITHOUT ROWID"""
    )
    # Destroying a person looks their child rows up by person (and the foreign key checks the
    # same): without this, every person a purge destroyed scanned the whole table.
    conn.execute("CREATE INDEX case_children_by_person ON case_children (person_id)")


def _append_only(conn: Connection, table: str) -> None:
    """Neither change nor remove a row of ``table``: the trigger refuses both."""
    for verb in ("UPDATE", "DELETE"):
        conn.execute(
            f"""CREATE TRIGGER {table}_no_{verb.lower()} BEFORE {verb} ON {table}
               BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END"""
        )


def _v11_breaches(conn: Connection) -> None:
    """The breach log (UK GDPR Article 33(5)): every personal data breach, reported to the ICO
    or not. A breach is its reference and who first recorded it; what is known about it is a
    chain of versions, each saved in full with who saved it and why, the newest being the
    breach as it stands. Nothing here is ever changed or removed: a correction is a new
    version. Times are UTC (``...Z``); ``aware_at`` starts the 72-hour clock. The log is about
    the service, not a data subject: no foreign key to people or cases, and a purge leaves it."""
    conn.execute(
        """CREATE TABLE breaches (
            id          INTEGER PRIMARY KEY AUTOINCREMENT,
            reference   TEXT NOT NULL UNIQUE,
            source      TEXT NOT NULL CHECK (source IN ('recorded', 'device_lost')),
            recorded_by INTEGER REFERENCES users(id),
            recorded_at TEXT NOT NULL
        ) STRICT"""
    )
    conn.execute(
        """CREATE TABLE breach_versions (
            id                  INTEGER PRIMARY KEY AUTOINCREMENT,
            breach_id           INTEGER NOT NULL REFERENCES breaches(id),
            aware_at            TEXT NOT NULL,
            what_happened       TEXT NOT NULL,
            data_categories     TEXT NOT NULL DEFAULT '',
            people_affected     INTEGER,
            records_affected    INTEGER,
            consequences        TEXT NOT NULL DEFAULT '',
            measures            TEXT NOT NULL DEFAULT '',
            risk                TEXT NOT NULL
                                CHECK (risk IN ('not_assessed', 'no_risk', 'risk', 'high_risk')),
            not_reported_reason TEXT NOT NULL DEFAULT '',
            reported_at         TEXT,
            ico_reference       TEXT NOT NULL DEFAULT '',
            delay_reason        TEXT NOT NULL DEFAULT '',
            people_told         TEXT NOT NULL
                                CHECK (people_told IN ('not_decided', 'told', 'not_told')),
            people_told_on      TEXT,
            not_told_reason     TEXT NOT NULL DEFAULT '',
            closed_at           TEXT,
            change_reason       TEXT NOT NULL DEFAULT '',
            changed_by          INTEGER REFERENCES users(id),
            changed_at          TEXT NOT NULL
        ) STRICT"""
    )
    conn.execute("CREATE INDEX breach_versions_by_breach ON breach_versions (breach_id, id)")
    _append_only(conn, "breaches")
    _append_only(conn, "breach_versions")


def _v11_marac_referrals(conn: Connection) -> None:
    """Each MARAC referral form issued from a case, exactly as it went out: the field values
    printed on it (JSON), the reason for referral, the referral date, and the entry in the
    sharing log that records the disclosure to the MARAC. Destroyed with its case."""
    conn.execute(
        """CREATE TABLE marac_referrals (
            id          INTEGER PRIMARY KEY AUTOINCREMENT,
            case_id     INTEGER NOT NULL REFERENCES cases(id),
            share_id    INTEGER NOT NULL REFERENCES shares(id),
            referred_on TEXT NOT NULL,
            reason      TEXT NOT NULL,
            fields      TEXT NOT NULL,
            issued_by   INTEGER REFERENCES users(id),
            issued_at   TEXT NOT NULL
        ) STRICT"""
    )
    conn.execute("CREATE INDEX marac_referrals_by_case ON marac_referrals (case_id, referred_on)")


def _v11_letters(conn: Connection) -> None:
    """Letters and texts that obey the safe-contact rules. The safe address for letters is part
    of a client's safe-contact details: where the client said post is safe to go (it may differ
    from the address on record, which can be the home the abuser shares). A letter is only ever
    addressed there. A manager's decision to produce something the rules refused is kept here
    with its reason (free text, so not in the audit trail), for the DPO to read; it belongs to
    the case and the person it was addressed to, and goes when either is destroyed."""
    conn.execute("ALTER TABLE safe_contacts ADD COLUMN safe_address TEXT NOT NULL DEFAULT ''")
    conn.execute("ALTER TABLE safe_contacts ADD COLUMN safe_postcode TEXT NOT NULL DEFAULT ''")
    conn.execute(
        """CREATE TABLE contact_overrides (
            id          INTEGER PRIMARY KEY AUTOINCREMENT,
            case_id     INTEGER NOT NULL REFERENCES cases(id),
            person_id   INTEGER NOT NULL REFERENCES people(id),
            output      TEXT NOT NULL,
            rule        TEXT NOT NULL,
            reason      TEXT NOT NULL,
            decided_by  INTEGER NOT NULL REFERENCES users(id),
            decided_at  TEXT NOT NULL
        ) STRICT"""
    )
    conn.execute("CREATE INDEX contact_overrides_by_case ON contact_overrides (case_id)")
    conn.execute("CREATE INDEX contact_overrides_by_person ON contact_overrides (person_id)")


def _v11_figures(conn: Connection) -> None:
    """Commissioners' figures count cases by the dates in a quarter or a year (referred,
    closed, referred to MARAC) and shares out by when they were made: an index for each, so a
    year's figures read only that year's rows."""
    for column in ("referral_date", "closed_date", "marac_referral_date"):
        conn.execute(f"CREATE INDEX cases_by_{column} ON cases ({column})")
    conn.execute("CREATE INDEX shares_by_direction_and_time ON shares (direction, shared_at)")


# The records that travel between a team's laptops, each with a global id (UUIDv7) beside its
# local integer id. Left local: settings and drafts (one laptop's), the audit trail and its
# seals (each device's chain travels whole, named by device and entry), the search index (built
# again from the records), the destruction log (each laptop's own certificate) and teams. Rows
# keyed by the records they join (case members, share subjects, safe contact details, a
# person's categories, a case's outcome, referral source and children) travel under their
# parents' global ids, so two laptops writing the same row offline meet on one row.
TRAVELLING = (
    *("users", "people", "cases", "consents", "shares", "share_reviews", "notes"),
    *("note_revisions", "dash_assessments", "break_glass", "retention_decisions"),
    *("rights_requests", "rights_pauses", "redactions", "sar_signoffs", "sar_exports"),
    *("marac_actions", "person_merges", "case_legal", "case_agencies", "breaches"),
    *("breach_versions", "marac_referrals", "contact_overrides"),
)


# The records whose models give each new row its global id (the ones written in bulk: an insert
# trigger on them made generating demo cases a third slower). Every other travelling record gets
# its id from a trigger, a safety net for records written rarely.
IDS_FROM_MODELS = (
    *("people", "cases", "notes", "note_revisions", "consents", "shares"),
    "dash_assessments",
)


def _v11_global_ids(conn: Connection) -> None:
    """A global id on every record that travels: existing rows get one now (a single-laptop
    store becomes the first laptop of a team), new rows get one as they are written, and a row
    received from another laptop keeps the one it came with. An append-only record refuses
    every change except receiving its id, inside its own insert."""
    for table in TRAVELLING:
        conn.execute(f"ALTER TABLE {table} ADD COLUMN gid TEXT")
        guard = conn.execute(
            "SELECT 1 FROM sqlite_schema WHERE type = 'trigger' AND name = ?",
            (f"{table}_no_update",),
        ).fetchone()
        if guard is not None:
            conn.execute(f"DROP TRIGGER {table}_no_update")
        conn.execute(f"UPDATE {table} SET gid = {UUID7_SQL}")
        conn.execute(f"CREATE UNIQUE INDEX {table}_by_gid ON {table} (gid)")
        by_trigger = table not in IDS_FROM_MODELS
        if by_trigger:
            conn.execute(
                f"""CREATE TRIGGER {table}_gid AFTER INSERT ON {table} WHEN NEW.gid IS NULL
                   BEGIN UPDATE {table} SET gid = {UUID7_SQL} WHERE rowid = NEW.rowid; END"""
            )
        if guard is not None:
            when = "WHEN OLD.gid IS NOT NULL" if by_trigger else ""
            conn.execute(
                f"""CREATE TRIGGER {table}_no_update BEFORE UPDATE ON {table} {when}
                   BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END"""
            )


def _v11_outbox(conn: Connection) -> None:
    """The operation log: every change made here (the outbox, ``local = 1``, in the order made)
    and every change received from another laptop and applied, each with its hybrid clock stamp,
    device, user, kind, scope, target, payload (JSON) and, for a field set, the field and the
    operation whose value it replaced. It holds personal data: a purge destroys a case's
    operations with the case (``case_id``)."""
    conn.execute(
        """CREATE TABLE operations (
            id        INTEGER PRIMARY KEY AUTOINCREMENT,
            op_id     TEXT NOT NULL UNIQUE,
            hlc       TEXT NOT NULL,
            device    TEXT NOT NULL,
            user_gid  TEXT NOT NULL,
            kind      TEXT NOT NULL,
            scope     TEXT NOT NULL,
            target    TEXT NOT NULL,
            field     TEXT,
            payload   TEXT NOT NULL,
            replaced  TEXT,
            case_id   INTEGER REFERENCES cases(id),
            local     INTEGER NOT NULL
        ) STRICT"""
    )
    conn.execute("CREATE INDEX operations_by_hlc ON operations (hlc)")
    conn.execute("CREATE INDEX operations_by_case ON operations (case_id)")
    conn.execute("CREATE INDEX operations_outbox ON operations (local, id)")
    conn.execute(
        "CREATE INDEX operations_by_field ON operations (target, field) WHERE field IS NOT NULL"
    )


def _v11_conflicts(conn: Connection) -> None:
    """Fields two laptops set without seeing each other's change: every competing value with who
    set it and when (``candidates``, JSON), open until a person resolves it, then kept as
    resolved with the operation that resolved it. Destroyed with the case."""
    conn.execute(
        """CREATE TABLE conflicts (
            id          INTEGER PRIMARY KEY AUTOINCREMENT,
            scope       TEXT NOT NULL,
            target      TEXT NOT NULL,
            field       TEXT NOT NULL,
            case_id     INTEGER REFERENCES cases(id),
            state       TEXT NOT NULL CHECK (state IN ('open', 'resolved')),
            candidates  TEXT NOT NULL,
            resolved_by TEXT,
            UNIQUE (target, field)
        ) STRICT"""
    )
    conn.execute("CREATE INDEX conflicts_by_case ON conflicts (case_id, state)")


def _v11_team(conn: Connection) -> None:
    """This laptop's place in a team, inside the encrypted store and nowhere else: the team id,
    this device's key pairs, the signed directory it trusts, the admin's invitations, the keys
    it holds by key id (a case's, a register's, the directory's: ``holders`` is the devices a
    key was sealed to, ``for_user`` the caseworker a case key was made for), the replay guard,
    its outgoing envelope number and last digest, envelopes sealed and kept with their number
    before they are published (so a retry after a crash sends the same bytes), operations
    received that still wait for a record, the shared folder, and the sync log (one sentence
    each, no personal data)."""
    conn.execute(
        """CREATE TABLE team (
            id          INTEGER PRIMARY KEY CHECK (id = 1),
            team_id     TEXT NOT NULL,
            device_id   TEXT NOT NULL,
            device_keys BLOB NOT NULL,
            directory   BLOB NOT NULL,
            signed_dir  BLOB,
            dir_sent    TEXT NOT NULL DEFAULT '{}',
            desk        TEXT NOT NULL DEFAULT '{"invitations": [], "used": {}}',
            guard       TEXT NOT NULL DEFAULT '{}',
            refused     TEXT NOT NULL DEFAULT '{}',
            seq         INTEGER NOT NULL DEFAULT 0,
            last_digest TEXT NOT NULL,
            sent_upto   INTEGER NOT NULL DEFAULT 0,
            folder      TEXT NOT NULL,
            last_sync   TEXT
        ) STRICT"""
    )
    conn.execute(
        """CREATE TABLE team_keys (
            key_id      TEXT PRIMARY KEY,
            scope       TEXT NOT NULL,
            key         BLOB NOT NULL,
            made_at     TEXT NOT NULL,
            for_user    TEXT,
            holders     TEXT NOT NULL DEFAULT '[]'
        ) STRICT"""
    )
    conn.execute("CREATE INDEX team_keys_by_scope ON team_keys (scope, made_at)")
    conn.execute(
        """CREATE TABLE team_outgoing (
            seq         INTEGER PRIMARY KEY,
            data        BLOB NOT NULL,
            published   INTEGER NOT NULL DEFAULT 0
        ) STRICT"""
    )
    conn.execute(
        """CREATE TABLE team_pending (
            op_id       TEXT PRIMARY KEY,
            operation   TEXT NOT NULL
        ) STRICT"""
    )
    conn.execute(
        """CREATE TABLE sync_log (
            id          INTEGER PRIMARY KEY AUTOINCREMENT,
            at          TEXT NOT NULL,
            sender      TEXT,
            seq         INTEGER,
            sentence    TEXT NOT NULL
        ) STRICT"""
    )


def _v11_operations_by_person(conn: Connection) -> None:
    """A person's own operations (added with their details, their name set) are filed under
    the person, not a case: purging one of their cases leaves them while the person stays on
    another, and they go when the person goes."""
    conn.execute("ALTER TABLE operations ADD COLUMN person_id INTEGER REFERENCES people(id)")
    conn.execute("CREATE INDEX operations_by_person ON operations (person_id)")


def _v12_purge(conn: Connection) -> None:
    """Purge across a team (app/sync/purge.py): the cases destroyed by the team's purge, as
    each laptop knows them (the case's global id; its reference only on the laptop that purged
    it; whether the order was carried out here; when the case's envelopes were compacted),
    which devices confirmed destroying each (``held`` 0: it never held the case), what
    retention needs of each case of the team (references and dates only; ``version``: the
    newest change of the case the sender had seen, which decides, then the operation's
    stamp), and the admin's review decisions about cases it does not hold."""
    conn.execute(
        """CREATE TABLE team_purged (
            case_gid     TEXT PRIMARY KEY,
            reference    TEXT NOT NULL DEFAULT '',
            run_id       TEXT,
            ordered_at   TEXT NOT NULL,
            ordered_by   TEXT NOT NULL,
            expected     TEXT NOT NULL DEFAULT '[]',
            done         INTEGER NOT NULL DEFAULT 0,
            compacted_at TEXT
        ) STRICT"""
    )
    conn.execute(
        """CREATE TABLE team_purge_acks (
            case_gid    TEXT NOT NULL,
            device      TEXT NOT NULL,
            at          TEXT NOT NULL,
            held        INTEGER NOT NULL,
            PRIMARY KEY (case_gid, device)
        ) STRICT"""
    )
    conn.execute(
        """CREATE TABLE team_retention (
            case_gid    TEXT PRIMARY KEY,
            reference   TEXT NOT NULL,
            facts       TEXT NOT NULL,
            version     TEXT NOT NULL,
            hlc         TEXT NOT NULL
        ) STRICT"""
    )
    conn.execute(
        """CREATE TABLE team_retention_decisions (
            id          INTEGER PRIMARY KEY AUTOINCREMENT,
            case_gid    TEXT NOT NULL,
            decision    TEXT NOT NULL,
            reason      TEXT NOT NULL,
            review_date TEXT,
            decided_by  INTEGER NOT NULL REFERENCES users(id),
            decided_at  TEXT NOT NULL,
            closed_date TEXT NOT NULL,
            due_date    TEXT NOT NULL
        ) STRICT"""
    )
    conn.execute(
        "CREATE INDEX team_retention_decisions_by_case ON team_retention_decisions (case_gid)"
    )


def _v12_registers(conn: Connection) -> None:
    """The registers across a team. A rights request's subject as it travels: the person's
    global id and name (``subject_gid``, ``subject_name``), so a laptop that holds no case (the
    DPO's) still shows who a request is about, and one that receives the person later links
    them. ``team_seen``: per device, the newest operation this laptop received from it
    (``last_hlc``) and when this laptop last accepted an envelope from it (``last_at``), so a
    subject access pack can name the laptops that have sent nothing since a request arrived."""
    conn.execute("ALTER TABLE rights_requests ADD COLUMN subject_gid TEXT")
    conn.execute("ALTER TABLE rights_requests ADD COLUMN subject_name TEXT NOT NULL DEFAULT ''")
    conn.execute(
        "UPDATE rights_requests SET subject_gid = p.gid, "
        "subject_name = trim(p.given_name || ' ' || p.family_name) "
        "FROM people p WHERE p.id = rights_requests.subject_person_id"
    )
    conn.execute(
        """CREATE TABLE team_seen (
            device      TEXT PRIMARY KEY,
            last_hlc    TEXT,
            last_at     TEXT NOT NULL
        ) STRICT"""
    )


def _v12_server(conn: Connection) -> None:
    """The team's server, when the team syncs through one instead of its shared folder, kept
    in the encrypted store and nowhere else: its address (``ServerAddress`` JSON, with the
    pinned certificate), this device's login password on it, whether this laptop has moved
    (``moving``: the admin's notice arrived and its own envelopes are still to be copied;
    ``moved``: it syncs through the server) and the old folder, still read for what other
    laptops published there late."""
    conn.execute(
        """CREATE TABLE team_server (
            id          INTEGER PRIMARY KEY CHECK (id = 1),
            address     TEXT NOT NULL,
            password    TEXT NOT NULL,
            state       TEXT NOT NULL CHECK (state IN ('moving', 'moved')),
            since       TEXT NOT NULL,
            old_folder  TEXT
        ) STRICT"""
    )


def _v12_team_audit(conn: Connection) -> None:
    """The team's audit trail (app/sync/audit_travel.py): other devices' entries as they
    arrived, each with its position and hash in its device's chain (never mixed into this
    store's own chain), and what the checks on arrival found (one sentence per finding, device
    ids and entry numbers only). Both append-only."""
    conn.execute(
        """CREATE TABLE team_audit (
            device      TEXT NOT NULL,
            position    INTEGER NOT NULL,
            at          TEXT NOT NULL,
            user_id     INTEGER,
            user_gid    TEXT NOT NULL DEFAULT '',
            username    TEXT NOT NULL DEFAULT '',
            action      TEXT NOT NULL,
            record      TEXT NOT NULL DEFAULT '',
            detail      TEXT NOT NULL DEFAULT '',
            prev_hash   TEXT NOT NULL,
            hash        TEXT NOT NULL,
            received_at TEXT NOT NULL,
            PRIMARY KEY (device, position)
        ) STRICT"""
    )
    conn.execute("CREATE INDEX team_audit_by_time ON team_audit (at)")
    _no_update(conn, "team_audit")
    conn.execute(
        """CREATE TRIGGER team_audit_no_delete BEFORE DELETE ON team_audit
           BEGIN SELECT RAISE(ABORT, 'team_audit is append-only'); END"""
    )
    conn.execute(
        """CREATE TABLE team_audit_findings (
            id          INTEGER PRIMARY KEY AUTOINCREMENT,
            at          TEXT NOT NULL,
            device      TEXT NOT NULL,
            position    INTEGER NOT NULL,
            sentence    TEXT NOT NULL
        ) STRICT"""
    )
    _no_update(conn, "team_audit_findings")


def _v12_revocation(conn: Connection) -> None:
    """Revoked devices as this laptop knows them: the signed order to destroy its store made
    for each (on the admin's laptop that revoked it), when the order reached the transport and
    when the device's signed receipt ("store destroyed") was seen. Device ids and times only.
    Each device's last seen is ``team_seen.last_at`` (``_v12_registers``)."""
    conn.execute(
        """CREATE TABLE team_revocations (
            device_id   TEXT PRIMARY KEY,
            revoked_at  TEXT NOT NULL,
            version     INTEGER NOT NULL,
            order_data  BLOB,
            order_sent  TEXT,
            confirmed   TEXT
        ) STRICT"""
    )


def _v12_merge_ops(conn: Connection) -> None:
    """Merges travel between a team's laptops: each merge names its two people by global id
    (a laptop may hold one of them, or neither, when the merge arrives), carries the clock
    stamp of the operation that made it (merges apply in that order on every laptop), and
    whether its links are moved on this laptop now (``applied``)."""
    conn.execute("ALTER TABLE person_merges ADD COLUMN kept_gid TEXT")
    conn.execute("ALTER TABLE person_merges ADD COLUMN merged_gid TEXT")
    conn.execute("ALTER TABLE person_merges ADD COLUMN hlc TEXT")
    conn.execute("ALTER TABLE person_merges ADD COLUMN applied INTEGER NOT NULL DEFAULT 1")
    conn.execute(
        "UPDATE person_merges SET applied = (state != 'undone'), "
        "kept_gid = (SELECT gid FROM people WHERE id = kept_id), "
        "merged_gid = (SELECT gid FROM people WHERE id = merged_id)"
    )


def _v12_guard(conn: Connection) -> None:
    """The replay guard and the refused envelopes in rows, written as each envelope is dealt
    with, instead of JSON in the team row rewritten whole for every envelope (app/sync/guard.py):
    ``team_guard`` holds per sender and number the envelope's digest, the digest it names as
    previous, and the scope whose key it waits for (NULL once opened); ``team_refused`` the
    envelopes refused for good. What the team row held moves here."""
    conn.execute(
        """CREATE TABLE team_guard (
            sender      TEXT NOT NULL,
            seq         INTEGER NOT NULL,
            digest      TEXT NOT NULL,
            previous    TEXT NOT NULL,
            waiting     TEXT,
            PRIMARY KEY (sender, seq)
        ) STRICT, WITHOUT ROWID"""
    )
    conn.execute(
        """CREATE TABLE team_refused (
            sender      TEXT NOT NULL,
            seq         INTEGER NOT NULL,
            PRIMARY KEY (sender, seq)
        ) STRICT, WITHOUT ROWID"""
    )
    row = conn.execute("SELECT guard, refused FROM team WHERE id = 1").fetchone()
    if row is None:
        return
    guard, refused = json.loads(str(row[0])), json.loads(str(row[1]))
    conn.executemany(
        "INSERT INTO team_guard (sender, seq, digest, previous, waiting) VALUES (?, ?, ?, ?, ?)",
        [
            (str(sender), int(seq), str(held[0]), str(held[1]), held[2])
            for sender, seqs in guard.items()
            for seq, held in seqs.items()
        ],
    )
    conn.executemany(
        "INSERT INTO team_refused (sender, seq) VALUES (?, ?) ON CONFLICT DO NOTHING",
        [(str(sender), int(seq)) for sender, seqs in refused.items() for seq in seqs],
    )
    conn.execute("UPDATE team SET guard = '{}', refused = '{}' WHERE id = 1")


MIGRATIONS: list[Callable[[Connection], None]] = [
    *(_v1, _v2, _v3, _v4, _v5, _v6, _v7, _v8, _v9),
    *(_v10_outcomes, _v10_marac_actions, _v10_person_merges),
    _v10_categories,
    _v11_breaches,
    _v11_marac_referrals,
    _v11_letters,
    _v11_figures,
    _v11_global_ids,
    _v11_outbox,
    _v11_conflicts,
    _v11_team,
    _v11_operations_by_person,
    _v12_purge,
    _v12_registers,
    _v12_team_audit,
    _v12_revocation,
    _v12_merge_ops,
    _v12_server,
    _v12_guard,
]
SCHEMA_VERSION = len(MIGRATIONS)


def version(conn: Connection) -> int:
    return int(conn.execute("PRAGMA user_version").fetchone()[0])


def migrate(conn: Connection, steps: list[Callable[[Connection], None]] | None = None) -> int:
    """Bring the store up to date; returns the version it is now at."""
    steps = MIGRATIONS if steps is None else steps
    current = version(conn)
    if current > len(steps):
        raise NewerStore()
    if current == len(steps):
        return current
    # Foreign keys are checked by hand before each step commits: a step that builds a table
    # again must drop the old one while other tables still point at it, and this pragma
    # cannot change inside a transaction.
    conn.execute("PRAGMA foreign_keys = OFF")
    try:
        for number in range(current + 1, len(steps) + 1):
            with transaction(conn):
                steps[number - 1](conn)
                if conn.execute("PRAGMA foreign_key_check").fetchone() is not None:
                    raise RuntimeError(f"schema step {number} broke a link between records")
                conn.execute(f"PRAGMA user_version = {number:d}")
    finally:
        conn.execute("PRAGMA foreign_keys = ON")
    return version(conn)

"""Reading the conflicts table (written by app/sync/ops.py) for the cases a user may open."""

from __future__ import annotations

from app.crypto.connection import Connection


def open_on_cases(
    conn: Connection, where: str, params: tuple[object, ...]
) -> list[tuple[object, ...]]:
    """Open conflicts on the cases ``c`` that ``where`` (an access condition built by the
    services, never from input) allows: id, case id, field, state, candidates, target and the
    case's reference."""
    rows = conn.execute(
        "SELECT k.id, k.case_id, k.field, k.state, k.candidates, k.target, c.reference "
        "FROM conflicts k JOIN cases c ON c.id = k.case_id "
        f"WHERE k.state = 'open' AND ({where})",
        params,
    )
    return [tuple(r) for r in rows.fetchall()]

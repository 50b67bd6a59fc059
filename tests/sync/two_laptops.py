"""A test helper: two laptops' changes of one field, neither seeing the other's, arriving on
this store (so it holds an open conflict)."""

from __future__ import annotations

import json

from app.crypto.connection import Connection
from app.models.db import transaction
from app.sync import ops
from app.sync.clock import Hlc, new_gid


def set_twice(
    conn: Connection,
    kind: str,
    scope: str,
    target: str,
    field: str,
    values: tuple[str, str] = ("First Value", "Second Value"),
) -> tuple[int, str]:
    """Apply two concurrent sets of ``field``; returns the open conflict's id and the change
    that set the first of ``values``."""
    with transaction(conn):
        for n, value in enumerate(values):
            ops.apply(
                conn,
                ops.Operation(
                    op_id=new_gid(),
                    hlc=Hlc(1_790_000_000_000 + n, 0, f"laptop-{n}").encode(),
                    device=f"laptop-{n}",
                    user="",
                    kind=kind,
                    scope=scope,
                    target=target,
                    payload={"field": field, "value": value},
                ),
            )
    [(conflict_id, candidates)] = conn.execute(
        "SELECT id, candidates FROM conflicts WHERE state = 'open'"
    ).fetchall()
    return int(conflict_id), str(json.loads(str(candidates))[0]["op_id"])

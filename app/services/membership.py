"""Whether this store is a laptop in a team, asked without loading the team machinery.

The desktop app asks this once after sign-in; only a store in a team then imports
app/services/team.py (and with it the sync engine and the team's crypto), so a laptop on its
own starts as fast as before.
"""

from __future__ import annotations

from app.crypto.connection import Connection
from app.models.users import Role
from app.services.session import Session


def in_team(session: Session) -> bool:
    session.require(*Role)
    return joined(session.conn)


def joined(conn: Connection) -> bool:
    return conn.execute("SELECT 1 FROM team WHERE id = 1").fetchone() is not None

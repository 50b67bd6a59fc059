"""``safecase team server init --dsn ...``: the owner sets up the team server from the command
line; a second run changes nothing; a wrong address, a refused connection, a wrong password
and missing rights each give one sentence and their exit code."""

from __future__ import annotations

from pathlib import Path

import psycopg

from app.errors import EXIT_FAILED, EXIT_OK, EXIT_SIGN_IN, EXIT_USAGE
from tests import pgcluster
from tests.pgcluster import Cluster
from tests.test_cli import cli


def _database(cluster: Cluster, name: str) -> str:
    with psycopg.connect(cluster.owner_conninfo(), autocommit=True) as conn:
        if not conn.execute(
            "SELECT 1 FROM pg_roles WHERE rolname = %s", (pgcluster.OWNER,)
        ).fetchone():
            conn.execute(
                f"CREATE ROLE {pgcluster.OWNER} LOGIN CREATEROLE "
                f"PASSWORD '{pgcluster.OWNER_PASSWORD}'"
            )
        conn.execute(f"CREATE DATABASE {name} OWNER {pgcluster.OWNER}")
    return cluster.conninfo(pgcluster.OWNER, pgcluster.OWNER_PASSWORD, name)


def test_the_owner_sets_up_the_server_once_and_a_second_run_changes_nothing(
    pg_cluster: Cluster,
) -> None:
    dsn = _database(pg_cluster, "cli_team")
    first = cli(["team", "server", "init", "--dsn", dsn])
    assert first.code == EXIT_OK, first.err
    # The roles are the cluster's: another test's database may have made them already.
    assert "made " in first.out and "schema safecase, table safecase.devices" in first.out
    assert "role safecase_device" in first.out
    assert "Next:" in first.out
    again = cli(["team", "server", "init", "--dsn", dsn])
    assert again.code == EXIT_OK, again.err
    assert again.out.startswith("The team server was already set up")
    with psycopg.connect(dsn) as conn:
        grants = conn.execute(
            "SELECT grantee, privilege_type FROM information_schema.role_table_grants "
            "WHERE table_schema = 'safecase' AND table_name = 'envelopes' "
            "AND grantee <> 'safecase_owner' ORDER BY 1, 2"
        ).fetchall()
    assert grants == [
        ("safecase_compactor", "DELETE"),
        ("safecase_compactor", "SELECT"),
        ("safecase_device", "INSERT"),
        ("safecase_device", "SELECT"),
    ]


def test_each_failure_is_one_sentence_with_its_exit_code(pg_cluster: Cluster) -> None:
    dsn = _database(pg_cluster, "cli_failures")
    pg_cluster.sql("CREATE ROLE cli_no_rights LOGIN PASSWORD 'cli-no-rights'")
    cases = [
        ("host=/tmp port=5432 dbname=x =oops", EXIT_USAGE, "not a PostgreSQL address"),
        (
            f"host={Path('/nonexistent-safecase')} port=5432 user=x dbname=y",
            EXIT_FAILED,
            "cannot be reached",
        ),
        (dsn.replace(pgcluster.OWNER_PASSWORD, "wrong-password"), EXIT_SIGN_IN, "refused"),
        (
            pg_cluster.conninfo("cli_no_rights", "cli-no-rights", "cli_failures"),
            EXIT_FAILED,
            "CREATEROLE",
        ),
    ]
    for given, code, words in cases:
        result = cli(["team", "server", "init", "--dsn", given])
        assert result.code == code, (given, result.err)
        assert words in result.err
        assert len(result.err.strip().splitlines()) == 1
        assert "wrong-password" not in result.err and "cli-no-rights" not in result.err

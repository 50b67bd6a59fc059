"""The self-test's checks: one line each, a sentence when something is wrong, never a raise."""

from __future__ import annotations

import io
import re
import sys
from pathlib import Path

import pytest
from keyring.backends import fail, null

from app import cli, paths
from app.crypto import device as device_module
from app.errors import KeyringUnavailable
from app.services import pdf_text, self_test
from app.services.self_test import keyring_check, pdf_check, run_check, store_check


def test_the_store_check_names_sqlcipher_and_fts5() -> None:
    line = run_check("store", store_check).line()
    assert line.startswith("ok   store: SQLCipher 4.")
    assert "FTS5 present, store encrypted" in line


@pytest.mark.parametrize(
    ("backend", "line"),
    [
        (null.Keyring, "FAIL keyring: the null backend stores nothing"),
        (fail.Keyring, "FAIL keyring: the fail backend stores nothing"),
    ],
)
def test_the_keyring_check_refuses_backends_that_store_nothing(backend: type, line: str) -> None:
    assert run_check("keyring", lambda: keyring_check(backend)).line() == line


def test_the_keyring_check_says_when_no_keyring_answers(monkeypatch: pytest.MonkeyPatch) -> None:
    def unavailable() -> None:
        raise KeyringUnavailable()

    monkeypatch.setattr(device_module, "pinned_backend", unavailable)
    line = run_check("keyring", keyring_check).line()
    assert line == f"FAIL keyring: {KeyringUnavailable.default_message}"


def test_the_pdf_check_fails_in_a_sentence_when_the_font_is_missing(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(paths, "resources_dir", lambda: tmp_path)
    pdf_text.register_fonts.cache_clear()
    try:
        line = run_check("PDF", pdf_check).line()
    finally:
        pdf_text.register_fonts.cache_clear()
    assert line.startswith("FAIL PDF: Safecase's PDF font is missing from this installation")


def test_an_unexpected_problem_is_a_line_not_a_traceback() -> None:
    def broken() -> str:
        raise RuntimeError("inner detail")

    assert run_check("store", broken).line() == (
        "FAIL store: an unexpected problem stopped the check (RuntimeError)"
    )


def test_the_command_prints_one_line_per_check_and_exits_0_when_all_pass() -> None:
    out, err = io.StringIO(), io.StringIO()
    code = cli.run(["--self-test"], cli.Context(stdout=out, stderr=err))
    lines = out.getvalue().splitlines()
    assert [line.split(":")[0] for line in lines] == [
        "ok   store",
        "ok   keyring",
        "ok   PDF",
        "ok   server",
        "ok   text",
        "ok   windows",
    ]
    assert lines[1] == "ok   keyring: memory_keyring backend in use"
    assert "offscreen platform plugin" in lines[5]
    assert code == 0
    assert err.getvalue() == ""


def test_the_command_exits_1_when_a_check_fails(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(device_module, "pinned_backend", null.Keyring)
    out = io.StringIO()
    code = cli.run(["--self-test"], cli.Context(stdout=out, stderr=io.StringIO()))
    assert "FAIL keyring: the null backend stores nothing" in out.getvalue().splitlines()
    assert code == 1


def test_a_keyring_backend_missing_from_the_installation_is_named(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(self_test, "backend_modules", lambda: ("keyring.backends.NotBundled",))
    line = run_check("keyring", keyring_check).line()
    assert line == (
        "FAIL keyring: the keyring backend is missing from this installation "
        "(keyring.backends.NotBundled); reinstall Safecase"
    )


def test_the_server_check_names_psycopg_and_libpq() -> None:
    line = run_check("server", self_test.server_check).line()
    pattern = r"ok   server: psycopg 3\.\d+\.\d+ \((binary|c|python)\) with libpq \d+\.\d+"
    assert re.fullmatch(pattern, line)


def test_the_server_check_fails_in_a_sentence_when_psycopg_cannot_load(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """As a bundle without Python's ssl module (which psycopg imports on load) failed."""
    monkeypatch.setitem(sys.modules, "psycopg", None)
    line = run_check("server", self_test.server_check).line()
    assert line == (
        "FAIL server: the team server's client is missing from this installation (psycopg); "
        "reinstall Safecase"
    )

"""`--db` naming something that is not a sandbox database: one line naming the file and what
is wrong, for every command, and the file left exactly as it was."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner

from sandbox.cli import cli

COMMANDS = [
    ["provider", "show"],
    ["entra", "status"],
    ["entra", "sync"],
    ["serve", "--port", "8765"],
    ["up", "--port", "8766"],
    ["transcript", "export"],
]


def error_line(db: Path, command: list[str]) -> str:
    result = CliRunner().invoke(cli, ["--db", str(db), *command])
    assert result.exit_code == 1, (result.output, result.exception)
    assert isinstance(result.exception, SystemExit), result.exception  # no traceback
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"Error: cannot open database {db}: "), lines
    return lines[0]


def listing(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in folder.iterdir() if p.is_file()}


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: " ".join(c[:2]))
def test_a_text_file_is_named_and_left_untouched(tmp_path: Path, command: list[str]) -> None:
    notes = tmp_path / "notes.txt"
    notes.write_text("meeting notes\nnot a database\n")
    before = listing(tmp_path)
    line = error_line(notes, command)
    assert line.endswith("the file is not an SQLite database (it was left as it is)")
    assert listing(tmp_path) == before  # not written, and nothing created beside it


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: " ".join(c[:2]))
def test_a_directory_is_named(tmp_path: Path, command: list[str]) -> None:
    folder = tmp_path / "data"
    folder.mkdir()
    assert error_line(folder, command).endswith(": it is a directory")
    assert list(folder.iterdir()) == []
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data"]


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: " ".join(c[:2]))
def test_a_path_in_a_missing_directory_is_named(tmp_path: Path, command: list[str]) -> None:
    missing = tmp_path / "nowhere" / "sandbox.db"
    line = error_line(missing, command)
    assert line.endswith(f": the directory {tmp_path / 'nowhere'} does not exist")
    assert not (tmp_path / "nowhere").exists()


def test_another_applications_sqlite_database_is_not_migrated(tmp_path: Path) -> None:
    other = tmp_path / "app.db"
    with sqlite3.connect(other) as conn:
        conn.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY, text TEXT)")
        conn.execute("INSERT INTO notes (text) VALUES ('keep me')")
    conn.close()
    line = error_line(other, ["provider", "show"])
    assert line.endswith(
        "it is an SQLite database but not a sandbox's (it has tables and no schema_version)"
    )
    with sqlite3.connect(other) as conn:
        tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        assert tables == ["notes"]
        assert conn.execute("SELECT text FROM notes").fetchall() == [("keep me",)]
    conn.close()


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: " ".join(c[:2]))
def test_another_applications_sqlite_database_is_left_byte_for_byte(
    tmp_path: Path, command: list[str]
) -> None:
    # Refused, it was left with a `app.db.lock` beside it, and switched to WAL mode (a byte
    # of its header) before the refusal.
    other = tmp_path / "app.db"
    with sqlite3.connect(other) as conn:
        conn.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY, text TEXT)")
        conn.execute("INSERT INTO notes (text) VALUES ('keep me')")
    conn.close()
    before = listing(tmp_path)
    line = error_line(other, command)
    assert line.endswith(
        "it is an SQLite database but not a sandbox's (it has tables and no schema_version)"
    )
    assert listing(tmp_path) == before  # no lock file, no -wal, the file as it was


def test_sandbox_serve_refuses_an_in_memory_database(tmp_path: Path) -> None:
    # Each granian worker opened a new, empty in-memory database: the token printed never
    # worked (every request 401 "user provisioning is disabled").
    for args, env in [(["--db", ":memory:"], {}), ([], {"SANDBOX_DB_PATH": ":memory:"})]:
        result = CliRunner().invoke(cli, [*args, "serve", "--port", "18506"], env=env)
        assert result.exit_code == 1 and isinstance(result.exception, SystemExit)
        assert result.stdout == ""  # no URL, no token that cannot work
        assert result.stderr.splitlines() == [
            "Error: sandbox serve cannot serve an in-memory database (:memory:): each of its "
            "worker processes opens the database itself and would get a new, empty one (the "
            "token shown would never work); give --db PATH"
        ]


def test_the_local_provider_of_an_in_memory_database_takes_the_engines_token() -> None:
    # An in-memory database is served by a thread of the command's process (README); its
    # engine held no token (the bootstrap's engine kept it in a memory of its own), so
    # test-connection failed with "invalid credentials".
    result = CliRunner().invoke(cli, ["--db", ":memory:", "entra", "test-connection"])
    assert result.exit_code == 0, result.output
    assert result.stderr == ""  # no "Note: the engine's secret token is not ..."
    assert "The specified credentials have permission to enable provisioning." in result.stdout


@pytest.mark.parametrize("content", ["not json at all", "[1, 2]"])
def test_a_damaged_secret_token_file_is_one_line_and_kept(tmp_path: Path, content: str) -> None:
    db = tmp_path / "sandbox.db"
    assert CliRunner().invoke(cli, ["--db", str(db), "entra", "status"]).exit_code == 0
    secrets = Path(f"{db}.secrets")
    secrets.write_text(content)
    for command in (["entra", "status"], ["entra", "configure", "--secret-token", "new"]):
        result = CliRunner().invoke(cli, ["--db", str(db), *command])
        assert result.exit_code == 1 and isinstance(result.exception, SystemExit)
        assert result.stderr.startswith(f"Error: cannot read the secret token file {secrets}: ")
        assert len(result.stderr.splitlines()) == 1
    assert secrets.read_text() == content


def test_transcript_export_to_a_missing_directory_is_one_line(tmp_path: Path) -> None:
    db = tmp_path / "sandbox.db"
    out = tmp_path / "missing" / "x.har"
    result = CliRunner().invoke(cli, ["--db", str(db), "transcript", "export", "--out", str(out)])
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit), result.exception
    assert result.stderr == f"Error: cannot write {out}: No such file or directory\n"
    assert not out.parent.exists()

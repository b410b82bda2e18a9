"""The shipped scenarios install with the package: in the wheel, found from any directory, and
run by their listed name."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest
import setuptools
from click.testing import CliRunner

from sandbox.cli import cli

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = sorted(p.name for p in (ROOT / "fixtures" / "scenarios").glob("*.toml"))


def test_the_package_list_holds_every_package_and_the_shipped_scenarios():
    listed = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"]
    found = setuptools.find_packages(str(ROOT), include=["sandbox*", "tui*"])
    assert set(listed) == {*found, "sandbox.scenarios.shipped"}


@pytest.mark.slow
def test_the_wheel_carries_the_eighteen_shipped_scenarios(tmp_path):
    source = tmp_path / "source"  # a copy: the build leaves nothing in the checkout
    for name in ("sandbox", "tui", "fixtures"):
        shutil.copytree(ROOT / name, source / name, ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source / name)
    built = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp_path), str(source)],
        capture_output=True,
        text=True,
    )
    assert built.returncode == 0, built.stderr
    (wheel,) = tmp_path.glob("*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    shipped = sorted(
        n.rsplit("/", 1)[1]
        for n in names
        if n.startswith("sandbox/scenarios/shipped/") and n.endswith(".toml")
    )
    assert len(FIXTURES) == 18 and shipped == FIXTURES
    assert "tui/app.tcss" in names


def test_list_and_run_by_name_from_another_directory(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()
    listed = json.loads(runner.invoke(cli, ["scenario", "list", "--json"]).output)
    assert sorted(Path(r["file"]).name for r in listed) == FIXTURES
    ran = runner.invoke(cli, ["scenario", "run", "happy-path"])
    assert ran.exit_code == 0, ran.output
    assert ran.output.startswith("PASS ") and "happy-path.toml (Happy path)" in ran.output
    missing = runner.invoke(cli, ["scenario", "run", "no-such-scenario"])
    assert (
        missing.exit_code == 1
        and "no-such-scenario: no such file, and no shipped scenario of that name" in missing.output
    )

"""The core runs without the UI: importing the engine or provider never loads textual or tui."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest


@pytest.mark.parametrize("module", ["sandbox.cli", "sandbox.provider", "sandbox.store",
                                    "sandbox.expressions", "sandbox.engine.mappings.mapping"])
def test_core_modules_do_not_import_the_ui(module):
    code = (
        f"import sys, json, {module}; "
        "print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in "
        "('textual', 'tui', 'flask', 'sqlite_utils'))))"
    )
    loaded = set(json.loads(subprocess.check_output([sys.executable, "-c", code], text=True)))
    assert not {m for m in loaded if m.split(".")[0] in ("textual", "tui")}
    if module.startswith(("sandbox.expressions", "sandbox.engine")):
        assert not {m for m in loaded if m.split(".")[0] in ("flask",)}
    if module == "sandbox.expressions":
        assert not {m for m in loaded if m.split(".")[0] == "sqlite_utils"}


def test_import_linter_contracts_hold():
    result = subprocess.run(["lint-imports"], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr

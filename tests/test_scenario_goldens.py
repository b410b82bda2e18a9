"""The shipped scenarios replay exactly as recorded: every exchange of both sides, byte for
byte (JSONL kept in tests/golden/transcripts/ so a change shows as a diff; HAR by hash).

A refactoring must leave these untouched. A change meant to alter what the sandbox sends or
answers re-records them with `python tests/golden/update.py`, and says why in its commit.
"""

from __future__ import annotations

import difflib

import pytest

from tests.golden.update import GOLDEN, sha256, transcripts

RECORDED_HAR = dict(
    reversed(line.split("  ")) for line in (GOLDEN / "har.sha256").read_text().splitlines()
)


@pytest.fixture(scope="module")
def replayed() -> dict[str, tuple[str, str]]:
    return transcripts()


def test_every_shipped_scenario_has_a_recorded_transcript(replayed):
    assert sorted(replayed) == sorted(p.stem for p in GOLDEN.glob("*.jsonl"))
    assert sorted(f"{name}.har" for name in replayed) == sorted(RECORDED_HAR)


def test_each_scenario_replays_its_recorded_exchanges(replayed):
    changed = []
    for name, (jsonl, har) in sorted(replayed.items()):
        recorded = (GOLDEN / f"{name}.jsonl").read_text(encoding="utf-8")
        if jsonl != recorded:
            diff = difflib.unified_diff(
                recorded.splitlines(),
                jsonl.splitlines(),
                lineterm="",
                fromfile=f"recorded {name}",
                tofile=f"replayed {name}",
                n=0,
            )
            changed.append("\n".join(list(diff)[:12]))
        elif sha256(har) != RECORDED_HAR[f"{name}.har"]:
            changed.append(f"{name}: the HAR differs though the exchanges do not")
    assert not changed, (
        "transcripts changed (python tests/golden/update.py re-records them "
        "when that is intended):\n" + "\n\n".join(changed)
    )

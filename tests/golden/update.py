"""Records the shipped scenarios' transcripts as the golden copies the tests compare with.

Run it only when a change to what the sandbox sends or answers is intended, and say in the
commit which behaviour changed:  python tests/golden/update.py
"""

from __future__ import annotations

import hashlib
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
GOLDEN = Path(__file__).resolve().parent / "transcripts"


def transcripts() -> dict[str, tuple[str, str]]:
    """Each shipped scenario's name -> (JSONL transcript, HAR transcript)."""
    sys.path.insert(0, str(ROOT))
    from sandbox.scenarios import run_scenario, shipped_files

    return {
        path.stem: (
            run_scenario(str(path), transcript_format="jsonl").transcript,
            run_scenario(str(path), transcript_format="har").transcript,
        )
        for path in shipped_files()
    }


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def main() -> None:
    GOLDEN.mkdir(exist_ok=True)
    for old in GOLDEN.glob("*.jsonl"):
        old.unlink()
    lines = []
    for name, (jsonl, har) in sorted(transcripts().items()):
        (GOLDEN / f"{name}.jsonl").write_text(jsonl, encoding="utf-8")
        lines.append(f"{sha256(har)}  {name}.har\n")
    (GOLDEN / "har.sha256").write_text("".join(lines), encoding="utf-8")
    print(f"recorded {len(lines)} scenarios in {GOLDEN}")


if __name__ == "__main__":
    main()

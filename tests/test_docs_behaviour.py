"""The behaviour reference keeps up with the code: every `§N.M` the code cites (other than an
RFC's section, written `RFC 7644 §3.12`) is a section of docs/entra-behaviour.md, every
section names its Microsoft source, and the reference the citations once pointed at outside
the repository is named nowhere."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "entra-behaviour.md"

CITATION = re.compile(r"(RFC\s?\d{4}\s)?§\s?(\d+(?:\.\d+)*)")
"""A § citation; group 1 is set when an RFC names it (`RFC 7644 §3.5.2`)."""
HEADING = re.compile(r"^#{2,4}\s+(\d+(?:\.\d+)*)\.?\s", re.MULTILINE)
"""A numbered section heading: `## 8. Failure handling`, `### 8.2 Quarantine`."""
MICROSOFT_SOURCE = re.compile(
    r"https://(?:learn\.microsoft\.com/|github\.com/(?:MicrosoftDocs|AzureAD|microsoftgraph|microsoft)/)"
)
OLD_REFERENCE = "entra-engine" + ".md"


def behaviour_citations(text: str) -> set[str]:
    """The sections of the behaviour reference that `text` cites (RFC sections left out)."""
    return {m.group(2) for m in CITATION.finditer(text) if m.group(1) is None}


def sections(doc: str) -> dict[str, str]:
    """Each numbered section of `doc` with its own text (up to the next numbered heading)."""
    found = list(HEADING.finditer(doc))
    return {
        m.group(1): doc[m.end() : found[i + 1].start() if i + 1 < len(found) else len(doc)]
        for i, m in enumerate(found)
    }


def cited_in(*folders: str) -> dict[str, set[str]]:
    """Section -> the files under `folders` that cite it."""
    cited: dict[str, set[str]] = {}
    for folder in folders:
        for path in sorted((ROOT / folder).rglob("*")):
            if path.suffix not in (".py", ".tcss", ".md", ".toml") or not path.is_file():
                continue
            for section in behaviour_citations(path.read_text(encoding="utf-8")):
                cited.setdefault(section, set()).add(str(path.relative_to(ROOT)))
    return cited


def test_citations_are_told_apart_from_rfc_sections():
    text = (
        "# RFC 7644 §3.5.2: a PatchOp; RFC 7643 §4.1 and RFC 7643 §4.3\n"
        "# quarantine (§8.2), roles (§5.4/§5.5), §1.2 step 6, §3 item 4"
    )
    assert behaviour_citations(text) == {"8.2", "5.4", "5.5", "1.2", "3"}


def test_a_citation_of_a_missing_section_is_found():
    doc = "## 1. Cycle model\n\n### 1.1 Jobs\n\ntext\n"
    missing = behaviour_citations("# see §1.1 and §12.3") - set(sections(doc))
    assert missing == {"12.3"}


def test_every_cited_section_is_in_the_behaviour_reference():
    known = set(sections(DOC.read_text(encoding="utf-8")))
    missing = {
        section: sorted(files)
        for section, files in cited_in("sandbox", "tui").items()
        if section not in known
    }
    assert not missing, f"cited but not in docs/entra-behaviour.md: {missing}"


def test_the_reference_has_the_sections_the_code_is_organised_by():
    known = set(sections(DOC.read_text(encoding="utf-8")))
    expected = {str(n) for n in range(1, 11)} | {
        *(f"1.{n}" for n in range(1, 7)),
        *(f"2.{n}" for n in range(1, 9)),
        *(f"5.{n}" for n in range(1, 7)),
        *(f"8.{n}" for n in range(1, 5)),
    }
    assert expected <= known, f"missing sections: {sorted(expected - known)}"


def test_every_section_names_a_microsoft_source():
    unsourced = [
        number
        for number, text in sections(DOC.read_text(encoding="utf-8")).items()
        if not MICROSOFT_SOURCE.search(text)
    ]
    assert not unsourced, (
        f"sections without a learn.microsoft.com or Microsoft GitHub link: {unsourced}"
    )


def test_no_file_names_the_reference_outside_the_repository():
    tracked = (
        subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True)
        .stdout.decode()
        .split("\0")
    )
    naming = [
        name
        for name in tracked
        if name
        and (ROOT / name).is_file()
        and OLD_REFERENCE in (ROOT / name).read_text("utf-8", "replace")
    ]
    assert not naming, f"files naming {OLD_REFERENCE}: {naming}"


def test_the_readme_links_the_behaviour_reference():
    assert "docs/entra-behaviour.md" in (ROOT / "README.md").read_text(encoding="utf-8")

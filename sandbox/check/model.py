"""Provides the check results: one per check and dialect, and the report of a whole run."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

PASS, FAIL, SKIPPED = "pass", "fail", "skipped"

QUARANTINE = (
    "Entra quarantines the job: cycles slow down to one a day and nothing more is provisioned "
    "until the endpoint is fixed and provisioning restarted (docs/entra-behaviour.md §8.2)."
)
ESCROW = (
    "Entra escrows the change and retries it in the next cycles (40 minutes, then less and "
    "less often); the account stays as it was on the endpoint until a retry succeeds (§8.1)."
)
SILENT = (
    "Entra logs a success and moves on: it never reads the value back, so the account stays "
    "wrong on the endpoint until the attribute changes again in Entra (§2.4)."
)
DUPLICATE = (
    "Entra finds no match and creates the user again: a second account for the same person, "
    "or a 409 that escrows the user for ever (§4)."
)


@dataclass(frozen=True)
class Exchange:
    """One HTTP exchange as a result shows it (the request log's entry, Authorization redacted)."""

    method: str
    path: str
    query: str
    status: int
    request_body: str | None
    response_body: str | None

    def line(self) -> str:
        """`METHOD path?query -> status`."""
        query = f"?{self.query}" if self.query else ""
        return f"{self.method} {self.path}{query} -> {self.status or 'no answer'}"

    @classmethod
    def from_entry(cls, entry: dict[str, object]) -> Exchange:
        """From a decoded request-log row."""
        status = entry.get("status")
        return cls(
            method=str(entry.get("method", "")),
            path=str(entry.get("path", "")),
            query=str(entry.get("query") or ""),
            status=status if isinstance(status, int) else 0,
            request_body=_str_or_none(entry.get("request_body")),
            response_body=_str_or_none(entry.get("response_body")),
        )


def _str_or_none(value: object) -> str | None:
    return None if value is None else str(value)


@dataclass(frozen=True)
class CheckResult:
    """The outcome of one check in one dialect."""

    id: str
    """A stable name, e.g. ``user.disable``."""
    title: str
    dialect: str
    """"legacy", "aadOptscim062020", or "any" for the dialect-free SCIM checks."""
    status: str
    """pass, fail or skipped."""
    required: bool = True
    reason: str = ""
    """What was wrong (fail) or why it did not run (skipped)."""
    entra_next: str = ""
    """What Entra would do next in production after this failure."""
    exchange: Exchange | None = None
    """The exchange that broke it."""

    @property
    def passed(self) -> bool:
        return self.status == PASS

    def to_dict(self) -> dict[str, object]:
        """A JSON-ready dict."""
        return asdict(self)


@dataclass
class CheckReport:
    """Every result of a run, in the order the checks ran."""

    target: str
    dialects: tuple[str, ...]
    groups: bool
    groups_note: str = ""
    """Why group checks did not run (the endpoint has no /Groups), or empty."""
    results: list[CheckResult] = field(default_factory=list)
    kept: bool = False
    cleanup_failures: list[str] = field(default_factory=list)
    exchanges: list[dict[str, object]] = field(default_factory=list, repr=False)
    """Every exchange of the run (request-log entries, Authorization redacted), for --har."""

    @property
    def ok(self) -> bool:
        """Whether every required check passed (skipped ones do not count against it)."""
        return not any(r.status == FAIL and r.required for r in self.results)

    def counts(self) -> dict[str, int]:
        out = {PASS: 0, FAIL: 0, SKIPPED: 0}
        for result in self.results:
            out[result.status] += 1
        return out

    def summary(self) -> str:
        """One line: the counts, and whether Entra would work with the endpoint."""
        counts = self.counts()
        optional = sum(1 for r in self.results if r.status == FAIL and not r.required)
        verdict = "ready for Entra" if self.ok else "Entra will break on this endpoint"
        extra = f" ({optional} optional)" if optional else ""
        return (
            f"{counts[PASS]} passed, {counts[FAIL]} failed{extra}, {counts[SKIPPED]} skipped: "
            f"{verdict}"
        )

    def to_dict(self) -> dict[str, object]:
        """A JSON-ready dict."""
        return {
            "target": self.target,
            "dialects": list(self.dialects),
            "groups": self.groups,
            "groups_note": self.groups_note,
            "ok": self.ok,
            "summary": self.summary(),
            "counts": self.counts(),
            "kept": self.kept,
            "cleanup_failures": self.cleanup_failures,
            "results": [r.to_dict() for r in self.results],
        }


class CheckFailed(Exception):
    """Raised by a check: what was wrong, what Entra does next, the exchange behind it."""

    def __init__(self, reason: str, entra_next: str = "", exchange: Exchange | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.entra_next = entra_next
        self.exchange = exchange


class CheckSkipped(Exception):
    """Raised by a check that does not apply (the reason says why)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason

"""Provides the check report's renderings: text lines, JUnit XML for CI, and HAR."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from sandbox.check.model import FAIL, SKIPPED, CheckReport, CheckResult

BODY_CHARS = 600
"""How much of a request or response body a failure shows (the HAR has them whole)."""

MARKS = {"pass": "PASS", "fail": "FAIL", "skipped": "SKIP"}


def _cut(text: str | None) -> str:
    text = (text or "").strip()
    if not text:
        return "(none)"
    return text if len(text) <= BODY_CHARS else text[:BODY_CHARS] + f"... [{len(text)} chars]"


def result_lines(result: CheckResult) -> list[str]:
    """One line per result, then for a failure what was wrong, what Entra does next and the
    exchange that broke it; for a skipped check why."""
    mark = MARKS[result.status]
    if result.status == FAIL and not result.required:
        mark = "WARN"
    lines = [f"{mark} {result.dialect:<16} {result.id:<26} {result.title}"]
    if result.status == SKIPPED and result.reason:
        lines.append(f"     skipped: {result.reason}")
    if result.status == FAIL:
        lines.append(f"     what: {result.reason}")
        if result.entra_next:
            lines.append(f"     Entra next: {result.entra_next}")
        if result.exchange is not None:
            lines.append(f"     exchange: {result.exchange.line()}")
            if result.exchange.request_body:
                lines.append(f"       sent: {_cut(result.exchange.request_body)}")
            lines.append(f"       answer: {_cut(result.exchange.response_body)}")
    return lines


def text_lines(report: CheckReport) -> list[str]:
    """The whole report as the terminal shows it, the summary line last."""
    lines = [line for result in report.results for line in result_lines(result)]
    if report.groups_note:
        lines.append(report.groups_note)
    if report.kept:
        lines.append("test objects kept on the endpoint (--keep)")
    lines += [f"cleanup: {failure}" for failure in report.cleanup_failures]
    lines.append(report.summary())
    return lines


def to_junit(report: CheckReport) -> str:
    """JUnit XML: one testsuite per dialect, one testcase per check; a failed optional check
    is a passed testcase with its warning in system-out."""
    root = ET.Element("testsuites", name="sandbox check", tests=str(len(report.results)))
    suites: dict[str, ET.Element] = {}
    for result in report.results:
        suite = suites.get(result.dialect)
        if suite is None:
            suite = suites[result.dialect] = ET.SubElement(
                root, "testsuite", name=f"sandbox check ({result.dialect})"
            )
        case = ET.SubElement(
            suite, "testcase", classname=f"sandbox.check.{result.dialect}", name=result.id
        )
        detail = "\n".join(result_lines(result)[1:])
        if result.status == SKIPPED:
            ET.SubElement(case, "skipped", message=result.reason)
        elif result.status == FAIL and result.required:
            failure = ET.SubElement(case, "failure", message=result.reason)
            failure.text = detail
        elif result.status == FAIL:
            ET.SubElement(case, "system-out").text = "optional check failed:\n" + detail
    for suite in suites.values():
        cases = list(suite)
        suite.set("tests", str(len(cases)))
        suite.set("failures", str(sum(1 for c in cases if c.find("failure") is not None)))
        suite.set("skipped", str(sum(1 for c in cases if c.find("skipped") is not None)))
    failures = sum(int(s.get("failures", "0")) for s in suites.values())
    root.set("failures", str(failures))
    ET.indent(root)
    return ET.tostring(root, encoding="unicode", xml_declaration=True) + "\n"


def to_har(report: CheckReport) -> str:
    """Every exchange of the run as HAR 1.2 (Authorization already redacted by the log)."""
    from sandbox.transcripts import to_har as har

    return har(report.exchanges)

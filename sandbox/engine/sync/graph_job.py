"""Provides the provisioning job and provision on demand in Microsoft Graph's shapes (§1.7):
a synchronizationJob (its schedule, its status with the last executions and the quarantine)
and provisionOnDemand's answer, a stringKeyStringValuePair whose key and value are JSON
strings holding the result and the object's steps.

Pure functions of what the service stores (the job's configuration and state, the cycles'
reports, a provisioning log record): the Graph surface serves them, tests compare them to the
engine's own state.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence

from sandbox.engine.sync.graph_log import SOURCE_SYSTEM_NAME, Record, job_id
from sandbox.engine.sync.job import JobConfig, JobState
from sandbox.scim_names import APP

TEMPLATE_ID = "scim"
"""The synchronization template of a non-gallery SCIM app (its job ids begin `scim.`)."""

SCHEDULE_INTERVAL = "PT40M"
"""Graph synchronizationSchedule.interval of the job (an ISO 8601 duration; §1.1)."""

NEVER = "0001-01-01T00:00:00Z"
"""What Graph gives a steady-state time that was never reached (DateTimeOffset.MinValue)."""

EXPORTS = ("created", "updated", "disabled", "deleted")


def _counts(report: Mapping[str, object]) -> dict[str, int]:
    counts = report.get("counts")
    if not isinstance(counts, Mapping):
        return {}
    return {str(k): v for k, v in counts.items() if isinstance(v, int)}


def _state(report: Mapping[str, object]) -> str:
    """synchronizationTaskExecutionResult: Failed (the cycle ended in quarantine),
    EntryLevelErrors (some objects failed), Succeeded."""
    if report.get("quarantine"):
        return "Failed"
    return "EntryLevelErrors" if _counts(report).get("failed", 0) else "Succeeded"


def _error(code: str, message: str) -> dict[str, object]:
    """Graph synchronizationError."""
    return {"code": code, "message": message, "tenantActionable": True}


def _quarantine_error(quarantine: Mapping[str, object]) -> dict[str, object]:
    """The quarantine's synchronizationError: its reason as the code, the engine's account of
    the failure as the message."""
    return _error(str(quarantine.get("reason") or "Unknown"), str(quarantine.get("error") or ""))


def task_execution(report: Mapping[str, object], guid: str) -> dict[str, object]:
    """A cycle's report as Graph's synchronizationTaskExecution. The engine evaluates the
    objects it imports, so imported, entitled and entitled-for-provisioning are one count."""
    counts = _counts(report)
    exported = sum(counts.get(name, 0) for name in EXPORTS)
    failed = counts.get("failed", 0)
    objects = report.get("objects")
    objects = objects if isinstance(objects, int) else 0
    quarantine = report.get("quarantine")
    return {
        "activityIdentifier": guid,
        "countEntitled": objects,
        "countEntitledForProvisioning": objects,
        "countEscrowed": failed,
        "countEscrowedRaw": failed,
        "countExported": exported,
        "countExports": exported + failed,
        "countImported": objects,
        "countImportedDeltas": objects if report.get("kind") == "incremental" else 0,
        "countImportedReferenceDeltas": 0,
        "error": _quarantine_error(quarantine) if isinstance(quarantine, Mapping) else None,
        "state": _state(report),
        "timeBegan": report.get("started"),
        "timeEnded": report.get("finished"),
    }


def synchronization_job(
    config: JobConfig,
    state: JobState,
    cycles: Sequence[tuple[Mapping[str, object], str]],
    entry_counts: Mapping[str, int],
    tenant_domain: str,
) -> dict[str, object]:
    """The job as Graph's synchronizationJob. `cycles` are the finished scheduled cycles'
    reports with their GUIDs, oldest first (provision on demand is not a run of the job);
    `entry_counts` the connector data store's entries per type ("User", "Group"): the objects
    linked since it was last reset, deleted ones included (`LinkStore.entry_counts`, §1.7)."""
    executions = [task_execution(report, guid) for report, guid in cycles]
    succeeded = [run for run in executions if run["state"] == "Succeeded"]
    with_exports = [run for run in succeeded if run["countExported"]]
    failures = 0
    for run in reversed(executions):
        if run["state"] != "Failed":
            break
        failures += 1
    steady = [run["timeEnded"] for run in executions if run["state"] != "Failed"]
    quarantine = state.quarantine
    settings = [{"name": "Domain", "value": json.dumps({"domain": tenant_domain})}]
    if config.delete_threshold is not None:
        settings.append(
            {"name": "QuarantineTooManyDeletesThreshold", "value": str(config.delete_threshold)}
        )
    return {
        "id": job_id(tenant_domain),
        "templateId": TEMPLATE_ID,
        "schedule": {"expiration": None, "interval": SCHEDULE_INTERVAL, "state": state.schedule()},
        "status": {
            "code": state.status(config),
            "countSuccessiveCompleteFailures": failures,
            "escrowsPruned": False,
            "lastExecution": executions[-1] if executions else None,
            "lastSuccessfulExecution": succeeded[-1] if succeeded else None,
            "lastSuccessfulExecutionWithExports": with_exports[-1] if with_exports else None,
            "progress": [],
            "quarantine": None
            if quarantine is None
            else {
                "currentBegan": quarantine.current_began,
                "nextAttempt": quarantine.next_attempt,
                "reason": quarantine.reason,
                "seriesBegan": quarantine.series_began,
                "seriesCount": quarantine.series_count,
                "error": _quarantine_error(quarantine.__dict__),
            },
            "steadyStateFirstAchievedTime": steady[0] if steady else NEVER,
            "steadyStateLastAchievedTime": steady[-1] if steady else NEVER,
            "synchronizedEntryCountByType": [
                {"key": key, "value": value} for key, value in entry_counts.items()
            ],
            "troubleshootingUrl": None,
        },
        "synchronizationJobSettings": settings,
    }


def _title(word: str) -> str:
    return word[:1].upper() + word[1:]


def _text(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "True" if value else "False"
    return value if isinstance(value, str) else json.dumps(value)


def on_demand_answer(record: Record, tenant_domain: str) -> dict[str, object]:
    """Provision on demand's answer for one object, as Graph's example gives it: `key` the
    result (Success, Failure, Skipped) and its details, `value` the object's summary with its
    steps; both JSON strings."""
    status = record.status
    details: dict[str, object] = {}
    if record.error_code:
        details = {"errorCode": record.error_code, "errorMessage": record.reason}
    steps = [
        {
            "name": step.name,
            "type": _title(step.type),
            "status": _title(step.status),
            "description": step.description,
            "timestamp": record.at,
            "details": {key: _text(value) for key, value in step.details.items()},
        }
        for step in record.steps
    ]
    summary = {
        "action": record.action,
        "changeId": record.change_id,
        "endTime": record.at,
        "modifiedProperties": [
            {
                "displayName": str(change.get("displayName")),
                "oldValue": _text(change.get("oldValue")),
                "newValue": _text(change.get("newValue")),
            }
            for change in record.modified
        ],
        "provisioningSteps": steps,
        "reportableIdentifier": record.source_name,
        "startTime": record.at,
        "statusInfo": {
            "status": status,
            "errorCode": record.error_code,
            "reason": record.reason,
            "additionalDetails": None,
            "errorCategory": record.error_category,
            "recommendedAction": record.recommended_action,
        },
        "sourceIdentity": {
            "id": record.source_id,
            "type": record.object_type,
            "displayName": record.source_name,
            "details": None,
        },
        "sourceSystem": {"id": None, "name": SOURCE_SYSTEM_NAME, "details": None},
        "targetIdentity": {
            "id": record.target_id,
            "type": record.object_type,
            "displayName": None,
            "details": None,
        },
        "targetSystem": {"id": None, "name": APP, "details": None},
        "jobId": record.job_id or job_id(tenant_domain),
    }
    return {
        "key": json.dumps({"result": status, "details": details}),
        "value": json.dumps(summary),
    }

"""Provides a provisioning log record as Graph's provisioningObjectSummary (§8.4): the job and
cycle ids, who initiated it, the source and target systems, and provisioningStatusInfo with
the error's category and recommended action.

The ids of the tenant, the app and its job are fixed per tenant domain (uuid5), so they are
the same in every run of a sandbox, as a real tenant's are.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Protocol

from sandbox.engine.scim.target_errors import ErrorCode
from sandbox.scim_names import APP

_NAMESPACE = uuid.UUID("0b3c7a52-8f4e-4f0e-9d7a-3c1e5b2a9f61")

SOURCE_SYSTEM_NAME = "Azure Active Directory"
"""The source system as Graph's examples name it (and the steps' "from Azure Active Directory")."""

INITIATOR = {"id": "", "displayName": "Azure AD Provisioning Service", "initiatorType": "system"}
"""Graph's initiator of a provisioning event run by the service (the List example)."""

SYSTEM = "system"
"""initiatorType of every record the engine writes (Graph initiatorType: user, application,
system)."""

NON_SERVICE_FAILURE = "nonServiceFailure"
"""Graph provisioningStatusErrorCategory of a failure outside the provisioning service: the
target's answer, the data or the configuration (the engine has no service failures)."""

RECOMMENDED_ACTIONS: dict[str, str] = {
    ErrorCode.ENTRY_CONFLICT: (
        "Correct the conflicting attribute values in Microsoft Entra ID or the application, or "
        "review the matching attribute configuration if the conflicting account was meant to "
        "be matched and taken over."
    ),
    ErrorCode.TOO_MANY_REQUESTS: (
        "The target app is overloaded. There's nothing to do: the attempt is retried."
    ),
    ErrorCode.INTERNAL_SERVER_ERROR: (
        "The target app returned an unexpected error. The attempt is retried in 40 minutes."
    ),
    ErrorCode.INSUFFICIENT_RIGHTS: (
        "Microsoft Entra authenticated with the target application but wasn't authorized to "
        "perform the update. Review the target application's instructions."
    ),
    ErrorCode.UNPROCESSABLE_ENTITY: (
        "The target application returned an unexpected response: check its configuration."
    ),
    ErrorCode.WEB_EXCEPTION: (
        "An HTTP protocol error occurred. There's nothing to do: the attempt is retried in 40 "
        "minutes."
    ),
    ErrorCode.INVALID_ANCHOR: (
        "The object previously created or matched no longer exists in the target. Ensure it "
        "exists, or restart the job to match every object again."
    ),
    ErrorCode.TIMEOUT: (
        "The target application took too long to respond. There's nothing to do: the attempt "
        "is retried in 40 minutes."
    ),
    ErrorCode.DUPLICATE_TARGET_ENTRIES: (
        "More than one object in the target matches the matching attributes: remove the "
        "duplicate from the target application or reconfigure the attribute mappings."
    ),
    ErrorCode.MULTIPLE_ENTRIES: (
        "A GET by id or filter received several objects where one was expected: fix the SCIM "
        "endpoint's filtering."
    ),
    ErrorCode.SERVICE_INCOMPATIBLE: (
        "Work with the application developer to make the SCIM endpoint compatible with the "
        "Microsoft Entra SCIM client."
    ),
    ErrorCode.BAD_REQUEST: (
        "Work with the application developer to make the SCIM endpoint compatible with the "
        "Microsoft Entra SCIM client."
    ),
    "ImportSkipped": (
        "The user has no value for the matching attribute: give it one, or change the matching "
        "attribute in the attribute mappings."
    ),
    "AttributeMappingEvaluationFailed": (
        "Correct the attribute mapping's expression or the source value it reads."
    ),
    "MappingEvaluationFailed": "Correct the attribute mapping or the source value it reads.",
}
"""Each error code's resolution, after the error-code table of "How to download and analyze
the Microsoft Entra provisioning logs" (§8.4); the last three are the engine's own words."""
for _code in (ErrorCode.METHOD_NOT_ALLOWED, ErrorCode.UNAUTHORIZED, "NotPermitted"):
    RECOMMENDED_ACTIONS[_code] = RECOMMENDED_ACTIONS[ErrorCode.INSUFFICIENT_RIGHTS]


class _Step(Protocol):
    name: str
    type: str
    status: str
    description: str
    details: dict[str, object]


class Record(Protocol):
    """What a provisioning log record (sync/logs.py's LogRecord) offers this module."""

    id: str
    at: str
    cycle_id: int
    cycle_guid: str
    change_id: str
    job_id: str
    action: str
    status: str
    object_type: str
    source_id: str
    source_name: str
    target_id: str | None
    error_code: str | None
    reason: str | None
    error_category: str | None
    recommended_action: str | None
    initiated_by: str
    duration_ms: float
    simulated_ms: float
    modified: list[dict[str, object]]
    exchanges: list[str]

    @property
    def steps(self) -> Sequence[_Step]: ...


def error_information(code: str | None) -> tuple[str | None, str | None]:
    """(errorCategory, recommendedAction) of a record with error code `code` (None: none)."""
    if not code:
        return None, None
    return NON_SERVICE_FAILURE, RECOMMENDED_ACTIONS.get(code)


def object_id(name: str, tenant_domain: str) -> str:
    """The fixed id of the tenant's object `name` ("tenant", "app", "servicePrincipal",
    "sourceSystem", "targetSystem"): the same in every run of a sandbox with this domain."""
    return str(uuid.uuid5(_NAMESPACE, f"{name}:{tenant_domain.lower()}"))


_id = object_id


def tenant_id(tenant_domain: str) -> str:
    """The tenant's id (Graph tenantId)."""
    return _id("tenant", tenant_domain)


def service_principal_id(tenant_domain: str) -> str:
    """The enterprise app's service principal id (Graph servicePrincipal id)."""
    return _id("servicePrincipal", tenant_domain)


def application_id(tenant_domain: str) -> str:
    """The app's application (client) id (Graph appId)."""
    return _id("app", tenant_domain)


def job_id(tenant_domain: str) -> str:
    """The provisioning job's id as Entra forms it: template, tenant id without dashes, app
    id (`scim.<tenant>.<app>`; Graph's example `aws.74beb175....10a7a801-...`)."""
    return f"scim.{tenant_id(tenant_domain).replace('-', '')}.{_id('app', tenant_domain)}"


def _text(value: object) -> str | None:
    """A modified property's value as Graph's modifiedProperty carries it (a string)."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "True" if value else "False"
    return value if isinstance(value, str) else str(value)


def provisioning_object_summary(record: Record, tenant_domain: str) -> dict[str, object]:
    """`record` with Graph's provisioningObjectSummary names and values; what Graph has no
    name for (the sandbox's cycle number, the HTTP exchanges) under "sandbox"."""
    status = record.status.lower()
    error: dict[str, object] | None = None
    if status in ("failure", "warning"):
        error = {
            "errorCode": record.error_code,
            "reason": record.reason,
            "additionalDetails": None,
            "errorCategory": record.error_category or NON_SERVICE_FAILURE,
            "recommendedAction": record.recommended_action,
        }
    principal = _id("servicePrincipal", tenant_domain)
    action = record.action[:1].lower() + record.action[1:]
    return {
        "id": record.id,
        "activityDateTime": record.at,
        "tenantId": tenant_id(tenant_domain),
        "jobId": record.job_id or job_id(tenant_domain),
        "cycleId": record.cycle_guid,
        "changeId": record.change_id,
        "provisioningAction": action,
        "durationInMilliseconds": round(record.simulated_ms or record.duration_ms),
        "initiatedBy": {**INITIATOR, "initiatorType": record.initiated_by or SYSTEM},
        "servicePrincipal": {"id": principal, "displayName": APP},
        "sourceSystem": {
            "id": _id("sourceSystem", tenant_domain),
            "displayName": SOURCE_SYSTEM_NAME,
            "details": {},
        },
        "targetSystem": {
            "id": _id("targetSystem", tenant_domain),
            "displayName": APP,
            "details": {
                "ApplicationId": _id("app", tenant_domain),
                "ServicePrincipalId": principal,
                "ServicePrincipalDisplayName": APP,
            },
        },
        "sourceIdentity": {
            "id": record.source_id,
            "displayName": record.source_name,
            "identityType": record.object_type,
            "details": {},
        },
        "targetIdentity": {
            "id": record.target_id or "",
            "displayName": "",
            "identityType": record.object_type,
            "details": {},
        },
        "provisioningStatusInfo": {"status": status, "errorInformation": error},
        "provisioningSteps": [
            {
                "name": step.name,
                "provisioningStepType": step.type,
                "status": step.status,
                "description": step.description,
                "details": step.details,
            }
            for step in record.steps
        ],
        "modifiedProperties": [
            {
                "displayName": str(change.get("displayName")),
                "oldValue": _text(change.get("oldValue")),
                "newValue": _text(change.get("newValue")),
            }
            for change in record.modified
        ],
        "sandbox": {"cycle": record.cycle_id, "exchanges": list(record.exchanges)},
    }

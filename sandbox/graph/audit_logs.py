"""Provides `auditLogs/provisioning`: the provisioning logs as Graph's provisioningObjectSummary
records (Microsoft Graph v1.0: "List provisioningObjectSummary", "provisioningObjectSummary
resource type").

"This method supports the $filter (eq, contains, gt, lt), $orderby, $top, $skiptoken OData
query parameters ... The filters are all case sensitive." The records are the engine's own
(sync/graph_log.py), newest first; what Graph has no name for (the sandbox's cycle number and
the request-log notes of the HTTP exchanges behind a record) is under `sandbox`.
"""

from __future__ import annotations

from flask import Blueprint, Response

from sandbox.engine.sync.graph_log import provisioning_object_summary
from sandbox.graph.odata import ResourceSpec
from sandbox.graph.odata_filter import Filterable
from sandbox.graph.web import collection, context

bp = Blueprint("graph_audit_logs", __name__)

_TEXT = frozenset({"eq", "contains"})
_ORDERED = frozenset({"eq", "gt", "lt"})

PROVISIONING_SPEC = ResourceSpec(
    type_name="microsoft.graph.provisioningObjectSummary",
    entity="provisioningObjectSummary",
    properties=(
        "id",
        "activityDateTime",
        "tenantId",
        "jobId",
        "cycleId",
        "changeId",
        "provisioningAction",
        "durationInMilliseconds",
        "initiatedBy",
        "servicePrincipal",
        "sourceSystem",
        "targetSystem",
        "sourceIdentity",
        "targetIdentity",
        "provisioningStatusInfo",
        "provisioningSteps",
        "modifiedProperties",
    ),
    filterable={
        "activityDateTime": Filterable("datetime", _ORDERED),
        "durationInMilliseconds": Filterable("number", _ORDERED),
        **{
            name: Filterable("string", _TEXT)
            for name in (
                "id",
                "tenantId",
                "jobId",
                "cycleId",
                "changeId",
                "provisioningAction",
                "provisioningStatusInfo/status",
                "initiatedBy/displayName",
                "servicePrincipal/id",
                "servicePrincipal/displayName",
                "sourceSystem/displayName",
                "targetSystem/displayName",
                "sourceIdentity/id",
                "sourceIdentity/displayName",
                "sourceIdentity/identityType",
                "targetIdentity/id",
                "targetIdentity/identityType",
            )
        },
    },
    orderable=frozenset({"activityDateTime", "durationInMilliseconds"}),
    options=("$filter", "$top", "$skiptoken", "$orderby"),
    count_needs_consistency=False,
    case_sensitive=True,
)
"""What the provisioning logs allow: the list page's operators on the record's identifying
fields (the pages name no list of filterable properties: these are the ones a record's
identity, time, action and status are read from)."""


@bp.get("/auditLogs/provisioning")
def list_provisioning() -> Response:
    engine = context().engine
    engine.logs.resume()  # a cycle of another process may have written records since
    domain = engine.tenant_domain
    records = engine.logs.query(limit=None)
    items = [provisioning_object_summary(r, domain) for r in reversed(records)]
    return collection(items, PROVISIONING_SPEC, "auditLogs/provisioning")

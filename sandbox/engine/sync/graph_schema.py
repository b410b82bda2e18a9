"""Provides the job's synchronization schema and the expression playground in Microsoft Graph's
shapes (§1.7): a synchronizationSchema whose rule holds the user and group object mappings
(attribute mappings, scoping filters, target object actions), and parseExpression's answer
(the parsed expression as an attributeMappingSource tree, and its value on a test object).

Pure functions of the job's configuration and the expression language.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import datetime

from sandbox.engine.mappings.mapping import (
    ENTRA_GROUP_ATTRIBUTES,
    ENTRA_USER_ATTRIBUTES,
    MappingType,
)
from sandbox.engine.mappings.mapping import Mapping as AttributeMapping
from sandbox.engine.mappings.scoping import UNARY, ScopingFilter
from sandbox.engine.sync.graph_log import SOURCE_SYSTEM_NAME, job_id, object_id
from sandbox.engine.sync.job import JobConfig
from sandbox.errors import ExpressionError
from sandbox.expressions import (
    IGNORE_FLOW,
    Attribute,
    Call,
    Comparison,
    Empty,
    EvaluationContext,
    Identifier,
    Node,
    NumberLiteral,
    StringLiteral,
    compile_expression,
    parse,
    to_json,
)
from sandbox.expressions.functions import FUNCTIONS
from sandbox.scim_names import APP, CORE_GROUP_SCHEMA, ENTERPRISE_USER_SCHEMA

USERS_MAPPING = "Provision Microsoft Entra ID Users"
GROUPS_MAPPING = "Provision Microsoft Entra ID Groups"
"""The object mappings' names, as the portal's Mappings section lists them."""

TARGET_OBJECTS = {"User": ENTERPRISE_USER_SCHEMA, "Group": CORE_GROUP_SCHEMA}
"""The target object names of a non-gallery SCIM app (its on-demand targetIdentity type)."""


def rule_id(tenant_domain: str) -> str:
    """The job's one synchronization rule (the ruleId provisionOnDemand names)."""
    return object_id("synchronizationRule", tenant_domain)


# -- attributeMappingSource ------------------------------------------------------------------


def _constant(name: str) -> dict[str, object]:
    return {"expression": f'"{name}"', "name": name, "parameters": [], "type": "Constant"}


def mapping_source(node: Node) -> dict[str, object]:
    """`node` as Graph's attributeMappingSource: an attribute, a constant (numbers and enum
    names too, written quoted as Graph's example writes `"1"`), or a function whose
    parameters are keyed by the function's documented parameter names; an omitted argument
    is left out. A comparison inside IIF is a Function named by its operator, with `left`
    and `right` (Graph documents no shape for it)."""
    if isinstance(node, Attribute):
        return {"expression": str(node), "name": node.name, "parameters": [], "type": "Attribute"}
    if isinstance(node, StringLiteral):
        return {"expression": str(node), "name": node.value, "parameters": [], "type": "Constant"}
    if isinstance(node, NumberLiteral | Identifier):
        return _constant(str(node))
    if isinstance(node, Comparison):
        return {
            "expression": str(node),
            "name": node.op,
            "parameters": [
                {"key": "left", "value": mapping_source(node.left)},
                {"key": "right", "value": mapping_source(node.right)},
            ],
            "type": "Function",
        }
    if isinstance(node, Call):
        spec = FUNCTIONS.get(node.name)
        parameters = [
            {
                "key": spec.param(index) if spec is not None else f"argument{index + 1}",
                "value": mapping_source(arg),
            }
            for index, arg in enumerate(node.args)
            if not isinstance(arg, Empty)
        ]
        return {
            "expression": str(node),
            "name": node.name,
            "parameters": parameters,
            "type": "Function",
        }
    return _constant("")


# -- the schema ------------------------------------------------------------------------------


def attribute_mapping(mapping: AttributeMapping) -> dict[str, object]:
    """One attribute mapping as Graph's attributeMapping; a mapping of type None has no
    source (Graph's example gives such a row `"source": null` and its default value)."""
    source = None
    if mapping.type is not MappingType.NONE and mapping.node is not None:
        source = mapping_source(mapping.node)
    return {
        "defaultValue": mapping.default,
        "exportMissingReferences": False,
        "flowBehavior": "FlowWhenChanged",
        "flowType": mapping.flow.value,
        "matchingPriority": mapping.matching_precedence,
        "source": source,
        "targetAttributeName": mapping.target,
    }


def scope(filters: Sequence[ScopingFilter]) -> dict[str, object] | None:
    """Scoping filters as Graph's filter: each filter a filterGroup (its clauses joined by
    AND), the groups joined by OR; None when there is none (everything assigned is in scope).
    Operators keep the portal's spelling."""
    if not filters:
        return None
    return {
        "categoryFilterGroups": [],
        "groups": [
            {
                "name": f"Scoping filter {number}",
                "clauses": [
                    {
                        "operatorName": clause.operator,
                        "sourceOperandName": clause.attribute,
                        "targetOperand": {
                            "values": [] if clause.operator in UNARY else [clause.value]
                        },
                    }
                    for clause in each.clauses
                ],
            }
            for number, each in enumerate(filters, start=1)
        ],
        "inputFilterGroups": [],
    }


def _flow_types(config: JobConfig) -> str:
    """objectFlowTypes: the target object actions that are on (Add, Update, Delete)."""
    actions = [("Add", config.create), ("Update", config.update), ("Delete", config.delete)]
    return ", ".join(name for name, on in actions if on)


def _object_mapping(
    name: str,
    kind: str,
    enabled: bool,
    mappings: Sequence[AttributeMapping],
    filters: Sequence[ScopingFilter],
    config: JobConfig,
) -> dict[str, object]:
    return {
        "attributeMappings": [attribute_mapping(m) for m in mappings],
        "enabled": enabled,
        "flowTypes": _flow_types(config),
        "metadata": [],
        "name": name,
        "scope": scope(filters),
        "sourceObjectName": kind,
        "targetObjectName": TARGET_OBJECTS[kind],
    }


def _directory(name: str, objects: Mapping[str, Sequence[str]]) -> dict[str, object]:
    return {
        "id": name,
        "name": name,
        "objects": [
            {"name": kind, "attributes": [{"name": a, "type": "String"} for a in names]}
            for kind, names in objects.items()
        ],
    }


def synchronization_schema(config: JobConfig, tenant_domain: str) -> dict[str, object]:
    """The job's schema as Graph's synchronizationSchema: one rule from Azure Active
    Directory to customappsso with the user and group object mappings; the directories list
    the source attributes the tenant has and the target attributes the mappings write;
    `version` changes with every change of the configuration."""
    user_targets = sorted({m.target for m in config.user_mappings})
    group_targets = sorted({m.target for m in config.group_mappings})
    return {
        "id": job_id(tenant_domain),
        "version": hashlib.sha256(replace(config, secret_token="").to_json().encode()).hexdigest()[
            :16
        ],
        "synchronizationRules": [
            {
                "editable": True,
                "id": rule_id(tenant_domain),
                "metadata": [],
                "name": f"{SOURCE_SYSTEM_NAME} to {APP}",
                "objectMappings": [
                    _object_mapping(
                        USERS_MAPPING,
                        "User",
                        True,
                        config.user_mappings,
                        config.scoping_filters,
                        config,
                    ),
                    _object_mapping(
                        GROUPS_MAPPING,
                        "Group",
                        config.groups_enabled,
                        config.group_mappings,
                        config.group_scoping_filters,
                        config,
                    ),
                ],
                "priority": 1,
                "sourceDirectoryName": SOURCE_SYSTEM_NAME,
                "targetDirectoryName": APP,
            }
        ],
        "directories": [
            _directory(
                SOURCE_SYSTEM_NAME,
                {"User": sorted(ENTRA_USER_ATTRIBUTES), "Group": sorted(ENTRA_GROUP_ATTRIBUTES)},
            ),
            _directory(APP, {"User": user_targets, "Group": group_targets}),
        ],
    }


# -- parseExpression -------------------------------------------------------------------------


def test_input(properties: object) -> dict[str, object]:
    """An expressionInputObject's `properties` (a list of key/value pairs; a value may be a
    list, typed `#Collection(String)`) as the source object an expression reads."""
    if not isinstance(properties, list):
        return {}
    source: dict[str, object] = {}
    for pair in properties:
        if isinstance(pair, Mapping) and isinstance(pair.get("key"), str):
            source[str(pair["key"])] = pair.get("value")
    return source


def _result(value: object) -> list[str]:
    """parseExpressionResponse.evaluationResult: the value as strings (a list's items each;
    NULL and a flow dropped by IgnoreFlowIfNullOrEmpty give none)."""
    if value is None or value is IGNORE_FLOW:
        return []
    plain = to_json(value)
    items = plain if isinstance(plain, list) else [plain]
    return [
        item if isinstance(item, str) else ("True" if item is True else "False")
        if isinstance(item, bool) else str(item)
        for item in items
    ]  # fmt: skip


def _public_error(code: str, error: ExpressionError) -> dict[str, object]:
    """Graph's publicError with the column and a caret under it in `details`."""
    return {
        "code": code,
        "message": error.message,
        "details": [{"code": code, "message": error.caret(), "target": str(error.column)}],
    }


def parse_expression(
    expression: str,
    source: Mapping[str, object] | None,
    *,
    clock: datetime,
    tenant_domain: str,
) -> dict[str, object]:
    """The playground's answer (parseExpressionResponse): whether the expression parsed, its
    tree, and, given a test object, whether it evaluated and to what."""
    try:
        node = parse(expression)
    except ExpressionError as exc:
        return {
            "error": _public_error("ExpressionParsingFailed", exc),
            "evaluationResult": [],
            "evaluationSucceeded": False,
            "parsedExpression": None,
            "parsingSucceeded": False,
        }
    answer: dict[str, object] = {
        "error": None,
        "evaluationResult": [],
        "evaluationSucceeded": False,
        "parsedExpression": mapping_source(node),
        "parsingSucceeded": True,
    }
    if source is None:
        return answer
    context = EvaluationContext(clock=lambda: clock, tenant_domain=tenant_domain)
    try:
        value = compile_expression(node, expression)(source, context)
    except ExpressionError as exc:
        answer["error"] = _public_error("ExpressionEvaluationFailed", exc)
        return answer
    answer["evaluationResult"] = _result(value)
    answer["evaluationSucceeded"] = True
    return answer

"""Provides the app's `synchronization`: its one job (list, get, start, pause, restart,
provisionOnDemand, validateCredentials), the job's schema and the expression playground, and
the secrets that configure it (Microsoft Graph v1.0: "List synchronization jobs", "Get
synchronizationJob", "Start synchronizationJob", "Pause synchronizationJob", "Restart
synchronizationJob", "synchronizationJob: provisionOnDemand", "synchronizationJob:
validateCredentials", "Get synchronizationSchema", "synchronizationSchema: parseExpression",
"Add synchronization secrets").

The shapes are the engine's (sync/graph_job.py, sync/graph_schema.py, docs/entra-behaviour.md
§1.7); this module reads Graph's request bodies and answers with Graph's statuses. The job's
actions hold the context's lock, so two requests never interleave one job's state.
"""

from __future__ import annotations

import json
import math
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import Any

from flask import Blueprint, Response, request

from sandbox.engine.sync.graph_job import on_demand_answer
from sandbox.engine.sync.graph_log import job_id
from sandbox.engine.sync.graph_schema import rule_id, test_input
from sandbox.engine.sync.service import CycleRunningError, OnDemandRefused, TooManyMembers
from sandbox.errors import SandboxError
from sandbox.graph.errors import BAD_REQUEST, GraphError, bad_request, not_found
from sandbox.graph.odata import ResourceSpec, check_select, context_url
from sandbox.graph.service_principals import check_service_principal, sp_route
from sandbox.graph.shapes import object_key
from sandbox.graph.web import collection, context, read_json, respond, root

bp = Blueprint("graph_synchronization", __name__)

JOB_SPEC = ResourceSpec(
    type_name="microsoft.graph.synchronizationJob",
    entity="synchronizationJob",
    properties=("id", "templateId", "schedule", "status", "synchronizationJobSettings"),
    options=(),
    count_needs_consistency=False,
)
"""The jobs collection takes no query option ("List synchronization jobs": none documented)."""

SCHEMA_SPEC = ResourceSpec(
    type_name="microsoft.graph.synchronizationSchema",
    entity="synchronizationSchema",
    properties=("id", "synchronizationRules", "version", "directories"),
    options=(),
)
"""The job's schema takes no query option ("Get synchronizationSchema": none documented)."""

VALIDATED_KEYS = ("BaseAddress", "SecretToken")
"""What validateCredentials' `credentials` take: the tenant URL and the secret token."""

ON_DEMAND_LIMIT = 5
ON_DEMAND_WINDOW_S = 10.0
"""provisionOnDemand: "The rate limit for this API is 5 requests per 10 seconds.\""""

TOO_MANY_REQUESTS = "TooManyRequests"
"""Graph's code of a throttled request (429, with Retry-After in seconds)."""

ON_DEMAND_WAIT_S = 30.0
"""How long provisionOnDemand waits for a cycle of the job that is running to finish before it
answers 409 (the engine runs one cycle or provision on demand at a time; Graph's caller sees a
slower answer, not a refusal)."""

CONFLICT = "Conflict"
"""The code of a job action refused because a cycle of the job is running (the pages document
no code for it: the sandbox's)."""

SECRET_KEYS = ("BaseAddress", "SecretToken", "SyncAll", "SkipOutOfScopeDeletions")
"""The synchronizationSecret keys that configure the job: the tenant URL, the secret token,
the scope (SyncAll true: all users and groups) and skipping out-of-scope deletions."""

STORED_SECRET_KEYS = ("SyncNotificationSettings",)
"""Taken and kept, with no effect: the sandbox sends no e-mail."""


class RateLimit:
    """A sliding window of `limit` calls per `window_s` seconds of real time."""

    def __init__(
        self, limit: int, window_s: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.limit = limit
        self.window_s = window_s
        self.clock = clock
        self._calls: deque[float] = deque()
        self._lock = threading.Lock()

    def admit(self) -> float | None:
        """Count a call and return None, or refuse it: the seconds until one is admitted."""
        with self._lock:
            now = self.clock()
            while self._calls and now - self._calls[0] >= self.window_s:
                self._calls.popleft()
            if len(self._calls) >= self.limit:
                return self.window_s - (now - self._calls[0])
            self._calls.append(now)
            return None


def _on_demand_limit() -> RateLimit:
    from flask import current_app

    limit: RateLimit | None = current_app.extensions.get("graph.on_demand_limit")
    if limit is None:
        limit = RateLimit(ON_DEMAND_LIMIT, ON_DEMAND_WINDOW_S)
        current_app.extensions["graph.on_demand_limit"] = limit
    return limit


def check_job(sp_key: str, by: str, key: str) -> str:
    """The service principal's id when `key` is its job's id; Graph's 404 otherwise."""
    sp_id = check_service_principal(sp_key, by)
    if key != job_id(context().tenant_domain):
        raise not_found(key)
    return sp_id


def _job() -> dict[str, object]:
    return context().engine.graph_job()


def _optional_json() -> dict[str, Any]:
    """The request's JSON object body, or {} when it has none."""
    if not request.get_data(cache=True).strip():
        return {}
    return read_json()


def _refused(action: Callable[[], object]) -> None:
    """Run a job action under the lock: a cycle running is Graph's 409."""
    with context().lock:
        try:
            action()
        except CycleRunningError as running:
            raise GraphError(409, CONFLICT, str(running)) from None


# -- the job -------------------------------------------------------------------------------


@sp_route("/synchronization/jobs", methods=["GET"])
def list_jobs(sp_key: str, by: str) -> Response:
    sp_id = check_service_principal(sp_key, by)
    fragment = f"servicePrincipals('{sp_id}')/synchronization/jobs"
    return collection([_job()], JOB_SPEC, fragment)


@sp_route("/synchronization/jobs/<key>", methods=["GET"])
def get_job(sp_key: str, by: str, key: str) -> Response:
    check_select(request, JOB_SPEC)
    sp_id = check_job(sp_key, by, key)
    fragment = f"servicePrincipals('{sp_id}')/synchronization/jobs/$entity"
    return respond({"@odata.context": context_url(root(), fragment), **_job()})


@sp_route("/synchronization/jobs/<key>/start", methods=["POST"])
def start_job(sp_key: str, by: str, key: str) -> Response:
    """Start: a paused job goes on; a quarantined one has its quarantine cleared."""
    check_job(sp_key, by, key)
    _refused(context().engine.start)
    return respond(None, 204)


@sp_route("/synchronization/jobs/<key>/pause", methods=["POST"])
def pause_job(sp_key: str, by: str, key: str) -> Response:
    """Pause: the running cycle finishes, no new one starts."""
    check_job(sp_key, by, key)
    _refused(context().engine.stop)
    return respond(None, 204)


@sp_route("/synchronization/jobs/<key>/restart", methods=["POST"])
def restart_job(sp_key: str, by: str, key: str) -> Response:
    """Restart with `criteria.resetScope` (empty or absent: the portal's Restart
    provisioning); the job is started, as Graph's page says ("Restart a stopped
    synchronization job")."""
    check_job(sp_key, by, key)
    body = _optional_json()
    criteria = body.get("criteria", {})
    if criteria is None:
        criteria = {}
    if not isinstance(criteria, Mapping):
        raise bad_request("The restart's criteria must be an object with a resetScope.")
    scope = criteria.get("resetScope")
    if scope is None:
        scope = ""
    if not isinstance(scope, str):
        raise bad_request(
            "The resetScope must be a comma-separated string of None, ConnectorDataStore, "
            "Escrows, Watermark, QuarantineState, Full, ForceDeletes."
        )
    _refused(lambda: context().engine.restart(scope))
    return respond(None, 204)


# -- provision on demand -----------------------------------------------------------------


def _subject(body: Mapping[str, Any]) -> tuple[str, str, list[str]]:
    """(objectId, "User" or "Group", the chosen members' objectIds) of the one subject a
    provisionOnDemand body names, under the job's one rule; Graph's 400 otherwise."""
    parameters = body.get("parameters")
    if not isinstance(parameters, list) or not parameters:
        raise bad_request(
            "The request needs 'parameters': a list with one synchronizationJobApplication"
            "Parameters object (ruleId and subjects)."
        )
    subjects: list[Any] = []
    expected_rule = rule_id(context().tenant_domain)
    for parameter in parameters:
        if not isinstance(parameter, Mapping):
            raise bad_request("Each of 'parameters' must be an object with ruleId and subjects.")
        rule = parameter.get("ruleId")
        if not isinstance(rule, str) or object_key(rule) != expected_rule:
            raise bad_request(
                f"The ruleId {json.dumps(rule)} is not a rule of this job: its schema's "
                f"synchronizationRules name one, '{expected_rule}'."
            )
        found = parameter.get("subjects")
        if not isinstance(found, list) or not found:
            raise bad_request("Each of 'parameters' needs 'subjects': a list of objects.")
        subjects.extend(found)
    if len(subjects) != 1:
        raise bad_request(
            f"Provision on demand takes one subject (a user, or a group with up to "
            f"{ON_DEMAND_LIMIT} of its members), got {len(subjects)}."
        )
    subject = subjects[0]
    if not isinstance(subject, Mapping):
        raise bad_request("A subject must be an object with objectId and objectTypeName.")
    object_id, type_name = subject.get("objectId"), subject.get("objectTypeName")
    if not isinstance(object_id, str) or not object_id:
        raise bad_request("A subject needs its objectId (the user's or group's id).")
    kind = type_name.lower() if isinstance(type_name, str) else ""
    if kind not in ("user", "group"):
        raise bad_request(
            f"The subject's objectTypeName must be User or Group, got {json.dumps(type_name)}."
        )
    members: list[str] = []
    links = subject.get("links")
    if links is not None:
        if kind != "group":
            raise bad_request("Only a Group subject has links.members.")
        listed = links.get("members") if isinstance(links, Mapping) else None
        if not isinstance(listed, list):
            raise bad_request("The subject's links must hold 'members': a list of objects.")
        for member in listed:
            member_id = member.get("objectId") if isinstance(member, Mapping) else None
            if not isinstance(member_id, str) or not member_id:
                raise bad_request("Each of links.members needs its objectId.")
            members.append(object_key(member_id))
        if not members:
            raise bad_request("The subject's links.members is empty: name up to 5 members.")
    return object_key(object_id), "User" if kind == "user" else "Group", members


def _check_subject(object_id: str, kind: str, members: list[str]) -> None:
    """Graph's 404 when the subject, or a chosen member, is not a live object of its type."""
    directory = context().directory
    if kind == "User":
        user = directory.find_user(object_id)
        if user is None or user.id != object_id:
            raise not_found(object_id)
        return
    group = directory.find_group(object_id)
    if group is None or group.id != object_id:
        raise not_found(object_id)
    for member in members:
        user = directory.find_user(member)
        if user is None or user.id != member:
            raise not_found(member)


@sp_route("/synchronization/jobs/<key>/provisionOnDemand", methods=["POST"])
def provision_on_demand(sp_key: str, by: str, key: str) -> Response:
    check_job(sp_key, by, key)
    wait = _on_demand_limit().admit()
    if wait is not None:
        seconds = max(1, math.ceil(wait))
        raise GraphError(
            429,
            TOO_MANY_REQUESTS,
            f"Provision on demand takes {ON_DEMAND_LIMIT} requests per "
            f"{ON_DEMAND_WINDOW_S:g} seconds: retry after {seconds} seconds.",
            {"Retry-After": str(seconds)},
        )
    object_id, kind, members = _subject(read_json())
    deadline = time.monotonic() + ON_DEMAND_WAIT_S
    while True:
        with context().lock:
            _check_subject(object_id, kind, members)
            try:
                result = context().engine.provision_on_demand(object_id, members)
                break
            except CycleRunningError as running:
                if time.monotonic() > deadline:
                    raise GraphError(409, CONFLICT, str(running)) from None
            except OnDemandRefused as refused:
                raise GraphError(400, BAD_REQUEST, refused.message) from None
            except TooManyMembers as many:
                raise bad_request(f"{many.message}, in the subject's links.members") from None
        time.sleep(0.2)  # a cycle of the job runs: provision on demand follows it
    answer = on_demand_answer(result.record, context().tenant_domain)
    fragment = "microsoft.graph.stringKeyStringValuePair"
    return respond({"@odata.context": context_url(root(), fragment), **answer})


# -- credentials -------------------------------------------------------------------------


def _pairs(value: object, where: str) -> dict[str, str]:
    """A list of synchronizationSecretKeyStringValuePair as a dict; Graph's 400 otherwise."""
    if not isinstance(value, list):
        raise bad_request(f"'{where}' must be a list of key/value pairs.")
    pairs: dict[str, str] = {}
    for pair in value:
        if not isinstance(pair, Mapping) or not isinstance(pair.get("key"), str):
            raise bad_request(f"Each of '{where}' must be an object with a key and a value.")
        item = pair.get("value")
        if item is not None and not isinstance(item, str):
            raise bad_request(f"The value of '{pair['key']}' must be a string.")
        pairs[str(pair["key"])] = item or ""
    return pairs


def _boolean(key: str, text: str) -> bool:
    if text.lower() not in ("true", "false"):
        raise bad_request(f"The value of '{key}' must be \"true\" or \"false\", got '{text}'.")
    return text.lower() == "true"


def _changes(secrets: Mapping[str, str]) -> dict[str, Any]:
    """The job settings a set of secrets stands for; Graph's 400 for a key the sandbox does
    not model (it is refused, not ignored)."""
    changes: dict[str, Any] = {}
    for key, value in secrets.items():
        if key == "BaseAddress":
            changes["tenant_url"] = value
        elif key == "SecretToken":
            changes["secret_token"] = value
        elif key == "SyncAll":
            changes["scope"] = "all" if _boolean(key, value) else "assigned"
        elif key == "SkipOutOfScopeDeletions":
            changes["skip_out_of_scope_deletions"] = _boolean(key, value)
        elif key not in STORED_SECRET_KEYS:
            known = ", ".join((*SECRET_KEYS, *STORED_SECRET_KEYS))
            raise bad_request(
                f"The secret key '{key}' is not modelled by the sandbox (it takes {known})."
            )
    return changes


@sp_route("/synchronization/secrets", methods=["PUT"])
def put_secrets(sp_key: str, by: str) -> Response:
    """Add secrets: the keys given change the job's settings; the others stay as they were."""
    check_service_principal(sp_key, by)
    secrets = _pairs(read_json().get("value"), "value")
    changes = _changes(secrets)
    engine = context().engine
    with context().lock:
        engine.configure(**changes)  # a setting Entra would refuse: the sandbox's 400
        for key in STORED_SECRET_KEYS:
            if key in secrets:
                engine.secrets.put(f"graph.{key}", secrets[key])
    return respond(None, 204)


@sp_route("/synchronization/jobs/<key>/validateCredentials", methods=["POST"])
def validate_credentials(sp_key: str, by: str, key: str) -> Response:
    """Test Connection with the credentials given (or the saved ones): 204 when the target
    answers as Entra expects, else 400 with the portal's message."""
    check_job(sp_key, by, key)
    body = read_json()
    engine = context().engine
    config = engine.config()
    if body.get("useSavedCredentials") is not True:
        given = _pairs(body.get("credentials"), "credentials")
        other = sorted(k for k in given if k not in VALIDATED_KEYS)
        if other:
            raise bad_request(
                f"validateCredentials takes the credentials {' and '.join(VALIDATED_KEYS)}, "
                f"not {', '.join(other)} (set the job's other secrets with PUT secrets)."
            )
        changes = _changes(given)
        config = replace(config, **changes)
        try:
            config.check()
        except SandboxError as invalid:
            raise bad_request(invalid.message) from None
    if not config.configured:
        raise bad_request("No credentials to validate: give BaseAddress and SecretToken.")
    result = engine.test_connection(config)
    if not result.ok:
        raise GraphError(400, BAD_REQUEST, result.message)
    return respond(None, 204)


# -- the schema ----------------------------------------------------------------------------


@sp_route("/synchronization/jobs/<key>/schema", methods=["GET"])
def get_schema(sp_key: str, by: str, key: str) -> Response:
    check_select(request, SCHEMA_SPEC)
    sp_id = check_job(sp_key, by, key)
    fragment = f"servicePrincipals('{sp_id}')/synchronization/jobs('{key}')/schema/$entity"
    return respond({"@odata.context": context_url(root(), fragment), **_schema()})


def _schema() -> dict[str, object]:
    return context().engine.graph_schema()


@sp_route("/synchronization/jobs/<key>/schema/parseExpression", methods=["POST"])
def parse_expression(sp_key: str, by: str, key: str) -> Response:
    """The expression playground: parse `expression` and, with a testInputObject, evaluate it."""
    check_job(sp_key, by, key)
    body = read_json()
    expression = body.get("expression")
    if not isinstance(expression, str) or not expression.strip():
        raise bad_request("The request needs 'expression': the expression to parse.")
    test_object = body.get("testInputObject")
    source = None
    if test_object is not None:
        if not isinstance(test_object, Mapping):
            raise bad_request("'testInputObject' must be an object with its properties.")
        source = test_input(test_object.get("properties"))
    answer = context().engine.parse_expression(expression, source)
    fragment = "microsoft.graph.parseExpressionResponse"
    return respond({"@odata.context": context_url(root(), fragment), **answer})

"""Microsoft's own Graph SDK (msgraph-sdk) drives the Graph surface, served on a loopback
port: what it creates and assigns is in the tenant, each call is in the request log with the
side "graph", and the next cycle sends the user it created to the provider over SCIM."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from kiota_abstractions.authentication import (
    AccessTokenProvider,
    AllowedHostsValidator,
    BaseBearerTokenAuthenticationProvider,
)
from kiota_abstractions.base_request_configuration import RequestConfiguration
from msgraph import GraphRequestAdapter, GraphServiceClient
from msgraph.generated.audit_logs.provisioning.provisioning_request_builder import (
    ProvisioningRequestBuilder,
)
from msgraph.generated.models.app_role_assignment import AppRoleAssignment
from msgraph.generated.models.group import Group
from msgraph.generated.models.o_data_errors.o_data_error import ODataError
from msgraph.generated.models.password_profile import PasswordProfile
from msgraph.generated.models.provisioning_action import ProvisioningAction
from msgraph.generated.models.quarantine_reason import QuarantineReason
from msgraph.generated.models.reference_create import ReferenceCreate
from msgraph.generated.models.synchronization_job_application_parameters import (
    SynchronizationJobApplicationParameters,
)
from msgraph.generated.models.synchronization_job_restart_criteria import (
    SynchronizationJobRestartCriteria,
)
from msgraph.generated.models.synchronization_job_restart_scope import (
    SynchronizationJobRestartScope,
)
from msgraph.generated.models.synchronization_job_subject import SynchronizationJobSubject
from msgraph.generated.models.synchronization_status_code import SynchronizationStatusCode
from msgraph.generated.models.user import User
from msgraph.generated.service_principals.item.synchronization.jobs.item.provision_on_demand.provision_on_demand_post_request_body import (  # noqa: E501
    ProvisionOnDemandPostRequestBody,
)
from msgraph.generated.service_principals.item.synchronization.jobs.item.restart.restart_post_request_body import (  # noqa: E501
    RestartPostRequestBody,
)
from msgraph.generated.users.users_request_builder import UsersRequestBuilder
from msgraph_core import GraphClientFactory

from sandbox.graph import GraphContext, create_graph_app
from sandbox.provider.faults import Faults
from sandbox.server import EmbeddedServer
from tests.engine_env import CORE_USER, EngineEnv

TOKEN = "sandbox-graph-token"


class StaticToken(AccessTokenProvider):
    """The bearer token a script hands the SDK for the sandbox (no sign-in)."""

    async def get_authorization_token(
        self, uri: str, additional_authentication_context: Any = None
    ) -> str:
        return TOKEN

    def get_allowed_hosts_validator(self) -> AllowedHostsValidator:
        return AllowedHostsValidator([])


@pytest.fixture
def env(tmp_path: Path) -> Iterator[EngineEnv]:
    environment = EngineEnv(tmp_path)
    environment.preset("nulab")
    yield environment
    environment.close()


@pytest.fixture
async def client(env: EngineEnv) -> AsyncIterator[GraphServiceClient]:
    """The SDK pointed at the surface's base URL, its connections closed at the end."""
    server = EmbeddedServer(create_graph_app(GraphContext(env.engine), token=TOKEN)).start()
    # The SDK's transport does not close the one it wraps: ours is closed by hand.
    sockets = httpx.AsyncHTTPTransport()
    http = GraphClientFactory.create_with_default_middleware(
        client=httpx.AsyncClient(transport=sockets)
    )
    adapter = GraphRequestAdapter(BaseBearerTokenAuthenticationProvider(StaticToken()), http)
    adapter.base_url = server.url + "/v1.0"
    yield GraphServiceClient(request_adapter=adapter)
    await sockets.aclose()
    server.stop()


def graph_calls(env: EngineEnv) -> list[tuple[str, str, int]]:
    env.engine.request_log.flush()
    return [
        (e["method"], e["path"], e["status"])
        for e in env.engine.request_log.entries(10_000, side="graph")
    ]


def new_user(alias: str) -> User:
    return User(
        account_enabled=True,
        display_name=f"{alias.title()} Vance",
        given_name=alias.title(),
        surname="Vance",
        mail_nickname=alias,
        mail=f"{alias}@example.com",
        user_principal_name=f"{alias}@contoso.onmicrosoft.com",
        department="Sales",
        password_profile=PasswordProfile(password="not kept"),
    )


async def test_a_user_created_and_assigned_through_the_sdk_is_provisioned_by_the_next_cycle(
    env: EngineEnv, client: GraphServiceClient
):
    created = await client.users.post(new_user("adele"))
    assert created is not None and created.id
    stored = env.engine.directory.get_user(created.id)
    assert (stored.user_principal_name, stored.department) == (
        "adele@contoso.onmicrosoft.com", "Sales",
    )  # fmt: skip

    enterprise_app = env.engine.app
    found = await client.service_principals.get()
    assert found is not None and found.value
    principal = found.value[0]
    assert principal.app_roles is not None
    admin = next(r for r in principal.app_roles if r.value == "ADMIN")
    assignment = await client.service_principals.by_service_principal_id(
        str(principal.id)
    ).app_role_assigned_to.post(
        AppRoleAssignment(
            principal_id=uuid.UUID(created.id),
            resource_id=uuid.UUID(str(principal.id)),
            app_role_id=admin.id,
        )
    )
    assert assignment is not None and assignment.principal_type == "User"
    assert [r.value for r in enterprise_app.assignments_for_user(created.id)] == ["ADMIN"]
    mine = await client.users.by_user_id(created.id).app_role_assignments.get()
    assert mine is not None and [a.app_role_id for a in mine.value or []] == [admin.id]

    env.cycle()  # the job sends what Graph put in the tenant
    posts = [r for r in env.sent() if r.method == "POST" and r.path == "/Users"]
    assert len(posts) == 1
    body = posts[0].body
    assert CORE_USER in body["schemas"] and body["userName"] == "adele@example.com"
    assert graph_calls(env) == [
        ("POST", "/v1.0/users", 201),
        ("GET", "/v1.0/servicePrincipals", 200),
        ("POST", f"/v1.0/servicePrincipals/{principal.id}/appRoleAssignedTo", 201),
        ("GET", f"/v1.0/users/{created.id}/appRoleAssignments", 200),
    ]
    # the Graph calls come before the SCIM exchanges in the order the log keeps
    log = env.engine.request_log.entries(10_000)
    sides = [e["side"] for e in log if e["side"] in ("graph", "engine")]
    assert sides.index("engine") > len(graph_calls(env)) - 1


async def test_the_sdk_pages_filters_groups_and_restores_as_graph_does(
    env: EngineEnv, client: GraphServiceClient
):
    first = await client.users.post(new_user("graph.zed"))
    second = await client.users.post(new_user("graph.zoe"))
    assert first is not None and second is not None and first.id and second.id
    query = UsersRequestBuilder.UsersRequestBuilderGetQueryParameters(
        filter="startsWith(userPrincipalName,'graph.')", select=["id", "department"], top=1
    )
    page = await client.users.get(RequestConfiguration(query_parameters=query))
    assert page is not None and page.value and page.odata_next_link
    assert page.value[0].department == "Sales" and page.value[0].display_name is None
    rest = await client.users.with_url(page.odata_next_link).get()
    assert rest is not None and rest.value and rest.odata_next_link is None
    assert {page.value[0].id, rest.value[0].id} == {first.id, second.id}

    group = await client.groups.post(
        Group(display_name="Graph testers", mail_enabled=False, mail_nickname="testers",
              security_enabled=True)
    )  # fmt: skip
    assert group is not None and group.id
    ref = ReferenceCreate(odata_id=f"https://graph.microsoft.com/v1.0/directoryObjects/{first.id}")
    await client.groups.by_group_id(group.id).members.ref.post(ref)
    assert [u.id for u in env.engine.directory.members(group.id)] == [first.id]
    with pytest.raises(ODataError) as refused:  # already a member: Graph's 400
        await client.groups.by_group_id(group.id).members.ref.post(ref)
    assert refused.value.response_status_code == 400

    await client.users.by_user_id(first.id).delete()
    assert env.engine.directory.get_user(first.id).deleted
    with pytest.raises(ODataError) as gone:
        await client.users.by_user_id(first.id).get()
    assert gone.value.error is not None and gone.value.error.code == "Request_ResourceNotFound"
    bin_ = await client.directory.deleted_items.graph_user.get()
    assert bin_ is not None and [u.id for u in bin_.value or []] == [first.id]
    await client.directory.deleted_items.by_directory_object_id(first.id).restore.post()
    assert not env.engine.directory.get_user(first.id).deleted


async def test_the_sdk_starts_the_job_provisions_on_demand_reads_the_logs_and_restarts(
    env: EngineEnv, client: GraphServiceClient
):
    found = await client.service_principals.get()
    assert found is not None and found.value and found.value[0].id
    synchronization = client.service_principals.by_service_principal_id(
        found.value[0].id
    ).synchronization
    jobs = await synchronization.jobs.get()
    assert jobs is not None and jobs.value and jobs.value[0].id
    job = synchronization.jobs.by_synchronization_job_id(jobs.value[0].id)
    await job.start.post()
    assert env.engine.state().running
    started = await job.get()
    assert started is not None and started.status is not None
    # Started but no run completed: NotRun (Graph's synchronizationStatusCode).
    assert started.status.code == SynchronizationStatusCode.NotRun

    schema = await job.schema.get()
    assert schema is not None and schema.synchronization_rules
    rule = schema.synchronization_rules[0].id
    ada = env.add_user("ada")
    env.mark()
    subject = SynchronizationJobSubject(object_id=ada, object_type_name="User")
    answer = await job.provision_on_demand.post(
        ProvisionOnDemandPostRequestBody(
            parameters=[SynchronizationJobApplicationParameters(rule_id=rule, subjects=[subject])]
        )
    )
    assert answer is not None and answer.key and answer.value
    assert json.loads(answer.key)["result"] == "Success"
    assert [r.path for r in env.sent() if r.method == "POST"] == ["/Users"]
    assert json.loads(answer.value)["targetIdentity"]["id"] == env.target_id(ada)

    query = ProvisioningRequestBuilder.ProvisioningRequestBuilderGetQueryParameters(
        filter=f"sourceIdentity/id eq '{ada}'"
    )
    logs = await client.audit_logs.provisioning.get(RequestConfiguration(query_parameters=query))
    assert logs is not None and logs.value
    assert [r.provisioning_action for r in logs.value] == [ProvisioningAction.Create]
    assert logs.value[0].target_identity is not None
    assert logs.value[0].target_identity.id == env.target_id(ada)

    Faults(env.store).add(status=401)  # the provider refuses the token: quarantine
    env.add_user("bob")
    env.cycle()
    failed = await job.get()
    assert failed is not None and failed.status is not None and failed.status.quarantine
    assert failed.status.code == SynchronizationStatusCode.Quarantine
    assert failed.status.quarantine.reason == QuarantineReason.EncounteredQuarantineException
    assert env.engine.state().quarantine is not None

    Faults(env.store).clear()
    scope = SynchronizationJobRestartScope.Full
    await job.restart.post(
        RestartPostRequestBody(criteria=SynchronizationJobRestartCriteria(reset_scope=scope))
    )
    state = env.engine.state()
    assert state.quarantine is None and state.initial_needed
    env.cycle()  # every object matched again; bob, refused before, is created now
    posted = [r.body["userName"] for r in env.sent() if r.method == "POST"]
    assert posted == ["bob@contoso.onmicrosoft.com"]
    calls = [(method, path.rsplit("/", 1)[-1]) for method, path, _ in graph_calls(env)]
    assert ("POST", "provisionOnDemand") in calls and ("POST", "restart") in calls

"""The Graph surface through Flask's test client: Graph's error JSON for every failure, the
OData query options it models (and Graph's 400 for those it does not), and the directory's
resources against the tenant's own state."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from sandbox.engine.sync.service import Provisioning
from sandbox.graph import GraphContext, create_graph_app
from sandbox.requestlog import RequestLog
from sandbox.store import Store

DOMAIN = "contoso.onmicrosoft.com"


@pytest.fixture
def engine(store: Store) -> Iterator[Provisioning]:
    engine = Provisioning(store, request_log=RequestLog(store, background=False))
    for n, (given, dept) in enumerate([("Adele", "Sales"), ("Alex", "IT"), ("Ben", "Sales")]):
        engine.directory.add_user(
            userPrincipalName=f"{given.lower()}@{DOMAIN}",
            displayName=f"{given} Vance",
            givenName=given,
            department=dept,
            mail=f"{given.lower()}@example.com",
            accountEnabled=n != 1,
            telephoneNumber="+1 555 0100" if n == 0 else None,
            extensionAttribute1="x" if n == 2 else None,
        )
    yield engine


@pytest.fixture
def graph(engine: Provisioning):
    return create_graph_app(GraphContext(engine)).test_client()


def error_of(response, status: int, code: str | None = None) -> str:
    """The message of a Graph error answer, after checking its shape."""
    assert response.status_code == status, response.get_data(as_text=True)
    error = response.get_json()["error"]
    assert set(error) == {"code", "message", "innerError"}
    assert set(error["innerError"]) == {"date", "request-id", "client-request-id"}
    assert error["innerError"]["request-id"] == response.headers["request-id"]
    if code is not None:
        assert error["code"] == code
    return error["message"]


def upns(response) -> list[str]:
    assert response.status_code == 200, response.get_data(as_text=True)
    return [u["userPrincipalName"] for u in response.get_json()["value"]]


# -- errors and tokens ---------------------------------------------------------------------


def test_without_a_configured_token_any_bearer_token_or_none_is_accepted(graph):
    assert graph.get("/v1.0/users").status_code == 200
    assert graph.get("/v1.0/users", headers={"Authorization": "Bearer anything"}).status_code == 200


def test_a_configured_token_is_required_and_a_wrong_one_is_graphs_401(engine):
    client = create_graph_app(GraphContext(engine), token="s3cret").test_client()
    missing = client.get("/v1.0/users")
    assert "empty" in error_of(missing, 401, "InvalidAuthenticationToken")
    assert missing.headers["WWW-Authenticate"].startswith("Bearer")
    error_of(client.get("/v1.0/users", headers={"Authorization": "Bearer nope"}), 401)
    ok = client.get("/v1.0/users", headers={"Authorization": "Bearer s3cret"})
    assert ok.status_code == 200


def test_unknown_routes_and_ids_are_404s_in_graphs_shape_with_the_client_request_id(graph):
    sent = {"client-request-id": "7d4c5a2e-0000-4000-8000-000000000001"}
    response = graph.get("/v1.0/nothingHere", headers=sent)
    assert "nothingHere" in error_of(response, 404, "UnknownResource")
    assert (
        response.get_json()["error"]["innerError"]["client-request-id"] == sent["client-request-id"]
    )
    assert response.headers["client-request-id"] == sent["client-request-id"]
    missing = "00000000-0000-4000-8000-000000000000"
    for path in (f"users/{missing}", f"groups/{missing}", f"servicePrincipals/{missing}",
                 f"directory/deletedItems/{missing}"):  # fmt: skip
        assert missing in error_of(graph.get(f"/v1.0/{path}"), 404, "Request_ResourceNotFound")
    error_of(graph.get("/"), 404)
    error_of(graph.put("/v1.0/users"), 405, "MethodNotAllowed")


def test_bad_bodies_are_graphs_400(graph):
    error_of(graph.post("/v1.0/users", data="{", content_type="application/json"), 400)
    error_of(graph.post("/v1.0/users", json=[1]), 400, "Request_BadRequest")
    body = {"accountEnabled": True, "displayName": "N", "userPrincipalName": f"n@{DOMAIN}",
            "passwordProfile": {"password": "x"}}  # fmt: skip
    assert "'mailNickname'" in error_of(graph.post("/v1.0/users", json=body), 400)
    unknown = {**body, "mailNickname": "n", "favouriteColour": "blue"}
    assert "favouriteColour" in error_of(graph.post("/v1.0/users", json=unknown), 400)


def test_every_graph_exchange_is_in_the_request_log_with_its_own_side(graph, engine):
    graph.get("/v1.0/users?$top=1", headers={"Authorization": "Bearer t"})
    graph.get("/v1.0/nothingHere")
    [first, second] = engine.request_log.entries(10, side="graph")
    assert (first["method"], first["path"], first["query"], first["status"]) == (
        "GET", "/v1.0/users", "$top=1", 200,
    )  # fmt: skip
    assert first["request_headers"]["Authorization"] == "Bearer [redacted]"
    assert '"value"' in first["response_body"]
    assert (second["path"], second["status"]) == ("/v1.0/nothingHere", 404)


def test_only_the_readiness_probe_itself_is_left_out_of_the_request_log(graph, engine):
    probe = {"X-Sandbox-Readiness": "1"}
    graph.get("/", headers=probe)  # the probe: its GET of the root, no credentials
    graph.get("/v1.0/users?$top=1", headers={**probe, "Authorization": "Bearer t"})
    graph.get("/", headers={**probe, "Authorization": "Bearer t"})
    graph.post("/", headers=probe)
    logged = engine.request_log.entries(10, side="graph")
    assert [(e["method"], e["path"]) for e in logged] == [
        ("GET", "/v1.0/users"), ("GET", "/"), ("POST", "/")]  # fmt: skip


# -- OData query options ---------------------------------------------------------------------


def test_filter_eq_startswith_and_or_not_in_as_graph_writes_them(graph):
    def find(expr: str) -> list[str]:
        return sorted(upns(graph.get("/v1.0/users", query_string={"$filter": expr})))

    assert find("department eq 'sales'") == [f"adele@{DOMAIN}", f"ben@{DOMAIN}"]  # no case
    assert find("startsWith(displayName,'A') and accountEnabled eq true") == [f"adele@{DOMAIN}"]
    assert find("givenName eq 'Ben' or (givenName eq 'Alex')") == [
        f"alex@{DOMAIN}",
        f"ben@{DOMAIN}",
    ]
    assert find("not (department eq 'Sales')") == [f"alex@{DOMAIN}"]
    assert find("givenName in ('Ben', 'Nobody')") == [f"ben@{DOMAIN}"]
    assert find("onPremisesExtensionAttributes/extensionAttribute1 eq 'x'") == [f"ben@{DOMAIN}"]
    assert find("mobilePhone eq null and givenName eq 'Adele'") == [f"adele@{DOMAIN}"]
    assert find("displayName eq 'O''Brien'") == []


@pytest.mark.parametrize(
    ("query", "code", "words"),
    [
        ({"$filter": "department eq"}, "Request_BadRequest", "Invalid filter clause"),
        ({"$filter": "department eq 'x' nor"}, "Request_BadRequest", "Invalid filter clause"),
        ({"$filter": "jobTitle gt 'a'"}, "Request_UnsupportedQuery", "'jobTitle'"),
        ({"$filter": "favouriteColour eq 'a'"}, "Request_UnsupportedQuery", "'favouriteColour'"),
        ({"$filter": "accountEnabled eq 'true'"}, "Request_BadRequest", "incompatible types"),
        ({"$select": "id,favouriteColour"}, "Request_BadRequest", "'favouriteColour'"),
        ({"$top": "0"}, "Request_UnsupportedQuery", "between 1 and 999"),
        ({"$top": "1000"}, "Request_UnsupportedQuery", "between 1 and 999"),
        ({"$skip": "1"}, "Request_BadRequest", "'$skip'"),
        ({"$expand": "manager"}, "Request_BadRequest", "'$expand'"),
        ({"$search": '"displayName:a"'}, "Request_BadRequest", "'$search'"),
        ({"$frobnicate": "1"}, "Request_BadRequest", "'$frobnicate'"),
        ({"$orderby": "department"}, "Request_UnsupportedQuery", "'department'"),
        ({"$orderby": "displayName sideways"}, "Request_BadRequest", "$orderby"),
        ({"$skiptoken": "not-a-token"}, "Request_BadRequest", "$skiptoken"),
        ({"$count": "true"}, "Request_BadRequest", "ConsistencyLevel"),
    ],
)
def test_options_the_surface_does_not_take_are_graphs_400_naming_the_problem(
    graph, query, code, words
):
    assert words in error_of(graph.get("/v1.0/users", query_string=query), 400, code)


def test_select_top_orderby_count_and_paging_with_next_links(graph):
    query = {"$select": "userPrincipalName,businessPhones", "$orderby": "displayName desc",
             "$top": "2", "$count": "true"}  # fmt: skip
    first = graph.get("/v1.0/users", query_string=query, headers={"ConsistencyLevel": "eventual"})
    body = first.get_json()
    assert body["@odata.context"].endswith(
        "/v1.0/$metadata#users(userPrincipalName,businessPhones)"
    )
    assert body["@odata.count"] == 3
    assert body["value"] == [
        {"userPrincipalName": f"ben@{DOMAIN}", "businessPhones": []},
        {"userPrincipalName": f"alex@{DOMAIN}", "businessPhones": []},
    ]
    following = body["@odata.nextLink"]
    assert following.startswith("http://localhost/v1.0/users?") and "%24skiptoken=" in following
    rest = graph.get(following[len("http://localhost") :], headers={"ConsistencyLevel": "eventual"})
    assert rest.get_json()["value"] == [
        {"userPrincipalName": f"adele@{DOMAIN}", "businessPhones": ["+1 555 0100"]}
    ]
    assert "@odata.nextLink" not in rest.get_json()


def test_a_user_without_select_has_graphs_default_properties(graph):
    [user] = graph.get("/v1.0/users?$filter=givenName eq 'Adele'").get_json()["value"]
    assert list(user) == ["businessPhones", "displayName", "givenName", "jobTitle", "mail",
                          "mobilePhone", "officeLocation", "preferredLanguage", "surname",
                          "userPrincipalName", "id"]  # fmt: skip


# -- users and the recycle bin ---------------------------------------------------------------


def test_a_user_is_read_by_id_or_upn_updated_and_deleted_to_the_recycle_bin(graph, engine):
    adele = engine.directory.get_user(f"adele@{DOMAIN}")
    by_upn = graph.get(f"/v1.0/users/ADELE@{DOMAIN}?$select=id,department").get_json()
    assert (by_upn["id"], by_upn["department"]) == (adele.id, "Sales")
    assert graph.get("/v1.0/users/adele@example.com").status_code == 404  # a mail is no key
    change = {"jobTitle": "Lead", "mobilePhone": "+1 555 0199", "businessPhones": [],
              "onPremisesExtensionAttributes": {"extensionAttribute2": "y"}}  # fmt: skip
    assert graph.patch(f"/v1.0/users/{adele.id}", json=change).status_code == 204
    stored = engine.directory.get_user(adele.id)
    assert (stored.job_title, stored.mobile, stored.telephone_number) == (
        "Lead",
        "+1 555 0199",
        None,
    )
    assert stored.extension_attribute2 == "y"
    error_of(graph.patch(f"/v1.0/users/{adele.id}", json={"businessPhones": ["1", "2"]}), 400)

    assert graph.delete(f"/v1.0/users/{adele.id}").status_code == 204
    assert engine.directory.get_user(adele.id).deleted
    error_of(graph.get(f"/v1.0/users/{adele.id}"), 404, "Request_ResourceNotFound")
    assert f"adele@{DOMAIN}" not in upns(graph.get("/v1.0/users"))
    binned = graph.get("/v1.0/directory/deletedItems/microsoft.graph.user").get_json()["value"]
    assert [u["id"] for u in binned] == [adele.id]
    one = graph.get(f"/v1.0/directory/deletedItems/{adele.id}").get_json()
    assert one["@odata.type"] == "#microsoft.graph.user" and one["id"] == adele.id

    restored = graph.post(f"/v1.0/directory/deletedItems/{adele.id}/restore")
    assert restored.status_code == 200 and restored.get_json()["id"] == adele.id
    assert not engine.directory.get_user(adele.id).deleted
    graph.delete(f"/v1.0/users/{adele.id}")
    assert graph.delete(f"/v1.0/directory/deletedItems/{adele.id}").status_code == 204
    assert engine.directory.find_user(adele.id) is None


def test_the_manager_is_a_relationship_set_by_reference(graph, engine):
    adele, ben = (engine.directory.get_user(f"{a}@{DOMAIN}") for a in ("adele", "ben"))
    ref = {"@odata.id": f"https://graph.microsoft.com/v1.0/users/{ben.id}"}
    assert graph.put(f"/v1.0/users/{adele.id}/manager/$ref", json=ref).status_code == 204
    assert engine.directory.get_user(adele.id).manager == ben.id
    assert graph.get(f"/v1.0/users/{adele.id}/manager").get_json()["id"] == ben.id
    assert graph.delete(f"/v1.0/users/{adele.id}/manager/$ref").status_code == 204
    assert engine.directory.get_user(adele.id).manager is None


# -- groups and app role assignments -------------------------------------------------------


def test_groups_are_security_groups_with_direct_members_by_reference(graph, engine):
    body = {"displayName": "Testers", "mailEnabled": False, "mailNickname": "testers",
            "securityEnabled": True}  # fmt: skip
    created = graph.post("/v1.0/groups", json=body)
    assert created.status_code == 201
    group = created.get_json()
    assert (group["securityEnabled"], group["mailEnabled"], group["groupTypes"]) == (
        True,
        False,
        [],
    )
    unified = {**body, "displayName": "M365", "groupTypes": ["Unified"]}
    assert "security groups only" in error_of(graph.post("/v1.0/groups", json=unified), 400)

    alex = engine.directory.get_user(f"alex@{DOMAIN}")
    ref = {"@odata.id": f"https://graph.microsoft.com/v1.0/directoryObjects/{alex.id}"}
    assert graph.post(f"/v1.0/groups/{group['id']}/members/$ref", json=ref).status_code == 204
    assert [u.id for u in engine.directory.members(group["id"])] == [alex.id]
    again = graph.post(f"/v1.0/groups/{group['id']}/members/$ref", json=ref)
    assert "already exist" in error_of(again, 400, "Request_BadRequest")
    error_of(graph.post(f"/v1.0/groups/{group['id']}/members/$ref", json={"@odata.id": "x"}), 400)
    members = graph.get(f"/v1.0/groups/{group['id']}/members").get_json()["value"]
    assert [(m["@odata.type"], m["id"]) for m in members] == [("#microsoft.graph.user", alex.id)]
    gone = graph.delete(f"/v1.0/groups/{group['id']}/members/{alex.id}/$ref")
    assert gone.status_code == 204 and engine.directory.members(group["id"]) == []
    assert graph.delete(f"/v1.0/groups/{group['id']}").status_code == 204
    assert engine.directory.find_group(group["id"]) is None


def test_the_app_and_its_role_assignments_as_graph_shows_them(graph, engine):
    [sp] = graph.get("/v1.0/servicePrincipals").get_json()["value"]
    by_app_id = graph.get(f"/v1.0/servicePrincipals?$filter=appId eq '{sp['appId']}'")
    assert [s["id"] for s in by_app_id.get_json()["value"]] == [sp["id"]]
    assert graph.get(f"/v1.0/servicePrincipals(appId='{sp['appId']}')").get_json()["id"] == sp["id"]
    roles = {r["value"]: r["id"] for r in sp["appRoles"]}
    assert set(roles) == {"ADMIN", "USER", "GUEST", "msiam_access"}

    ben = engine.directory.get_user(f"ben@{DOMAIN}")
    grant = {"principalId": ben.id, "resourceId": sp["id"], "appRoleId": roles["USER"]}
    path = f"/v1.0/servicePrincipals/{sp['id']}/appRoleAssignedTo"
    created = graph.post(path, json=grant)
    assert created.status_code == 201
    assignment = created.get_json()
    assert (assignment["principalType"], assignment["principalDisplayName"]) == (
        "User",
        "Ben Vance",
    )
    assert [r.value for r in engine.app.assignments_for_user(ben.id)] == ["USER"]
    assert "already exists" in error_of(graph.post(path, json=grant), 400)
    wrong_role = {**grant, "appRoleId": "11111111-1111-4111-8111-111111111111"}
    assert "not found on application" in error_of(graph.post(path, json=wrong_role), 400)
    nobody = {**grant, "principalId": "22222222-2222-4222-8222-222222222222"}
    error_of(graph.post(path, json=nobody), 404, "Request_ResourceNotFound")

    listed = graph.get(f"/v1.0/users/{ben.id}/appRoleAssignments").get_json()["value"]
    assert [a["id"] for a in listed] == [assignment["id"]]
    assert graph.delete(f"{path}/{assignment['id']}").status_code == 204
    assert engine.app.assignments_for_user(ben.id) == []
    error_of(graph.delete(f"{path}/{assignment['id']}"), 404)


# -- what Graph refuses and the surface once took ------------------------------------------


def test_ids_are_guids_so_their_case_does_not_matter(graph, engine):
    adele = engine.directory.get_user(f"adele@{DOMAIN}")
    upper = adele.id.upper()
    assert graph.get(f"/v1.0/users/{upper}").get_json()["id"] == adele.id
    assert graph.get(f"/v1.0/directoryObjects/{upper}").get_json()["id"] == adele.id
    ref = {"@odata.id": f"https://graph.microsoft.com/v1.0/users/{upper}"}
    ben = engine.directory.get_user(f"ben@{DOMAIN}")
    assert graph.put(f"/v1.0/users/{ben.id}/manager/$ref", json=ref).status_code == 204
    assert engine.directory.get_user(ben.id).manager == adele.id
    [sp] = graph.get("/v1.0/servicePrincipals").get_json()["value"]
    role = next(r["id"] for r in sp["appRoles"] if r["value"] == "USER")
    grant = {"principalId": upper, "resourceId": sp["id"], "appRoleId": role.upper()}
    created = graph.post(f"/v1.0/servicePrincipals/{sp['id']}/appRoleAssignedTo", json=grant)
    assert created.status_code == 201, created.get_data(as_text=True)
    assert created.get_json()["principalId"] == adele.id
    assert [r.value for r in engine.app.assignments_for_user(adele.id)] == ["USER"]


def test_the_all_zero_app_role_id_is_refused_because_the_app_declares_roles(graph, engine):
    [sp] = graph.get("/v1.0/servicePrincipals").get_json()["value"]
    default_access = next(r["id"] for r in sp["appRoles"] if r["value"] == "msiam_access")
    ben = engine.directory.get_user(f"ben@{DOMAIN}")
    grant = {"principalId": ben.id, "resourceId": sp["id"],
             "appRoleId": "00000000-0000-0000-0000-000000000000"}  # fmt: skip
    path = f"/v1.0/servicePrincipals/{sp['id']}/appRoleAssignedTo"
    message = error_of(graph.post(path, json=grant), 400, "Request_BadRequest")
    assert "not found on application" in message and default_access in message
    assert engine.app.assignments_for_user(ben.id) == []
    ok = graph.post(path, json={**grant, "appRoleId": default_access})
    assert ok.status_code == 201
    assert [r.value for r in engine.app.assignments_for_user(ben.id)] == ["msiam_access"]


@pytest.mark.parametrize(
    ("change", "words"),
    [
        ({"displayName": None}, "'displayName'"),
        ({"displayName": ""}, "'displayName'"),
        ({"accountEnabled": None}, "'accountEnabled'"),
        ({"accountEnabled": "true"}, "'accountEnabled'"),
        ({"mailNickname": None}, "'mailNickname'"),
        ({"userPrincipalName": ""}, "'userPrincipalName'"),
        ({"jobTitle": 3}, "'jobTitle'"),
        ({"department": ["IT"]}, "'department'"),
        ({"employeeHireDate": "yesterday"}, "DateTimeOffset"),
        ({"employeeHireDate": "2024-13-45T00:00:00Z"}, "'employeeHireDate'"),
        ({"userPrincipalName": f"ad\u00e8le@{DOMAIN}"}, "alias"),
        ({"userPrincipalName": f"a b@{DOMAIN}"}, "alias"),
        ({"userPrincipalName": "adele@elsewhere.example"}, "verified domain"),
        ({"businessPhones": [5]}, "'businessPhones'"),
        ({"department": "d" * 65}, "at most 64 characters, got 65"),
        ({"displayName": "n" * 257}, "at most 256 characters"),
        ({"mobilePhone": "1" * 65}, "'mobilePhone'"),
        ({"officeLocation": "o" * 129}, "'officeLocation'"),
        ({"employeeId": "E" * 17}, "at most 16 characters"),
        ({"onPremisesExtensionAttributes": {"extensionAttribute1": 1}}, "extensionAttribute1"),
    ],
)
def test_a_user_update_graph_would_refuse_is_a_400_that_changes_nothing(
    graph, engine, change, words
):
    adele = engine.directory.get_user(f"adele@{DOMAIN}")
    before = graph.get(f"/v1.0/users/{adele.id}?$select=id,displayName,accountEnabled,"
                       "userPrincipalName,jobTitle,employeeHireDate").get_json()  # fmt: skip
    assert words in error_of(graph.patch(f"/v1.0/users/{adele.id}", json=change), 400)
    after = graph.get(f"/v1.0/users/{adele.id}?$select=id,displayName,accountEnabled,"
                      "userPrincipalName,jobTitle,employeeHireDate").get_json()  # fmt: skip
    assert after == before


def test_a_user_created_with_graphs_rules_for_the_upn_the_password_and_the_hire_date(graph):
    body = {"accountEnabled": True, "displayName": "Nia", "mailNickname": "nia",
            "userPrincipalName": f"nia.o'neil@{DOMAIN}",
            "passwordProfile": {"password": "x1!Long-enough"},
            "employeeHireDate": "2024-04-01T00:00:00Z"}  # fmt: skip
    created = graph.post("/v1.0/users", json=body)
    assert created.status_code == 201, created.get_data(as_text=True)
    nia = created.get_json()["id"]
    hired = graph.get(f"/v1.0/users/{nia}?$select=employeeHireDate").get_json()
    assert hired["employeeHireDate"].startswith("2024-04-01")
    for profile in ({}, {"password": ""}, {"password": 5}, "x1!Long-enough"):
        other = {**body, "userPrincipalName": f"nib@{DOMAIN}", "passwordProfile": profile}
        assert "passwordProfile" in error_of(graph.post("/v1.0/users", json=other), 400)
    long_name = {**body, "userPrincipalName": f"nib@{DOMAIN}", "displayName": "N" * 257}
    assert "at most 256 characters" in error_of(graph.post("/v1.0/users", json=long_name), 400)
    assert f"nib@{DOMAIN}" not in upns(graph.get("/v1.0/users"))


def test_single_object_gets_take_select_and_refuse_what_they_do_not_take(graph, engine):
    adele, ben = (engine.directory.get_user(f"{a}@{DOMAIN}") for a in ("adele", "ben"))
    engine.directory.edit_user(adele.id, manager=ben.id)
    manager = graph.get(f"/v1.0/users/{adele.id}/manager?$select=id,department").get_json()
    assert {k: v for k, v in manager.items() if not k.startswith("@")} == {
        "id": ben.id, "department": "Sales"
    }  # fmt: skip
    [sp] = graph.get("/v1.0/servicePrincipals").get_json()["value"]
    picked = graph.get(f"/v1.0/servicePrincipals/{sp['id']}?$select=id,appId").get_json()
    assert {k for k in picked if not k.startswith("@")} == {"id", "appId"}
    thing = graph.get(f"/v1.0/directoryObjects/{ben.id}?$select=id,displayName").get_json()
    assert {k for k in thing if not k.startswith("@")} == {"id", "displayName"}
    graph.delete(f"/v1.0/users/{ben.id}")
    binned = graph.get(f"/v1.0/directory/deletedItems/{ben.id}?$select=id").get_json()
    assert {k for k in binned if not k.startswith("@")} == {"id"}
    for path in (f"users/{adele.id}/manager?$top=1", f"servicePrincipals/{sp['id']}?$top=1",
                 f"users/{adele.id}?$select=id&$select=id", f"users/{adele.id}?$select=favourite"):  # fmt: skip
        error_of(graph.get(f"/v1.0/{path}"), 400)


def test_the_service_principal_is_a_directory_object(graph):
    [sp] = graph.get("/v1.0/servicePrincipals").get_json()["value"]
    thing = graph.get(f"/v1.0/directoryObjects/{sp['id']}").get_json()
    assert thing["@odata.type"] == "#microsoft.graph.servicePrincipal"
    assert thing["appId"] == sp["appId"]


def test_groups_refuse_a_repeated_member_bind_and_a_description_of_the_wrong_type(graph, engine):
    alex = engine.directory.get_user(f"alex@{DOMAIN}")
    bind = f"https://graph.microsoft.com/v1.0/directoryObjects/{alex.id}"
    body = {"displayName": "Twice", "mailEnabled": False, "mailNickname": "twice",
            "securityEnabled": True, "members@odata.bind": [bind, bind.upper()]}  # fmt: skip
    error_of(graph.post("/v1.0/groups", json=body), 400)
    error_of(graph.post("/v1.0/groups", json={**body, "members@odata.bind": [bind],
                                              "description": 7}), 400)  # fmt: skip
    names = [g["displayName"] for g in graph.get("/v1.0/groups").get_json()["value"]]
    assert "Twice" not in names  # nothing half-created


def test_a_no_content_answer_has_no_content_type_and_the_log_hides_passwords(graph, engine):
    adele = engine.directory.get_user(f"adele@{DOMAIN}")
    answer = graph.patch(f"/v1.0/users/{adele.id}", json={"jobTitle": "Lead"})
    assert answer.status_code == 204 and "Content-Type" not in answer.headers
    body = {"accountEnabled": True, "displayName": "Pat", "mailNickname": "pat",
            "userPrincipalName": f"pat@{DOMAIN}",
            "passwordProfile": {"password": "hunter2-Secret"}}  # fmt: skip
    assert graph.post("/v1.0/users", json=body).status_code == 201
    logged = [e["request_body"] or "" for e in engine.request_log.entries(10, side="graph")]
    assert any("passwordProfile" in text for text in logged)
    assert not any("hunter2-Secret" in text for text in logged)

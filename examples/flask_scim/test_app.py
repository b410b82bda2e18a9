"""The Flask example's tests, written as a developer would with the sandbox's pytest plugin:
`scim_app` and `scim_token` say what is under test; `entra` is a throwaway Entra tenant and
provisioning engine sending real Entra requests to the app, in process."""

import pytest

from examples.flask_scim.app import create_app


@pytest.fixture
def scim_token():
    return "flask-example-token"


@pytest.fixture
def scim_app(scim_token):
    return create_app(scim_token)


def test_an_assigned_user_is_created_then_disabled(entra):
    user = entra.add_user(assign=True, jobTitle="Engineer")
    entra.sync()
    assert entra.log(user).action == "Create" and entra.log(user).status == "Success"
    status, created = entra.get(f"/Users/{entra.target_id(user)}")
    assert status == 200 and created["title"] == "Engineer"

    entra.directory.block(user.id)  # sign-in blocked: Entra sends active "False"
    entra.sync()
    assert entra.log(user).action == "Disable"
    assert '"value":"False"' in entra.exchanges("PATCH")[-1].request_body
    assert entra.get(f"/Users/{entra.target_id(user)}")[1]["active"] is False


def test_provision_on_demand(entra):
    user = entra.add_user(assign=True)
    result = entra.provision_on_demand(user)
    assert result.record.action == "Create" and result.record.status == "Success"


def test_group_members_are_added(entra):
    user = entra.add_user(assign=True)
    group = entra.add_group("Engineering", user)
    entra.assign(group)
    entra.sync()
    status, found = entra.get(f"/Groups/{entra.target_id(group)}")
    assert status == 200 and [m["value"] for m in found["members"]] == [entra.target_id(user)]


def test_the_whole_sandbox_check_suite_passes(entra):
    report = entra.check()
    assert report.ok, "\n".join(r.reason for r in report.results if r.status == "fail")

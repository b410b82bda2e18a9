"""scim2-client (a SCIM client no one here wrote) drives the provider through a User's life."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from scim2_models import (
    Error,
    ListResponse,
    PatchOp,
    PatchOperation,
    SearchRequest,
)

from tests.scim_httpx import HttpxSCIMClient

BASE = "http://testserver/scim/v2"
ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"


@pytest.fixture
def scim(app, token) -> Iterator[HttpxSCIMClient]:
    """scim2-client over httpx's WSGI transport, the provider described by its own discovery."""
    http = httpx.Client(
        transport=httpx.WSGITransport(app=app),
        base_url=BASE,
        headers={"Authorization": f"Bearer {token}"},
    )
    with http:
        client = HttpxSCIMClient(http)
        client.discover()
        yield client


def _user_model(scim: HttpxSCIMClient) -> Any:
    model = scim.get_resource_model("User")
    assert model is not None, "discovery did not describe a User resource type"
    return model


def _new_user(scim: HttpxSCIMClient, user_name: str, **extra: Any) -> Any:
    # Discovery builds the models from /Schemas, so the sub-models are built too: plain
    # dicts let pydantic pick them.
    User = _user_model(scim)
    Enterprise = User.get_extension_models()[ENTERPRISE]
    user = User(
        user_name=user_name,
        display_name="Ada Lovelace",
        name={"given_name": "Ada", "family_name": "Lovelace"},
        emails=[{"value": f"{user_name}@example.com", "type": "work", "primary": True}],
        **extra,
    )
    user[Enterprise] = Enterprise(department="Analytical Engines")
    return scim.create(user)


def test_discovery_describes_user_with_the_enterprise_extension(scim: HttpxSCIMClient) -> None:
    User = _user_model(scim)
    assert ENTERPRISE in User.get_extension_models()
    config = scim.provider.config
    assert config is not None
    assert config.patch.supported and config.filter.supported and config.etag.supported
    assert not config.bulk.supported and not config.change_password.supported


def test_create_returns_the_stored_user(scim: HttpxSCIMClient) -> None:
    created = _new_user(scim, "ada")
    assert created.id
    assert created.user_name == "ada"
    assert created.name.family_name == "Lovelace"
    assert created.emails[0].value == "ada@example.com"
    assert created[created.get_extension_models()[ENTERPRISE]].department == "Analytical Engines"
    assert created.meta.resource_type == "User"
    assert created.meta.version == 'W/"1"'
    assert created.meta.location.endswith(f"/scim/v2/Users/{created.id}")


def test_query_by_filter_finds_exactly_the_matching_user(scim: HttpxSCIMClient) -> None:
    User = _user_model(scim)
    ada = _new_user(scim, "ada")
    _new_user(scim, "grace")

    response = scim.query(User, query_parameters=SearchRequest(filter='userName eq "ADA"'))
    assert isinstance(response, ListResponse)
    assert response.total_results == 1
    assert [u.id for u in response.resources] == [ada.id]

    by_email = scim.query(
        User,
        query_parameters=SearchRequest(filter='emails[type eq "work"].value co "grace"'),
    )
    assert [u.user_name for u in by_email.resources] == ["grace"]

    none = scim.query(User, query_parameters=SearchRequest(filter='userName eq "nobody"'))
    assert none.total_results == 0 and not none.resources

    both = scim.search(SearchRequest(filter='emails.value ew "@example.com"', sort_by="userName"))
    assert [u.user_name for u in both.resources] == ["ada", "grace"]


def test_query_by_id_reads_back_what_was_created(scim: HttpxSCIMClient) -> None:
    User = _user_model(scim)
    ada = _new_user(scim, "ada")
    read = scim.query(User, ada.id)
    assert read.id == ada.id
    assert read.display_name == "Ada Lovelace"
    assert read.meta.version == ada.meta.version


def test_replace_swaps_every_writable_attribute(scim: HttpxSCIMClient) -> None:
    User = _user_model(scim)
    ada = _new_user(scim, "ada")
    replacement = User(id=ada.id, user_name="ada.king", display_name="Ada King")
    replaced = scim.replace(replacement)
    assert replaced.id == ada.id
    assert replaced.user_name == "ada.king"
    assert replaced.display_name == "Ada King"
    assert replaced.name is None and not replaced.emails  # PUT replaces: omitted means gone
    assert replaced.meta.version == 'W/"2"'
    assert replaced.meta.created == ada.meta.created
    read = scim.query(User, ada.id)
    assert read.user_name == "ada.king"


def test_modify_applies_add_replace_and_remove(scim: HttpxSCIMClient) -> None:
    User = _user_model(scim)
    ada = _new_user(scim, "ada")
    patch = PatchOp[User](
        operations=[
            PatchOperation[User](op="replace", path="displayName", value="Countess"),
            PatchOperation[User](op="add", path="title", value="Mathematician"),
            PatchOperation[User](op="remove", path="name.givenName"),
            PatchOperation[User](op="replace", path="active", value=False),
        ]
    )
    modified = scim.modify(User, ada.id, patch)
    assert modified.display_name == "Countess"
    assert modified.title == "Mathematician"
    assert modified.name.given_name is None and modified.name.family_name == "Lovelace"
    assert modified.active is False
    assert modified.meta.version == 'W/"2"'
    assert scim.query(User, ada.id).title == "Mathematician"


def test_delete_removes_the_user(scim: HttpxSCIMClient) -> None:
    User = _user_model(scim)
    ada = _new_user(scim, "ada")
    assert scim.delete(User, ada.id) is None
    gone = scim.query(User, ada.id, raise_scim_errors=False, expected_status_codes=None)
    assert isinstance(gone, Error)
    assert gone.status == 404
    listed = scim.query(User)
    assert listed.total_results == 0


def test_duplicate_user_name_is_a_uniqueness_error(scim: HttpxSCIMClient) -> None:
    _new_user(scim, "ada")
    User = _user_model(scim)
    error = scim.create(User(user_name="ADA"), raise_scim_errors=False, expected_status_codes=None)
    assert isinstance(error, Error)
    assert error.status == 409
    assert error.scim_type == "uniqueness"

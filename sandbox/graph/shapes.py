"""Provides the Graph v1.0 JSON forms of the tenant's objects (user, group, servicePrincipal,
appRole, appRoleAssignment) and their collections' specs (what $filter, $select and
$orderby take on each).

The tenant stores users under the names Entra's attribute mappings read; Graph names a few
differently (Microsoft Graph v1.0, "user resource type"): `mobile` is `mobilePhone`,
`telephoneNumber` is the one entry of `businessPhones`, `facsimileTelephoneNumber` is
`faxNumber`, `physicalDeliveryOfficeName` is `officeLocation`, `extensionAttribute1-5` are
in `onPremisesExtensionAttributes`, and the manager is a relationship (`users/{id}/manager`),
not a property.
"""

from __future__ import annotations

import re

from sandbox.engine.sync.graph_log import application_id, service_principal_id, tenant_id
from sandbox.engine.tenant.app import AppRole, Assignment
from sandbox.engine.tenant.model import DirectoryGroup, DirectoryUser
from sandbox.graph.odata import ResourceSpec
from sandbox.graph.odata_filter import EQUALITY_OPS, STRING_OPS, Filterable
from sandbox.scim_names import APP

Item = dict[str, object]

_GUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", re.IGNORECASE)


def object_key(key: str) -> str:
    """A path or body key as the tenant stores it: a GUID in lower case (Graph's ids are
    GUIDs, which compare without case: `users/{ID}` and `users/{id}` are the same user),
    anything else (a userPrincipalName) as given."""
    return key.lower() if _GUID.fullmatch(key) else key


RENAMED = {
    "mobilePhone": "mobile",
    "faxNumber": "facsimileTelephoneNumber",
    "officeLocation": "physicalDeliveryOfficeName",
}
"""Graph user property -> the tenant's name for it (the rest are the same)."""

SAME = tuple(
    """accountEnabled city companyName country department displayName employeeHireDate
    employeeId employeeType givenName jobTitle mail mailNickname postalCode preferredLanguage
    state streetAddress surname usageLocation userPrincipalName userType""".split()
)
"""Graph user properties the tenant stores under the same name."""

EXTENSION_ATTRIBUTES = tuple(f"extensionAttribute{n}" for n in range(1, 6))
"""The onPremisesExtensionAttributes the tenant keeps (Graph has 15; the sandbox 1-5)."""

USER_PROPERTIES = tuple(
    sorted(
        (
            "id",
            "businessPhones",
            "createdDateTime",
            "deletedDateTime",
            "onPremisesExtensionAttributes",
            *SAME,
            *RENAMED,
        )
    )
)
"""Every user property the surface has."""

USER_DEFAULT = (
    "businessPhones",
    "displayName",
    "givenName",
    "jobTitle",
    "mail",
    "mobilePhone",
    "officeLocation",
    "preferredLanguage",
    "surname",
    "userPrincipalName",
    "id",
)
"""What a user is returned with when no $select is given (Graph's "List users": "By default,
only a limited set of properties are returned")."""

_DATES = frozenset({"eq", "ne", "gt", "ge", "lt", "le"})

USER_SPEC = ResourceSpec(
    type_name="microsoft.graph.user",
    entity="User",
    properties=USER_PROPERTIES,
    default_select=USER_DEFAULT,
    filterable={
        **{name: Filterable("string", STRING_OPS) for name in (*SAME, *RENAMED)},
        "mail": Filterable("string", STRING_OPS | {"endswith"}),
        "userPrincipalName": Filterable("string", STRING_OPS | {"endswith"}),
        "accountEnabled": Filterable("bool", EQUALITY_OPS),
        "userType": Filterable("string", EQUALITY_OPS),
        "id": Filterable("guid", EQUALITY_OPS),
        "createdDateTime": Filterable("datetime", _DATES),
        "employeeHireDate": Filterable("datetime", _DATES),
        **{
            f"onPremisesExtensionAttributes/{name}": Filterable("string", EQUALITY_OPS)
            for name in EXTENSION_ATTRIBUTES
        },
    },
    orderable=frozenset({"displayName", "userPrincipalName"}),
)


def user_json(user: DirectoryUser) -> Item:
    """A user as Graph returns it (every property; `project` cuts it to the selection)."""
    props = user.properties()
    out: Item = {"id": user.id}
    phone = props.get("telephoneNumber")
    out["businessPhones"] = [phone] if phone else []
    for name in SAME:
        out[name] = props.get(name)
    for graph_name, name in RENAMED.items():
        out[graph_name] = props.get(name)
    extensions: Item = {f"extensionAttribute{n}": None for n in range(1, 16)}
    extensions.update({name: props.get(name) for name in EXTENSION_ATTRIBUTES})
    out["onPremisesExtensionAttributes"] = extensions
    out["createdDateTime"] = user.created
    out["deletedDateTime"] = user.deleted_at
    return out


GROUP_PROPERTIES = (
    "id",
    "createdDateTime",
    "deletedDateTime",
    "description",
    "displayName",
    "groupTypes",
    "mail",
    "mailEnabled",
    "mailNickname",
    "securityEnabled",
    "visibility",
)

GROUP_SPEC = ResourceSpec(
    type_name="microsoft.graph.group",
    entity="Group",
    properties=GROUP_PROPERTIES,
    filterable={
        "id": Filterable("guid", EQUALITY_OPS),
        "displayName": Filterable("string", STRING_OPS),
        "description": Filterable("string", STRING_OPS),
        "mailNickname": Filterable("string", STRING_OPS),
        "securityEnabled": Filterable("bool", EQUALITY_OPS),
        "mailEnabled": Filterable("bool", EQUALITY_OPS),
        "createdDateTime": Filterable("datetime", _DATES),
    },
    orderable=frozenset({"displayName"}),
)


def mail_nickname(display_name: str) -> str:
    """The mailNickname a group is shown with: its display name's letters and digits (the
    tenant keeps no nickname of its own)."""
    return "".join(c for c in display_name if c.isalnum()) or "group"


def group_json(group: DirectoryGroup) -> Item:
    """A security group as Graph returns it (the tenant has only security groups)."""
    return {
        "id": group.id,
        "createdDateTime": group.created,
        "deletedDateTime": None,
        "description": group.description or None,
        "displayName": group.display_name,
        "groupTypes": [],
        "mail": None,
        "mailEnabled": False,
        "mailNickname": mail_nickname(group.display_name),
        "securityEnabled": True,
        "visibility": None,
    }


def typed(item: Item, kind: str) -> Item:
    """`item` with its `@odata.type` first, as a directoryObject collection carries it."""
    return {"@odata.type": f"#microsoft.graph.{kind}", **item}


DEFAULT_ACCESS_ROLE_ID = "00000000-0000-0000-0000-000000000000"
"""Graph's appRoleId for an assignment without a specific role, which the appRoleAssignment
resource page allows only "if the resource application has not declared any app roles"; the
guide's app declares its roles, Default Access (msiam_access) among them."""


def app_role_json(role: AppRole) -> Item:
    """An appRole as Graph returns it on the service principal."""
    return {
        "allowedMemberTypes": list(role.allowed_member_types),
        "description": role.description,
        "displayName": role.display_name,
        "id": role.id,
        "isEnabled": True,
        "origin": "Application",
        "value": role.value,
    }


def service_principal_json(tenant_domain: str, roles: list[AppRole]) -> Item:
    """The enterprise app's service principal (its ids fixed per tenant, as graph_log's)."""
    app_id = application_id(tenant_domain)
    return {
        "id": service_principal_id(tenant_domain),
        "deletedDateTime": None,
        "accountEnabled": True,
        "appDisplayName": APP,
        "appId": app_id,
        "appOwnerOrganizationId": tenant_id(tenant_domain),
        "appRoleAssignmentRequired": True,
        "appRoles": [app_role_json(role) for role in roles],
        "displayName": APP,
        "preferredSingleSignOnMode": None,
        "servicePrincipalNames": [app_id],
        "servicePrincipalType": "Application",
        "signInAudience": "AzureADMyOrg",
        "tags": [
            "WindowsAzureActiveDirectoryCustomSingleSignOnApplication",
            "WindowsAzureActiveDirectoryIntegratedApp",
        ],
    }


SERVICE_PRINCIPAL_SPEC = ResourceSpec(
    type_name="microsoft.graph.servicePrincipal",
    entity="ServicePrincipal",
    properties=tuple(service_principal_json("contoso.onmicrosoft.com", [])),
    filterable={
        "id": Filterable("guid", EQUALITY_OPS),
        "appId": Filterable("guid", EQUALITY_OPS),
        "displayName": Filterable("string", STRING_OPS),
        "servicePrincipalType": Filterable("string", EQUALITY_OPS),
        "accountEnabled": Filterable("bool", EQUALITY_OPS),
    },
    orderable=frozenset({"displayName"}),
)

DIRECTORY_OBJECT_SPEC = ResourceSpec(
    type_name="microsoft.graph.directoryObject",
    entity="DirectoryObject",
    properties=tuple(
        dict.fromkeys(
            (
                "id",
                "deletedDateTime",
                "@odata.type",
                *USER_PROPERTIES,
                *GROUP_PROPERTIES,
                *SERVICE_PRINCIPAL_SPEC.properties,
            )
        )
    ),
    filterable={"id": Filterable("guid", EQUALITY_OPS)},
)
"""Directory objects: a group's members (users and groups), `directoryObjects/{id}` (the
app's service principal too)."""

ASSIGNMENT_PROPERTIES = (
    "id",
    "deletedDateTime",
    "appRoleId",
    "createdDateTime",
    "principalDisplayName",
    "principalId",
    "principalType",
    "resourceDisplayName",
    "resourceId",
)

ASSIGNMENT_SPEC = ResourceSpec(
    type_name="microsoft.graph.appRoleAssignment",
    entity="AppRoleAssignment",
    properties=ASSIGNMENT_PROPERTIES,
    filterable={
        "principalId": Filterable("guid", EQUALITY_OPS),
        "resourceId": Filterable("guid", EQUALITY_OPS),
        "appRoleId": Filterable("guid", EQUALITY_OPS),
        "principalType": Filterable("string", EQUALITY_OPS),
    },
    options=("$filter", "$select", "$top", "$skiptoken", "$count"),
)


def assignment_json(
    assignment: Assignment, role: AppRole, principal_name: str, tenant_domain: str
) -> Item:
    """An appRoleAssignment as Graph returns it (`principal_name`: the user's or group's
    displayName)."""
    return {
        "id": assignment.id,
        "deletedDateTime": None,
        "appRoleId": role.id,
        "createdDateTime": assignment.created,
        "principalDisplayName": principal_name,
        "principalId": assignment.principal_id,
        "principalType": assignment.principal_type,
        "resourceDisplayName": APP,
        "resourceId": service_principal_id(tenant_domain),
    }

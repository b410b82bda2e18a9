"""Provides the User schema the provider serves: attribute definitions (RFC 7643 §4.1,
RFC 7643 §4.3, RFC 7643 §7).

The same definitions drive validation, filters, PATCH paths, /Schemas and projection, so
what /Schemas publishes is what the provider does.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from sandbox.scim_names import CORE_USER_SCHEMA, ENTERPRISE_USER_SCHEMA

SCHEMA_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:Schema"
RESOURCE_TYPE_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:ResourceType"
SPC_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"


@dataclass(frozen=True, slots=True)
class Attribute:
    """One attribute definition, with RFC 7643 §7 characteristics."""

    name: str
    type: str = "string"
    """string, boolean, decimal, integer, dateTime, binary, reference or complex."""
    multi_valued: bool = False
    description: str = ""
    required: bool = False
    case_exact: bool = False
    mutability: str = "readWrite"
    returned: str = "default"
    uniqueness: str = "none"
    canonical_values: tuple[str, ...] = ()
    reference_types: tuple[str, ...] = ()
    sub_attributes: tuple[Attribute, ...] = ()
    schema: str = CORE_USER_SCHEMA
    """The schema URN the attribute belongs to (the enterprise extension or the core)."""
    _subs: dict[str, Attribute] = field(default_factory=dict, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_subs", {a.name.lower(): a for a in self.sub_attributes})

    def sub(self, name: str) -> Attribute | None:
        """The sub-attribute called `name` (case-insensitive, RFC 7643 §2.1)."""
        return self._subs.get(name.lower())

    def to_scim(self) -> dict[str, Any]:
        """The attribute as it appears in a /Schemas document."""
        doc: dict[str, Any] = {
            "name": self.name,
            "type": self.type,
            "multiValued": self.multi_valued,
            "description": self.description,
            "required": self.required,
            "caseExact": self.case_exact,
            "mutability": self.mutability,
            "returned": self.returned,
            "uniqueness": self.uniqueness,
        }
        if self.canonical_values:
            doc["canonicalValues"] = list(self.canonical_values)
        if self.reference_types:
            doc["referenceTypes"] = list(self.reference_types)
        if self.sub_attributes:
            doc["subAttributes"] = [s.to_scim() for s in self.sub_attributes]
        return doc


def _s(name: str, description: str, **kw: Any) -> Attribute:
    return Attribute(name, description=description, **kw)


def _multi(name: str, description: str, types: tuple[str, ...], value: Attribute) -> Attribute:
    """A multi-valued complex attribute with the usual value/display/type/primary quartet."""
    return Attribute(
        name,
        type="complex",
        multi_valued=True,
        description=description,
        sub_attributes=(
            value,
            _s("display", "A human-readable name, primarily used for display purposes."),
            _s("type", "A label indicating the attribute's function.", canonical_values=types),
            Attribute(
                "primary",
                type="boolean",
                description="Indicates the primary value; 'true' appears no more than once.",
            ),
        ),
    )


def _core_attributes() -> tuple[Attribute, ...]:
    return (
        _s(
            "userName",
            "Unique identifier for the User, used to authenticate.",
            required=True,
            uniqueness="server",
        ),
        Attribute(
            "name",
            type="complex",
            description="The components of the user's real name.",
            sub_attributes=(
                _s("formatted", "The full name, formatted for display."),
                _s("familyName", "The family name of the User."),
                _s("givenName", "The given name of the User."),
                _s("middleName", "The middle name(s) of the User."),
                _s("honorificPrefix", "The honorific prefix(es) of the User."),
                _s("honorificSuffix", "The honorific suffix(es) of the User."),
            ),
        ),
        _s("displayName", "The name of the User, suitable for display to end-users."),
        _s("nickName", "The casual way to address the user."),
        Attribute(
            "profileUrl",
            type="reference",
            reference_types=("external",),
            description="A URI pointing to the user's online profile.",
        ),
        _s("title", "The user's title, such as 'Vice President'."),
        _s("userType", "The relationship between the organization and the user."),
        _s("preferredLanguage", "The User's preferred written or spoken language."),
        _s("locale", "The User's default location for localization."),
        _s("timezone", "The User's time zone in IANA Time Zone database format."),
        Attribute("active", type="boolean", description="The User's administrative status."),
        Attribute(
            "password",
            mutability="writeOnly",
            returned="never",
            description="The User's cleartext password; never returned.",
        ),
        _multi(
            "emails",
            "Email addresses for the user.",
            ("work", "home", "other"),
            _s("value", "Email address for the User."),
        ),
        _multi(
            "phoneNumbers",
            "Phone numbers for the User.",
            ("work", "home", "mobile", "fax", "pager", "other"),
            _s("value", "Phone number of the User."),
        ),
        _multi(
            "ims",
            "Instant messaging addresses for the User.",
            ("aim", "gtalk", "icq", "xmpp", "msn", "skype", "qq", "yahoo"),
            _s("value", "Instant messaging address for the User."),
        ),
        _multi(
            "photos",
            "URLs of photos of the User.",
            ("photo", "thumbnail"),
            Attribute(
                "value",
                type="reference",
                reference_types=("external",),
                case_exact=True,
                description="URL of a photo of the User.",
            ),
        ),
        Attribute(
            "addresses",
            type="complex",
            multi_valued=True,
            description="A physical mailing address for this User.",
            sub_attributes=(
                _s("formatted", "The full mailing address, formatted for display."),
                _s("streetAddress", "The full street address component."),
                _s("locality", "The city or locality component."),
                _s("region", "The state or region component."),
                _s("postalCode", "The zip code or postal code component."),
                _s("country", "The country name component."),
                _s(
                    "type",
                    "A label indicating the address's function.",
                    canonical_values=("work", "home", "other"),
                ),
                Attribute("primary", type="boolean", description="The primary address."),
            ),
        ),
        Attribute(
            "groups",
            type="complex",
            multi_valued=True,
            mutability="readOnly",
            description="Groups the user belongs to (this provider serves no groups).",
            sub_attributes=(
                _s("value", "The identifier of the User's group.", mutability="readOnly"),
                Attribute(
                    "$ref",
                    type="reference",
                    reference_types=("Group",),
                    mutability="readOnly",
                    description="The URI of the group.",
                ),
                _s("display", "A human-readable name of the group.", mutability="readOnly"),
                _s(
                    "type",
                    "direct or indirect membership.",
                    mutability="readOnly",
                    canonical_values=("direct", "indirect"),
                ),
            ),
        ),
        _multi(
            "entitlements",
            "A list of entitlements for the User.",
            (),
            _s("value", "The value of an entitlement."),
        ),
        _multi("roles", "A list of roles for the User.", (), _s("value", "The value of a role.")),
        _multi(
            "x509Certificates",
            "A list of certificates issued to the User.",
            (),
            Attribute(
                "value",
                type="binary",
                case_exact=True,
                description="The value of an X.509 certificate.",
            ),
        ),
    )


def _enterprise_attributes() -> tuple[Attribute, ...]:
    e = ENTERPRISE_USER_SCHEMA
    return (
        Attribute("employeeNumber", description="Numeric or alphanumeric identifier.", schema=e),
        Attribute("costCenter", description="Identifies the name of a cost center.", schema=e),
        Attribute("organization", description="Identifies the name of an organization.", schema=e),
        Attribute("division", description="Identifies the name of a division.", schema=e),
        Attribute("department", description="Identifies the name of a department.", schema=e),
        Attribute(
            "manager",
            type="complex",
            description="The User's manager (Entra sends the manager's id as a plain string).",
            schema=e,
            sub_attributes=(
                Attribute(
                    "value", description="The id of the SCIM resource of the manager.", schema=e
                ),
                Attribute(
                    "$ref",
                    type="reference",
                    reference_types=("User",),
                    schema=e,
                    description="The URI of the SCIM resource of the manager.",
                ),
                Attribute(
                    "displayName",
                    mutability="readOnly",
                    schema=e,
                    description="The displayName of the User's manager.",
                ),
            ),
        ),
    )


_CORE_LOWER = CORE_USER_SCHEMA.lower()
_ENTERPRISE_LOWER = ENTERPRISE_USER_SCHEMA.lower()

COMMON = (
    Attribute(
        "id",
        case_exact=True,
        mutability="readOnly",
        returned="always",
        uniqueness="server",
        description="Unique identifier assigned by the provider.",
    ),
    Attribute(
        "externalId",
        case_exact=True,
        description="Identifier of the resource as defined by the provisioning client.",
    ),
)


@dataclass(frozen=True)
class UserSchema:
    """The User resource as this provider defines it: core attributes plus the enterprise extension.

    `overrides` lets an organization's rules (such as Nulab's) tighten an attribute and
    publish it, e.g. displayName required or roles' canonical values.
    """

    core: tuple[Attribute, ...] = field(default_factory=_core_attributes)
    enterprise: tuple[Attribute, ...] = field(default_factory=_enterprise_attributes)
    _core_index: dict[str, Attribute] = field(default_factory=dict, repr=False, compare=False)
    _enterprise_index: dict[str, Attribute] = field(default_factory=dict, repr=False, compare=False)

    def __post_init__(self) -> None:
        self._core_index.update({a.name.lower(): a for a in COMMON + self.core})
        self._enterprise_index.update({a.name.lower(): a for a in self.enterprise})

    def with_overrides(self, **changes: dict[str, Any]) -> UserSchema:
        """A copy where the named core attributes get new characteristics."""
        core = tuple(replace(a, **changes[a.name]) if a.name in changes else a for a in self.core)
        return UserSchema(core=core, enterprise=self.enterprise)

    def find(self, name: str, uri: str | None = None) -> Attribute | None:
        """The top-level attribute `name` (case-insensitive), optionally URN-qualified."""
        if uri is None:
            return self._core_index.get(name.lower())
        lowered_uri = uri.lower()
        if lowered_uri == _CORE_LOWER:
            return self._core_index.get(name.lower())
        if lowered_uri == _ENTERPRISE_LOWER:
            return self._enterprise_index.get(name.lower())
        return None

    def schemas_documents(self) -> list[dict[str, Any]]:
        """The /Schemas resources (RFC 7643 §7) for the core User and the enterprise extension."""
        return [
            {
                "schemas": [SCHEMA_SCHEMA],
                "id": CORE_USER_SCHEMA,
                "name": "User",
                "description": "User Account",
                "attributes": [a.to_scim() for a in COMMON[1:] + self.core],
                "meta": {"resourceType": "Schema", "location": f"/Schemas/{CORE_USER_SCHEMA}"},
            },
            {
                "schemas": [SCHEMA_SCHEMA],
                "id": ENTERPRISE_USER_SCHEMA,
                "name": "EnterpriseUser",
                "description": "Enterprise User",
                "attributes": [a.to_scim() for a in self.enterprise],
                "meta": {
                    "resourceType": "Schema",
                    "location": f"/Schemas/{ENTERPRISE_USER_SCHEMA}",
                },
            },
        ]

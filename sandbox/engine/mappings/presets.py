"""Provides the mapping presets: Entra's default user and group sets, and "Nulab Pass recommended".

The default sets are those of a non-gallery SCIM app ("customappsso"), row for row
(docs/entra-behaviour.md §5.1, §5.2); the Nulab preset follows section 6 of Nulab's "User
provisioning setup guide".
"""

from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType

from sandbox.engine.mappings.mapping import Mapping, direct, expression
from sandbox.engine.mappings.paths import ENTERPRISE_USER_SCHEMA

ACTIVE_EXPRESSION = 'Switch([IsSoftDeleted], , "False", "True", "True", "False")'
"""Entra's default `active` mapping: active unless IsSoftDeleted (unassigned, out of scope,
soft-deleted or sign-in blocked)."""

NULAB_TIMEZONE_EXPRESSION = (
    'Switch([country], "Asia/Tokyo", "United States", "America/New_York", '
    '"Netherlands", "Europe/Amsterdam")'
)
"""The time zone example from Nulab's guide: Tokyo unless the country says otherwise."""

ROLE_EXPRESSION = "SingleAppRoleAssignment([appRoleAssignments])"


@dataclass(frozen=True, slots=True)
class MappingPreset:
    """A named, ready-made mapping set."""

    key: str
    title: str
    object_type: str
    mappings: tuple[Mapping, ...]


def default_user_mappings() -> tuple[Mapping, ...]:
    """Entra's default user mappings for a non-gallery SCIM app (all Always)."""
    enterprise = ENTERPRISE_USER_SCHEMA
    return (
        direct("userName", "userPrincipalName", matching_precedence=1, required=True),
        expression("active", ACTIVE_EXPRESSION, required=True),
        direct("displayName", "displayName"),
        direct("title", "jobTitle"),
        direct('emails[type eq "work"].value', "mail"),
        direct("preferredLanguage", "preferredLanguage"),
        direct("name.givenName", "givenName"),
        direct("name.familyName", "surname"),
        expression("name.formatted", 'Join(" ", [givenName], [surname])'),
        direct('addresses[type eq "work"].formatted', "physicalDeliveryOfficeName"),
        direct('addresses[type eq "work"].streetAddress', "streetAddress"),
        direct('addresses[type eq "work"].locality', "city"),
        direct('addresses[type eq "work"].region', "state"),
        direct('addresses[type eq "work"].postalCode', "postalCode"),
        direct('addresses[type eq "work"].country', "country"),
        direct('phoneNumbers[type eq "work"].value', "telephoneNumber"),
        direct('phoneNumbers[type eq "mobile"].value', "mobile"),
        direct('phoneNumbers[type eq "fax"].value', "facsimileTelephoneNumber"),
        direct("externalId", "mailNickname"),
        direct(f"{enterprise}:employeeNumber", "employeeId"),
        direct(f"{enterprise}:department", "department"),
        direct(f"{enterprise}:manager", "manager"),
    )


def default_group_mappings() -> tuple[Mapping, ...]:
    """Entra's default group mappings: displayName (matching), externalId, members."""
    return (
        direct("displayName", "displayName", matching_precedence=1, required=True),
        direct("externalId", "objectId"),
        direct("members", "members"),
    )


def nulab_user_mappings() -> tuple[Mapping, ...]:
    """Nulab Pass recommended: match on mail, roles from the single app role assignment."""
    return (
        # Nulab guide, section 6: "Nulab Pass ... requires this to be mapped to the Managed
        # Account email. Use the user.mail attribute".
        direct("userName", "mail", matching_precedence=1, required=True),
        direct("externalId", "userPrincipalName"),
        direct("displayName", "displayName", required=True),
        direct("preferredLanguage", "preferredLanguage"),
        expression("timezone", NULAB_TIMEZONE_EXPRESSION),
        expression("active", ACTIVE_EXPRESSION, required=True),
        expression('roles[primary eq "True"].value', ROLE_EXPRESSION),
        direct('emails[type eq "work"].value', "mail"),
    )


PRESETS = MappingProxyType(
    {
        "default": MappingPreset(
            "default", "Entra default (non-gallery SCIM app)", "User", default_user_mappings()
        ),
        "nulab": MappingPreset("nulab", "Nulab Pass recommended", "User", nulab_user_mappings()),
        "groups": MappingPreset(
            "groups", "Entra default group mappings", "Group", default_group_mappings()
        ),
    }
)
"""Preset key -> MappingPreset."""

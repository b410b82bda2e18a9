"""Provides NulabRules: how Nulab Pass treats SCIM requests (the setup guide's rules).

Matching by email, eligibility of Managed Accounts, roles ADMIN/USER/GUEST, language and
time zone taken only on create, the guest-downgrade cascade on teams, the token issuer's
protections and the licence seat limit.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from sandbox.errors import ScimError
from sandbox.provider.org import (
    ELIGIBLE_SINCE,
    EMAIL,
    LANGUAGES,
    MEMBER_STORAGE,
    PROVISIONED,
    ROLES,
    Organization,
    demote_to_guest,
    is_eligible,
    is_timezone,
    language_code,
)
from sandbox.provider.rules import OrgRules, WritePlan
from sandbox.provider.schema import Attribute, UserSchema
from sandbox.provider.users import StoredUser
from sandbox.timestamps import format_timestamp, utc_now

DEFAULT_LANGUAGE = "en"
DEFAULT_TIMEZONE = "Asia/Tokyo"


def nulab_schema() -> UserSchema:
    """The User schema with Nulab's rules published (RFC 7643 §7 characteristics)."""
    base = UserSchema()
    roles = base.find("roles")
    assert roles is not None
    role_subs = tuple(
        replace(
            s,
            canonical_values=ROLES,
            description="The Managed Account's role: ADMIN, USER or GUEST (no role: GUEST).",
        )
        if s.name == "value"
        else s
        for s in roles.sub_attributes
    )
    return base.with_overrides(
        userName={"description": "The Managed Account's email; accounts are matched by it."},
        displayName={"required": True, "description": "The Managed Account's username."},
        # immutable (RFC 7643 §7): set on creation, never updated, as Nulab keeps them
        preferredLanguage={
            "canonical_values": ("en", "ja"),
            "mutability": "immutable",
            "description": "English or Japanese; taken only when the account is created "
            "(otherwise the token issuer's language). Ignored on update.",
        },
        timezone={
            "mutability": "immutable",
            "description": "IANA time zone; taken only when the account is created "
            "(otherwise the token issuer's time zone). Ignored on update.",
        },
        roles={"sub_attributes": role_subs},
    )


def role_of(doc: dict[str, Any], previous: str | None = None) -> str:
    """Nulab's one role from Entra's roles; none → GUEST.

    On update, a role other than the previous one wins (Entra's PATCH adds the new role
    beside the old one: `Add roles [{"value": "{...stringified...}"}]`); otherwise the
    primary value, else the last one given.
    """
    roles = [r for r in doc.get("roles", []) if isinstance(r, dict) and r.get("value")]
    if not roles:
        return "GUEST"
    if previous is not None:
        fresh = [r for r in roles if str(r["value"]).strip().upper() != previous]
        roles = fresh or roles
    chosen = next((r for r in roles if r.get("primary") is True), roles[-1])
    value = str(chosen["value"]).strip()
    if value.upper() not in ROLES:
        raise ScimError(
            400,
            f"role must be one of {', '.join(ROLES)} (case-insensitive), got {value!r}",
            "invalidValue",
        )
    return value.upper()


def _check_identity(doc: dict[str, Any]) -> None:
    if not EMAIL.match(str(doc.get("userName", ""))):
        raise ScimError(
            400,
            f"userName must be an email address (Nulab matches Managed Accounts by email),"
            f" got {doc.get('userName')!r}",
            "invalidValue",
        )
    display = doc.get("displayName")
    if not isinstance(display, str) or not display.strip():
        raise ScimError(400, "displayName (the username) is required", "invalidValue")


class NulabRules(OrgRules):
    """The organization's rules in front of the SCIM core."""

    storage = MEMBER_STORAGE  # the member columns; a deleted member leaves its teams

    def __init__(self, org: Organization, clock: Any = utc_now) -> None:
        self.org = org
        self.clock = clock

    # -- visibility: only eligible Managed Accounts exist for SCIM ------------------------

    def restrict_search(self, where: str, params: list[Any]) -> tuple[str, list[Any]]:
        clause = "users.kind = 'managed' AND users.org_updated >= ?"
        return (f"({where}) AND {clause}" if where else clause), [*params, ELIGIBLE_SINCE]

    def visible(self, user: StoredUser) -> StoredUser:
        if not is_eligible(user.org.get("kind"), user.org.get("org_updated")):
            raise ScimError(404, f"User {user.id} not found")
        return user

    # -- writes -------------------------------------------------------------------------

    def _issuer_defaults(self) -> tuple[str, str]:
        row = self.org.store.db.execute(
            "SELECT u.language, u.timezone FROM provider_state s JOIN users u"
            " ON u.id = json_extract(s.value, '$') WHERE s.key = 'token_issuer'"
        ).fetchone()
        language = (row[0] if row else None) or DEFAULT_LANGUAGE
        timezone = (row[1] if row else None) or DEFAULT_TIMEZONE
        return language, timezone

    def _seat_check(self, db: Any, user_id: str) -> None:
        limit = self.org.seat_limit
        if limit is not None and self.org.seats_used(db) > limit:
            raise ScimError(
                403,
                f"licence seat limit reached ({limit} active accounts); "
                "deactivate an account or raise the limit",
            )

    def plan_create(self, doc: dict[str, Any], notes: list[str]) -> WritePlan:
        _check_identity(doc)
        role = role_of(doc)
        language = language_code(doc.get("preferredLanguage"))
        timezone = doc.get("timezone")
        if language is None or not is_timezone(timezone):  # only then ask for the issuer's
            issuer_language, issuer_timezone = self._issuer_defaults()
        if language is None:
            language = issuer_language
            given = doc.get("preferredLanguage")
            what = "is absent" if given is None else f"{given!r} is not supported"
            notes.append(
                f"preferredLanguage {what}: the token issuer's language "
                f"({LANGUAGES[language]}) was used"
            )
        if not is_timezone(timezone):
            what = "is absent" if timezone is None else f"{timezone!r} is not an IANA time zone"
            notes.append(
                f"timezone {what}: the token issuer's time zone ({issuer_timezone}) was used"
            )
            timezone = issuer_timezone
        doc = {
            **doc,
            "preferredLanguage": language,
            "timezone": timezone,
            "roles": [{"primary": True, "value": role}],
        }
        org = {
            "kind": "managed",
            "label": PROVISIONED,
            "role": role,
            "language": language,
            "timezone": timezone,
            "org_updated": format_timestamp(self.clock()),
        }
        return WritePlan(doc, org, self._seat_check if doc.get("active", True) else None)

    def explain_conflict(self, doc: dict[str, Any]) -> ScimError | None:
        """Why the email is taken: a Nulab Account, or a Managed Account not eligible."""
        existing = self.org.store.db.execute(
            "SELECT kind, org_updated FROM users WHERE user_name_norm = ?",
            [str(doc.get("userName", "")).casefold()],
        ).fetchone()
        if existing is None:
            return None
        if existing[0] != "managed":
            return ScimError(
                409,
                f"{doc['userName']} belongs to a Nulab Account (not a Managed "
                "Account); it is never synchronized",
                "uniqueness",
            )
        if not is_eligible(*existing):
            return ScimError(
                409,
                f"{doc['userName']} belongs to a Managed Account last updated "
                f"before {ELIGIBLE_SINCE}, which is not eligible for provisioning; "
                "update it in the organization first",
                "uniqueness",
            )
        return None

    def plan_update(self, current: StoredUser, doc: dict[str, Any], notes: list[str]) -> WritePlan:
        _check_identity(doc)
        doc = dict(doc)
        # Guide, step 6: language and time zone are not updated when updating an account.
        for attribute, column in (("preferredLanguage", "language"), ("timezone", "timezone")):
            sent = doc.get(attribute)
            kept = current.org.get(column) or current.doc.get(attribute)
            if sent is not None and sent != kept:
                notes.append(
                    f"{attribute} {sent!r} ignored: it is set only when the account is created"
                )
            if kept is None:
                doc.pop(attribute, None)
            else:
                doc[attribute] = kept
        old_role = current.org.get("role") or "GUEST"
        role = role_of(doc, old_role)
        doc["roles"] = [{"primary": True, "value": role}]
        deactivating = current.doc.get("active", True) and not doc.get("active", True)
        activating = not current.doc.get("active", True) and doc.get("active", True)
        if current.id == self.org.store.get_state("token_issuer"):
            refused = (
                "have its role changed"
                if role != old_role
                else "be deactivated"
                if deactivating
                else None
            )
            if refused:
                raise ScimError(
                    403,
                    f"{current.doc['userName']} is the token issuer and cannot "
                    f"{refused}; another admin must reissue the token first",
                )
        effects = []
        if role == "GUEST" and old_role != "GUEST":
            effects.append(lambda db, uid: notes.extend(demote_to_guest(db, uid)))
            notes.append(f"role downgraded from {old_role} to GUEST")
        if activating:
            effects.append(self._seat_check)
        org = {"role": role, "label": PROVISIONED, "org_updated": format_timestamp(self.clock())}
        if doc == current.doc and current.org.get("label") == PROVISIONED:
            org = {}  # nothing changes: keep the version (and the eligibility date) as they are

        def run(db: Any, user_id: str) -> None:
            for effect in effects:
                effect(db, user_id)

        return WritePlan(doc, org, run if effects else None)

    def before_delete(self, user: StoredUser) -> None:
        if user.id == self.org.store.get_state("token_issuer"):
            raise ScimError(
                403,
                f"{user.doc['userName']} is the token issuer and cannot be "
                "deleted; another admin must reissue the token first",
            )


__all__ = ["NulabRules", "nulab_schema", "role_of", "Attribute"]

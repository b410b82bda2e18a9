"""Provides the names SCIM (RFC 7643, RFC 7644) and Entra's SCIM client give things: the schema
and message URNs, the application name in the provisioning log, the quarantine reasons;
standard library only, so every package may import it."""

from __future__ import annotations

APP = "customappsso"
"""How the provisioning log names a non-gallery SCIM application (its "customappsso
attribute"s, "User 'x' was created in customappsso")."""

CORE_USER_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:User"
"""The core User schema (RFC 7643 §4.1)."""
ENTERPRISE_USER_SCHEMA = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
"""The enterprise User extension (RFC 7643 §4.3)."""
CORE_GROUP_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:Group"
"""The core Group schema (RFC 7643 §4.2)."""

PATCH_OP = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
"""A PATCH request body (RFC 7644 §3.5.2)."""
LIST_RESPONSE = "urn:ietf:params:scim:api:messages:2.0:ListResponse"
"""A query response (RFC 7644 §3.4.2)."""
SEARCH_REQUEST = "urn:ietf:params:scim:api:messages:2.0:SearchRequest"
"""A query sent by POST to /.search (RFC 7644 §3.4.3)."""
ERROR = "urn:ietf:params:scim:api:messages:2.0:Error"
"""An error response body (RFC 7644 §3.12)."""
SCIM_JSON = "application/scim+json"
"""The SCIM media type (RFC 7644 §8.1)."""

# Graph "synchronizationQuarantine resource type", reason: EncounteredBaseEscrowThreshold,
# EncounteredTotalEscrowThreshold, EncounteredEscrowProportionThreshold,
# EncounteredQuarantineException, QuarantinedOnDemand, TooManyDeletes, Unknown (the beta enum
# adds IngestionInterrupted, which inbound provisioning alone meets). Reference §8.2.
BASE_ESCROW_THRESHOLD = "EncounteredBaseEscrowThreshold"
"""More than 40,000 objects failed (base escrows: reference failures not counted)."""
TOTAL_ESCROW_THRESHOLD = "EncounteredTotalEscrowThreshold"
"""More than 60,000 failures of any kind (reference failures included)."""
ESCROW_PROPORTION_THRESHOLD = "EncounteredEscrowProportionThreshold"
"""More than 40 % of the provisioning events failed."""
TOO_MANY_DELETES = "TooManyDeletes"
"""Accidental-deletion prevention held deletions back (§8.3)."""
QUARANTINED_ON_DEMAND = "QuarantinedOnDemand"
"""Microsoft put the job in quarantine by hand (the sandbox never does)."""
ENCOUNTERED_QUARANTINE = "EncounteredQuarantineException"
"""The quarantine reason Graph reports when the target refused the credentials (HTTP 401)."""
UNKNOWN_QUARANTINE = "Unknown"
"""The quarantine reason Graph reports for any other failure that quarantines the job."""


def quarantine_reason(status: int | None) -> str:
    """The job's quarantine reason for a failure that quarantines it, by its HTTP status
    (Graph synchronizationQuarantine.reason; docs/entra-behaviour.md §8.2)."""
    return ENCOUNTERED_QUARANTINE if status == 401 else UNKNOWN_QUARANTINE

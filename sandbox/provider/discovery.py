"""Provides the discovery documents: ServiceProviderConfig, ResourceTypes (RFC 7644 §4)."""

from __future__ import annotations

from typing import Any

from sandbox.config import Settings
from sandbox.provider.schema import RESOURCE_TYPE_SCHEMA, SPC_SCHEMA
from sandbox.scim_names import CORE_USER_SCHEMA, ENTERPRISE_USER_SCHEMA


def service_provider_config(settings: Settings) -> dict[str, Any]:
    """What the provider supports, truthfully: PATCH, filter, sort and ETags yes; bulk, password no."""
    return {
        "schemas": [SPC_SCHEMA],
        "patch": {"supported": True},
        "bulk": {"supported": False, "maxOperations": 0, "maxPayloadSize": 0},
        "filter": {"supported": True, "maxResults": settings.max_results},
        "changePassword": {"supported": False},
        "sort": {"supported": True},
        "etag": {"supported": True},
        "authenticationSchemes": [
            {
                "type": "oauthbearertoken",
                "name": "OAuth Bearer Token",
                "description": "The SCIM token issued on the provider's User Provisioning screen.",
                "specUri": "https://www.rfc-editor.org/rfc/rfc6750",
                "primary": True,
            }
        ],
        "meta": {"resourceType": "ServiceProviderConfig", "location": "/ServiceProviderConfig"},
    }


def resource_types() -> list[dict[str, Any]]:
    """The one resource type served: User with the enterprise extension (no Group)."""
    return [
        {
            "schemas": [RESOURCE_TYPE_SCHEMA],
            "id": "User",
            "name": "User",
            "endpoint": "/Users",
            "description": "User Account",
            "schema": CORE_USER_SCHEMA,
            "schemaExtensions": [{"schema": ENTERPRISE_USER_SCHEMA, "required": False}],
            "meta": {"resourceType": "ResourceType", "location": "/ResourceTypes/User"},
        }
    ]

"""SCIM provisioning sandbox: a Nulab-like SCIM service provider and a mock Entra ID engine."""

__version__ = "0.1.0"

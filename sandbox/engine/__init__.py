"""Provides the mock Entra ID provisioning engine: mappings, scoping, cycles, SCIM target, logs."""

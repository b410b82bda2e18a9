"""Provides what flows from the tenant to the target: attribute mappings (`mapping`: the value,
validation, compute, diff), their SCIM target paths (`paths`), the presets (`presets`), the
target attributes a mapping may write (`targets`) and scoping filters (`scoping`).

Pure: may import `sandbox.errors` and `sandbox.expressions`; imports no other room of the
engine, no store and no HTTP.
"""

"""Provides the mock Entra ID provisioning engine, in four rooms that import downwards only:

- `sync`: the provisioning job (service, job state, cycles, passes, links, logs, clock);
  may import `scim`, `mappings` and `tenant`.
- `scim`: Entra's SCIM client (target, status classification, wire bodies, transport);
  may import `mappings`.
- `mappings`: attribute mappings, presets, target paths and scoping filters; imports no
  other room.
- `tenant`: the tenant's directory, groups, seed, enterprise app and assignments; imports
  no other room.

import-linter's layers contract in pyproject.toml keeps the direction.
"""

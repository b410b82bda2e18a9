"""Provides Entra's SCIM client: the target (`target`: requests over httpx), what it reports
(`target_errors`), the request bodies and queries in both dialects (`wire`) and the
keep-alive HTTP transport (`transport`).

May import `sandbox.engine.mappings` (the changes a PATCH carries), `sandbox.errors` and
`sandbox.requestlog`; never `sync` or `tenant`.
"""

"""Provides the provisioning job: the service the CLI and TUI drive (`service`), its
configuration and state (`job`), one cycle end to end (`cycle`) with its user and group
passes (`users_pass`, `groups_pass`), the connector data store (`links`), provisioning logs
(`logs`), the simulated clock (`clock`) and the worker fan-out (`fanout`).

The top room: may import `scim`, `mappings` and `tenant`, `sandbox.store` and
`sandbox.requestlog`; nothing in the engine imports it.
"""

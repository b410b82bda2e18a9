"""Provides the mock Entra tenant: its directory of users and groups (`directory`, `groups`,
`model`), a seeded Faker tenant (`seed`), and the enterprise app with its assignments (`app`).

May import `sandbox.errors` and `sandbox.store`; imports no other room of the engine.
"""

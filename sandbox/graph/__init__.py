"""Provides the Microsoft Graph v1.0 surface of the mock Entra: create_graph_app(context,
token) over a GraphContext (the provisioning service and its tenant), served by `sandbox
entra graph` (graph/worker.py is the app its server's worker builds)."""

from sandbox.graph.app import API_PREFIX, SIDE, create_graph_app
from sandbox.graph.context import GraphContext

__all__ = ["API_PREFIX", "SIDE", "GraphContext", "create_graph_app"]

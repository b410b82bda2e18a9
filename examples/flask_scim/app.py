"""A small SCIM 2.0 service provider in Flask, enough for Entra (users and groups in memory,
examples/scim_memory.py): the example `sandbox check` and the pytest plugin are shown with.

Run it from the repository root: `SCIM_TOKEN=secret python -m examples.flask_scim.app` serves
http://127.0.0.1:8090/scim/v2.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, Response, jsonify, request

from examples.scim_memory import Answer, Resources
from examples.scim_memory import error as scim_error


def answer(result: Answer) -> Any:
    status, body = result
    if body is None:
        return Response(status=status)
    response = jsonify(body)
    response.status_code = status
    response.content_type = "application/scim+json"
    return response


def error(status: int, detail: str, scim_type: str | None = None) -> Any:
    """A SCIM error response."""
    return answer(scim_error(status, detail, scim_type))


def create_app(token: str) -> Flask:
    """The app: every route needs `Authorization: Bearer <token>`."""
    app = Flask(__name__)
    store = Resources()

    @app.before_request
    def authenticate() -> Any:
        if request.headers.get("Authorization") != f"Bearer {token}":
            return error(401, "invalid token")
        return None

    @app.get("/scim/v2/ResourceTypes")
    def resource_types() -> Any:
        return answer(store.resource_types())

    @app.get("/scim/v2/Schemas")
    def schemas() -> Any:
        return answer(store.schemas())

    @app.get("/scim/v2/ServiceProviderConfig")
    def service_provider_config() -> Any:
        return answer(store.service_provider_config())

    @app.get("/scim/v2/<kind>")
    def query(kind: str) -> Any:
        return answer(store.query(kind, request.args.to_dict()))

    @app.post("/scim/v2/<kind>")
    def create(kind: str) -> Any:
        return answer(store.create(kind, request.get_json(force=True)))

    @app.get("/scim/v2/<kind>/<rid>")
    def read(kind: str, rid: str) -> Any:
        return answer(store.read(kind, rid, request.args.to_dict()))

    @app.patch("/scim/v2/<kind>/<rid>")
    def patch(kind: str, rid: str) -> Any:
        return answer(store.patch(kind, rid, request.get_json(force=True)))

    @app.delete("/scim/v2/<kind>/<rid>")
    def delete(kind: str, rid: str) -> Any:
        return answer(store.delete(kind, rid))

    return app


if __name__ == "__main__":
    import os

    create_app(os.environ.get("SCIM_TOKEN", "secret")).run(port=int(os.environ.get("PORT", 8090)))

"""A small SCIM 2.0 service provider in FastAPI, enough for Entra (users and groups in
memory, examples/scim_memory.py): the ASGI example of the pytest plugin.

Run it: `uvicorn --factory examples.fastapi_scim.app:from_env --port 8091`.
"""

from __future__ import annotations

import os
from typing import Any

from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse

from examples.scim_memory import Answer, Resources, error


def answer(result: Answer) -> Response:
    status, body = result
    if body is None:
        return Response(status_code=status)
    return JSONResponse(body, status_code=status, media_type="application/scim+json")


def create_app(token: str) -> FastAPI:
    """The app: every route needs `Authorization: Bearer <token>`."""
    app = FastAPI()
    store = Resources()

    @app.middleware("http")
    async def authenticate(request: Request, call_next: Any) -> Response:
        if request.headers.get("authorization") != f"Bearer {token}":
            return answer(error(401, "invalid token"))
        response: Response = await call_next(request)
        return response

    @app.get("/scim/v2/ResourceTypes")
    def resource_types() -> Response:
        return answer(store.resource_types())

    @app.get("/scim/v2/Schemas")
    def schemas() -> Response:
        return answer(store.schemas())

    @app.get("/scim/v2/ServiceProviderConfig")
    def service_provider_config() -> Response:
        return answer(store.service_provider_config())

    @app.get("/scim/v2/{kind}")
    def query(kind: str, request: Request) -> Response:
        return answer(store.query(kind, dict(request.query_params)))

    @app.post("/scim/v2/{kind}")
    async def create(kind: str, request: Request) -> Response:
        return answer(store.create(kind, await request.json()))

    @app.get("/scim/v2/{kind}/{rid}")
    def read(kind: str, rid: str, request: Request) -> Response:
        return answer(store.read(kind, rid, dict(request.query_params)))

    @app.patch("/scim/v2/{kind}/{rid}")
    async def patch(kind: str, rid: str, request: Request) -> Response:
        return answer(store.patch(kind, rid, await request.json()))

    @app.delete("/scim/v2/{kind}/{rid}")
    def delete(kind: str, rid: str) -> Response:
        return answer(store.delete(kind, rid))

    return app


def from_env() -> FastAPI:
    """The app with the token in SCIM_TOKEN (for uvicorn --factory)."""
    return create_app(os.environ.get("SCIM_TOKEN", "secret"))

"""The local page: Starlette routes over ``handlers`` and the static files, served by uvicorn.

Requests are bounded (the query string, the uploaded body) before any work is done; only
loopback host names are accepted unless the server was started on another host.
"""

from __future__ import annotations

import json
from pathlib import Path

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from . import handlers

__all__ = ["create_app"]

STATIC = Path(__file__).with_name("static")
LOOPBACK = ["127.0.0.1", "localhost", "[::1]", "::1"]


def too_large(what: str, limit: int) -> JSONResponse:
    return JSONResponse({"error": f"the {what} is larger than {limit} bytes. Fix: a smaller one."}, status_code=413)


def respond(status: int, content_type: str, body) -> Response:
    if isinstance(body, dict):
        return Response(json.dumps(body), status_code=status, media_type="application/json")
    return Response(body, status_code=status, media_type=content_type)


def endpoint(handler):
    """A Starlette endpoint for a query handler (the query string bounded first)."""

    async def run(request: Request) -> Response:
        if len(request.url.query) > handlers.MAX_QUERY:
            return too_large("query string", handlers.MAX_QUERY)
        return respond(*handler(dict(request.query_params)))

    return run


async def cell(request: Request) -> Response:
    """GET: worksheet with random values; POST: with the uploaded input (.npy body)."""
    if len(request.url.query) > handlers.MAX_QUERY:
        return too_large("query string", handlers.MAX_QUERY)
    upload = None
    if request.method == "POST":
        declared = request.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > handlers.MAX_BODY:
            return too_large("uploaded input", handlers.MAX_BODY)
        chunks, size = [], 0
        async for chunk in request.stream():
            size += len(chunk)
            if size > handlers.MAX_BODY:
                return too_large("uploaded input", handlers.MAX_BODY)
            chunks.append(chunk)
        upload = b"".join(chunks)
    return respond(*handlers.cell(dict(request.query_params), upload))


async def index(request: Request) -> Response:
    return FileResponse(STATIC / "index.html", media_type="text/html")


def create_app(host: str = "127.0.0.1") -> Starlette:
    """The page's app; requests must name a loopback host (or ``host`` itself)."""
    allowed = LOOPBACK if host in LOOPBACK else [*LOOPBACK, host] if host not in ("0.0.0.0", "::") else ["*"]
    routes = [
        Route("/", index),
        Route("/api/shape", endpoint(handlers.shape)),
        Route("/api/draw", endpoint(handlers.draw)),
        Route("/api/edit", endpoint(handlers.edit)),
        Route("/api/cell", cell, methods=["GET", "POST"]),
        Mount("/static", StaticFiles(directory=STATIC), name="static"),
    ]
    return Starlette(routes=routes, middleware=[Middleware(TrustedHostMiddleware, allowed_hosts=allowed)])

"""The dashboard: ``GET /`` (an HTML page, in /openapi.json as text/html) and its files under
``/static/`` (frontends/static: plain files shipped in the package, no build step, no CDN).

The static files are deliberately not in /openapi.json: they are the page's own code and style,
not part of the API, and /openapi.json says so in its description. A missing file answers the
usual JSON 404. The page reads the API like any client (docs/DASHBOARD.md).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from starlette.responses import Response
from starlette.routing import Mount
from starlette.staticfiles import StaticFiles

from frontends.http_api.routing import Endpoint

if TYPE_CHECKING:
    import os

    from starlette.requests import Request
    from starlette.types import Scope

    from engine.runtime import Runtime

STATIC_DIR = Path(__file__).resolve().parent.parent / "static"
STATIC_PREFIX = "/static"

# the page loads only its own files and talks only to this origin (fetch and the /ws WebSocket);
# no inline script or style, so an injected string can never run
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; "
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)
PAGE_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-cache",
}


class AssetFiles(StaticFiles):
    """StaticFiles that has browsers revalidate (ETag / Last-Modified: a 304 costs little), so a
    page served after an upgrade never runs yesterday's script."""

    def file_response(
        self, full_path: os.PathLike[str] | str, stat_result: os.stat_result, scope: Scope, status_code: int = 200
    ) -> Response:
        response = super().file_response(full_path, stat_result, scope, status_code)
        response.headers["Cache-Control"] = "no-cache"
        response.headers["X-Content-Type-Options"] = "nosniff"
        return response


def endpoints(rt: Runtime) -> list[Endpoint]:
    page = (STATIC_DIR / "index.html").read_bytes()

    async def index(request: Request) -> Response:
        return Response(page, media_type="text/html; charset=utf-8", headers=PAGE_HEADERS)

    return [
        Endpoint(
            "GET",
            "/",
            index,
            "The live dashboard (an HTML page; its files under /static/ are not API routes)",
            None,
            content_type="text/html",
        ),
    ]


def static_files() -> Mount:
    return Mount(STATIC_PREFIX, app=AssetFiles(directory=STATIC_DIR), name="static")

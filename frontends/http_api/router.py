"""GroupedRouter: Starlette's Router, matching a request only against the routes of its path prefix.

Starlette tries every route in order, and one Route.matches() costs ~2 us here (measured: 79 us for
40 routes that do not match). With the storage, job and key routes that is most of a request's
budget, so routes are grouped by their first literal path segments (``/api/v1/storage``) and a
request scans its own group; the 404 answer and the route scope are Starlette's own. A 405 is ours:
Starlette's names only the methods of the first route that matched the path, so ``Allow`` on
``GET /api/v1/storage/schedules/1`` said PATCH though DELETE works too; here it names every method
of every route of that path (HEAD wherever GET, as Starlette's Route adds it).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from starlette.exceptions import HTTPException
from starlette.routing import BaseRoute, Match, Router

if TYPE_CHECKING:
    from collections.abc import Sequence

    from starlette.types import Receive, Scope, Send

PREFIX_SEGMENTS = 3  # "/api/v1/<domain>"


def _prefix(path: str) -> tuple[str, ...]:
    segments = path.split("/")[1 : PREFIX_SEGMENTS + 1]
    literal = []
    for segment in segments:
        if "{" in segment:
            break
        literal.append(segment)
    return tuple(literal)


class GroupedRouter(Router):
    def __init__(self, routes: Sequence[BaseRoute]) -> None:
        super().__init__(routes=list(routes), redirect_slashes=False)
        self._groups: dict[tuple[str, ...], list[BaseRoute]] = {}
        for route in self.routes:
            key = _prefix(getattr(route, "path", ""))
            self._groups.setdefault(key, []).append(route)

    def _candidates(self, path: str) -> list[BaseRoute]:
        segments = tuple(path.split("/")[1 : PREFIX_SEGMENTS + 1])
        for n in range(len(segments), -1, -1):
            group = self._groups.get(segments[:n])
            if group is not None:
                return group
        return []

    async def app(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await super().app(scope, receive, send)
            return
        scope.setdefault("router", self)
        allowed: set[str] = set()
        for route in self._candidates(scope["path"]):
            match, child_scope = route.matches(scope)
            if match is Match.FULL:
                scope["route"] = route
                scope.update(child_scope)
                await route.handle(scope, receive, send)
                return
            if match is Match.PARTIAL:  # the path is this route's, for another method
                allowed |= getattr(route, "methods", None) or set()
        if allowed:
            raise HTTPException(405, headers={"Allow": ", ".join(sorted(allowed))})
        await self.default(scope, receive, send)

"""GroupedRouter: Starlette's Router, matching a request only against the routes of its path prefix.

Starlette tries every route in order, and one Route.matches() costs ~2 us here (measured: 79 us for
40 routes that do not match). With the storage, job and key routes that is most of a request's
budget, so routes are grouped by their first literal path segments (``/api/v1/storage``) and a
request scans its own group; the 404/405 answers and the route scope are Starlette's own.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

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
        partial = partial_scope = None
        for route in self._candidates(scope["path"]):
            match, child_scope = route.matches(scope)
            if match is Match.FULL:
                scope["route"] = route
                scope.update(child_scope)
                await route.handle(scope, receive, send)
                return
            if match is Match.PARTIAL and partial is None:
                partial, partial_scope = route, child_scope
        if partial is not None and partial_scope is not None:  # e.g. the path exists for another method: 405
            scope["route"] = partial
            scope.update(partial_scope)
            await partial.handle(scope, receive, send)
            return
        await self.default(scope, receive, send)

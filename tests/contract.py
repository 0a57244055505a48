"""Checking an HTTP answer against the schema /openapi.json gives for its route and status."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import jsonschema

if TYPE_CHECKING:
    import httpx


def check(document: dict[str, Any], path: str, method: str, response: httpx.Response) -> Any:
    """Validate ``response`` against the schema /openapi.json gives for its status; returns the body."""
    operation = document["paths"][path][method]
    described = operation["responses"].get(str(response.status_code))
    assert described is not None, (
        f"{method.upper()} {path} answered {response.status_code}, not in the document: {response.text[:300]}"
    )
    schema = described["content"]["application/json"]["schema"]
    body = response.json()
    jsonschema.validate(body, {**schema, "components": document["components"]})
    return body

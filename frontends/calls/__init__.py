"""Each domain's RPCs as one table: request message -> the domain call -> the answer's message.

Both transports use a domain's table. gRPC hands over the request it received (a servicer is built
from the table: a missing entry fails at import); HTTP builds the very same request message from the
path, the query and the JSON body. So a route and its RPC take the same fields, call the same domain
method and answer the same message: they cannot drift apart.
"""

from __future__ import annotations

from frontends.calls.table import Call, now

__all__ = ["Call", "now"]

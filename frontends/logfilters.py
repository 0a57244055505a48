"""Filters on uvicorn's "uvicorn.error" logger (which the websockets protocol it runs logs to), so
that what a client sends never reaches the engine's log as a secret or as a flood:

- ``RedactCredentials``: with SIGMAVAULT_DEBUG the WebSocket handshake is logged header by header,
  ``authorization: Bearer <token>`` included (found by tests/frontends/test_security.py's grep).
- ``OneLineClientErrors``: a client's invalid UTF-8 frame was logged with a full traceback (the
  connection is closed 1007 all the same; found by the WebSocket fuzzer, perf/fuzz/ws_cases.py).
"""

from __future__ import annotations

import logging
import re

_CREDENTIAL = re.compile(r"(?i)\b((?:proxy-)?authorization\b\W*)(?:\w+\s+)?\S+")
_LOGGER = "uvicorn.error"


class RedactCredentials(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if "uthorization" in message:
            record.msg, record.args = _CREDENTIAL.sub(r"\1<redacted>", message), ()
        return True


class OneLineClientErrors(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if record.exc_info and str(record.msg).startswith("Invalid UTF-8"):
            record.exc_info = None
        return True


def install() -> None:
    """Idempotent: a restarted frontend (or a second app in one process) adds each filter once."""
    logger = logging.getLogger(_LOGGER)
    for kind in (RedactCredentials, OneLineClientErrors):
        if not any(isinstance(f, kind) for f in logger.filters):
            logger.addFilter(kind())

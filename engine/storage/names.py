"""Names the caller gives (pool, volume, snapshot, label) and the confirmation of destructive calls.

A name becomes a path component (``<pool root>/<pool>/<volume>``), a btrfs label and a ZFS dataset
component, so it must be safe as all three. Every refusal names the rule it broke.
"""

from __future__ import annotations

import re
import unicodedata

from engine.errors import InvalidArgument

MAX_NAME_BYTES = 64
# The characters ZFS allows in a dataset component; btrfs and paths accept all of them.
_ALLOWED = re.compile(r"[A-Za-z0-9_.:\- ]+")


def _refuse(what: str, name: str, rule: str, detail: str) -> InvalidArgument:
    return InvalidArgument(
        f"{what} name {name!r} is refused: {detail}", code="invalid_name", metadata={"rule": rule, "field": what}
    )


def check_name(name: str, what: str = "pool") -> str:
    """``name`` if it is a safe pool/volume/snapshot name, else InvalidArgument naming the rule."""
    if not isinstance(name, str) or not name:
        raise _refuse(what, str(name), "empty", "a name is required")
    if len(name.encode()) > MAX_NAME_BYTES:
        raise _refuse(what, name, "too_long", f"longer than {MAX_NAME_BYTES} bytes")
    if "/" in name:
        raise _refuse(what, name, "slash", "'/' would make it a path")
    if ".." in name or name == ".":
        raise _refuse(what, name, "dot_dot", "'..' and '.' are path traversal")
    if any(unicodedata.category(ch) == "Cc" for ch in name):
        raise _refuse(what, name, "control_character", "it contains a control character")
    if name.startswith((".", "-")):
        detail = "it may not start with '.' (reserved for the engine's own entries) or '-' (read as an option)"
        raise _refuse(what, name, "leading_dot_or_dash", detail)
    if name != name.strip():
        raise _refuse(what, name, "surrounding_space", "it starts or ends with a space")
    if not _ALLOWED.fullmatch(name):
        raise _refuse(what, name, "characters", "only letters, digits, '_', '-', '.', ':' and space are allowed")
    return name


def require_confirm(confirm: str | None, target: str, action: str) -> None:
    """Destructive calls carry ``confirm`` equal to the target's name, so a slip cannot destroy data."""
    if confirm != target:
        raise InvalidArgument(
            f"{action} {target!r} needs confirm={target!r} (the target's name) to proceed",
            code="confirmation_required",
            metadata={"target": target, "action": action},
        )

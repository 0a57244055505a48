"""Storage routes under /api/v1/storage: pools, devices, scrub, volumes, snapshots, schedules, disks
and SMART, and the jobs of long operations.

Each route is one StorageService RPC (frontends/calls/storage.py): its request message is built
from the path (``{name}`` is the pool, ``{volume}``, ``{snapshot}``, ``{disk}``, ``{id}`` the schedule,
``{job_id}`` the job), the query (DELETE routes take ``confirm`` there, or in a JSON body) and the
JSON body, and its answer is the RPC's response message as JSON.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from google.protobuf.descriptor import FieldDescriptor

from engine.errors import BadRequest, NotFound
from frontends.audit import note_target
from frontends.calls.storage import CALLS
from frontends.http_api.calls import answer
from frontends.http_api.routing import NAME_PARAM, Endpoint, Query, read_json
from frontends.schema import parse_body

if TYPE_CHECKING:
    from starlette.requests import Request
    from starlette.responses import Response

    from engine.runtime import Runtime

BODY_LIMIT = 64 * 1024
# path parameter -> (request field, JSON schema)
PATH_FIELDS: dict[str, tuple[str, dict[str, Any]]] = {
    "name": ("pool", {**NAME_PARAM, "description": "the pool's name"}),
    "volume": ("volume", NAME_PARAM),
    "snapshot": ("snapshot", NAME_PARAM),
    "disk": (
        "disk",
        {
            "type": "string",
            "minLength": 1,
            "maxLength": 64,
            "description": "a block device's kernel name, e.g. sda, nvme0n1, vda",
        },
    ),
    "id": ("id", {"type": "integer", "minimum": 1, "maximum": 2**53}),
    "job_id": ("id", {"type": "string", "minLength": 1, "maxLength": 64, "description": "a job id, job-..."}),
}
ERRORS = (404, 409, 422, 501)  # 404: a pool, volume, disk or job named in the body may not exist
CONFIRM = Query("confirm", {"type": "string"}, "the target's name, as the body's confirm field")
_F = FieldDescriptor
_TRUE, _FALSE = ("1", "true", "yes", "on"), ("0", "false", "no", "off", "")


def _convert(field: FieldDescriptor, raw: str) -> Any:
    """A path or query value as the request field's type; a bad one is a 400 naming the field."""
    if field.type == _F.TYPE_STRING:
        return raw
    if field.type == _F.TYPE_BOOL and raw.lower() in _TRUE + _FALSE:
        return raw.lower() in _TRUE
    if field.type != _F.TYPE_BOOL and raw.isdigit() and len(raw) <= 15:
        return int(raw)
    raise BadRequest(
        f"{field.name} must be {'a boolean' if field.type == _F.TYPE_BOOL else 'an integer'}, got {raw!r}",
        metadata={"field": field.name},
    )


def route(
    rt: Runtime,
    method: str,
    path: str,
    rpc: str,
    summary: str,
    *,
    body: bool = False,
    required: tuple[str, ...] = (),
    query: tuple[Query, ...] = (),
) -> Endpoint:
    """The Endpoint of one RPC. ``body``: a JSON body of the request's remaining fields (left out
    of DELETE routes, which take their few fields from the query as well)."""
    call = CALLS[rpc]
    descriptor = call.request.DESCRIPTOR
    params = [p for p in PATH_FIELDS if "{" + p + "}" in path]
    exclude = tuple(PATH_FIELDS[p][0] for p in params)
    allowed = tuple(f.name for f in descriptor.fields if f.name not in exclude)
    body_optional = method == "DELETE" or (body and not required)

    async def handler(request: Request) -> Response:
        note_target(**{PATH_FIELDS[p][0]: request.path_params[p] for p in params})  # until the message is built
        doc = await read_json(request, BODY_LIMIT) if body else {}
        message: Any = parse_body(doc, call.request, allowed=allowed, required=required)
        for param in params:
            field = descriptor.fields_by_name[PATH_FIELDS[param][0]]
            try:
                setattr(message, field.name, _convert(field, request.path_params[param]))
            except BadRequest:
                raise NotFound(f"no {param} {request.path_params[param]!r}: it is an integer") from None
        for q in query:
            raw = request.query_params.get(q.name)
            if raw is not None and q.name in descriptor.fields_by_name:
                setattr(message, q.name, _convert(descriptor.fields_by_name[q.name], raw))
        note_target(message)  # the target gRPC's audit entry names for the same request
        return await answer(rt, call, message)

    return Endpoint(
        method,
        path,
        handler,
        summary,
        call.response.DESCRIPTOR,
        request=descriptor if body else None,
        exclude=exclude,
        required=required,
        query=query,
        errors=ERRORS,
        path_schemas=tuple((p, PATH_FIELDS[p][1]) for p in params),
        body_optional=body_optional,
        call=f"storage.{rpc}",
        path_fields=tuple((p, PATH_FIELDS[p][0]) for p in params),
    )


def endpoints(rt: Runtime) -> list[Endpoint]:
    pools, pool = "/api/v1/storage/pools", "/api/v1/storage/pools/{name}"
    volume = pool + "/volumes/{volume}"
    snapshot = volume + "/snapshots/{snapshot}"
    boolean = {"type": "boolean"}
    return [
        route(rt, "GET", pools, "ListPools", "Pools: Btrfs, ZFS and md RAID, with members, errors and last scrub"),
        route(
            rt,
            "POST",
            pools,
            "CreatePool",
            "Create a pool over devices, mounted under SIGMAVAULT_POOL_ROOT",
            body=True,
            required=("name", "devices"),
        ),
        route(rt, "GET", pool, "GetPool", "One pool"),
        route(
            rt,
            "DELETE",
            pool,
            "DestroyPool",
            "Destroy a pool (confirm = its name); its devices are wiped",
            body=True,
            query=(CONFIRM,),
        ),
        route(
            rt, "POST", pool + "/import", "ImportPool", "Mount a pool (remembered: mounted again at start)", body=True
        ),
        route(rt, "POST", pool + "/export", "ExportPool", "Unmount a pool (not mounted again at start)"),
        route(rt, "POST", pool + "/devices", "AddDevice", "Add a device", body=True, required=("device",)),
        route(
            rt,
            "DELETE",
            pool + "/devices",
            "RemoveDevice",
            "Remove a device (confirm = the device as given); its data moves off as a job",
            body=True,
            query=(Query("device", {"type": "string"}), CONFIRM),
        ),
        route(
            rt,
            "POST",
            pool + "/replace",
            "ReplaceDevice",
            "Replace a device by a new one, as a job",
            body=True,
            required=("old_device", "new_device"),
        ),
        route(rt, "POST", pool + "/balance", "Balance", "Balance or convert profiles, as a job", body=True),
        route(rt, "POST", pool + "/scrub", "StartScrub", "Start a scrub, as a job"),
        route(rt, "GET", pool + "/scrub", "GetScrubStatus", "Scrub progress and errors found / corrected"),
        route(rt, "DELETE", pool + "/scrub", "CancelScrub", "Cancel the running scrub"),
        route(rt, "GET", pool + "/volumes", "ListVolumes", "Volumes with referenced and exclusive bytes"),
        route(
            rt,
            "POST",
            pool + "/volumes",
            "CreateVolume",
            "Create a volume (optional quota)",
            body=True,
            required=("volume",),
        ),
        route(
            rt,
            "DELETE",
            volume,
            "DeleteVolume",
            "Delete a volume (confirm = its name)",
            body=True,
            query=(CONFIRM, Query("with_snapshots", boolean, "also delete its snapshots")),
        ),
        route(
            rt,
            "PUT",
            volume + "/quota",
            "SetQuota",
            "Set or clear (0) a volume's quota",
            body=True,
            required=("quota_bytes",),
        ),
        route(
            rt,
            "GET",
            pool + "/snapshots",
            "ListSnapshots",
            "Snapshots of every volume of the pool",
            query=(Query("volume", {"type": "string"}, "only this volume's"),),
        ),
        route(rt, "GET", volume + "/snapshots", "ListSnapshots", "Snapshots of one volume"),
        route(
            rt,
            "POST",
            volume + "/snapshots",
            "CreateSnapshot",
            "Take a read-only snapshot",
            body=True,
            required=("snapshot",),
        ),
        route(
            rt,
            "DELETE",
            snapshot,
            "DeleteSnapshot",
            "Delete a snapshot (confirm = its name)",
            body=True,
            query=(CONFIRM,),
        ),
        route(
            rt,
            "POST",
            snapshot + "/rollback",
            "RollbackVolume",
            "Roll the volume back to the snapshot (confirm = the volume's name)",
            body=True,
            query=(CONFIRM,),
        ),
        route(
            rt,
            "POST",
            snapshot + "/clone",
            "CloneSnapshot",
            "A new writable volume from the snapshot",
            body=True,
            required=("new_volume",),
        ),
        route(rt, "GET", "/api/v1/storage/schedules", "ListSchedules", "Snapshot schedules with their next run"),
        route(
            rt,
            "POST",
            "/api/v1/storage/schedules",
            "CreateSchedule",
            "A periodic snapshot with retention",
            body=True,
            required=("pool", "volume", "keep"),
        ),
        route(
            rt, "PATCH", "/api/v1/storage/schedules/{id}", "UpdateSchedule", "Enable, disable or change keep", body=True
        ),
        route(rt, "DELETE", "/api/v1/storage/schedules/{id}", "DeleteSchedule", "Delete a schedule"),
        route(rt, "GET", "/api/v1/storage/disks", "ListDisks", "Block devices with I/O counters and SMART health"),
        route(
            rt,
            "GET",
            "/api/v1/storage/disks/{disk}/smart",
            "GetSmart",
            "A disk's SMART (available: false if none)",
            query=(Query("extended", boolean, "smartctl -x instead of -a"),),
        ),
        route(
            rt,
            "POST",
            "/api/v1/storage/disks/{disk}/selftest",
            "StartSelfTest",
            "Start a short or long self-test",
            body=True,
        ),
        route(
            rt,
            "GET",
            "/api/v1/storage/jobs",
            "ListJobs",
            "Storage jobs, newest first",
            query=(Query("limit", {"type": "integer", "minimum": 0, "maximum": 1000}, "0: 50"),),
        ),
        route(rt, "GET", "/api/v1/storage/jobs/{job_id}", "GetJob", "One storage job"),
        route(rt, "DELETE", "/api/v1/storage/jobs/{job_id}", "CancelJob", "Cancel a storage job"),
    ]

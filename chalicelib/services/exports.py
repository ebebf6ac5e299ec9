"""POST /me/export, GET /me/export/{export_id}: everything stored about the caller, as one JSON file
in the media bucket behind a presigned GET URL that expires within the hour.

The work is a resumable job (`services.jobs`), one per user (`export#<user_id>`, its `ref` the
export id): asked again while it runs, it answers with the same export. Each GATHER step reads the
next pages of the registry's reaches (`services.personal_data`: a key or an index per table, no
full-table read) up to `ROWS_PER_STEP` rows or `QUERIES_PER_STEP` queries, and writes them as one part object
named by its step (a redone step rewrites the same part). The ASSEMBLE step joins the parts (and
the list of the user's uploads) into `exports/<user>/<export>.json` and deletes them. A step that
fails for any reason ends the job as `failed`; asking again starts a new export.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from chalicelib.auth import Caller
from chalicelib.domain.ids import new_id, now_iso
from chalicelib.errors import NotFound
from chalicelib.models.base import save_if
from chalicelib.models.jobs import Job
from chalicelib.schemas import lazy_models
from chalicelib.services import jobs
from chalicelib.services.personal_data import REGISTRY, Reach

if TYPE_CHECKING:
    from chalicelib.schemas.account import ExportOut, ExportStatusOut, JobStatus
else:
    (
        ExportOut, ExportStatusOut, JobStatus,
    ) = lazy_models(
        "chalicelib.schemas.account",
        "ExportOut", "ExportStatusOut", "JobStatus",
    )

EXPORT_JOB = "export-account"
EXPORT_PREFIX = "exports/"
GATHER, ASSEMBLE = "gather", "assemble"
FAILED: JobStatus = "failed"
ROWS_PER_STEP = 1000
QUERIES_PER_STEP = 16
PAGE_SIZE = 100  # rows a Query page asks for: one BatchGetItem when the index holds keys only
URL_SECONDS = 15 * 60  # a presigned URL's life: within the hour the contract allows


def job_id_of(user_id: str) -> str:
    return f"export#{user_id}"


def object_key(user_id: str, export_id: str) -> str:
    return f"{EXPORT_PREFIX}{user_id}/{export_id}.json"


def _part_prefix(user_id: str, export_id: str) -> str:
    return f"{EXPORT_PREFIX}{user_id}/{export_id}/"


# -- the requests ---------------------------------------------------------------------------------
def request_export(caller: Caller) -> ExportOut:
    """A new export, or the one still running (the same id); a racing second request gets the first's."""
    job_id = job_id_of(caller.user_id)
    found = jobs.status(job_id)
    if found is not None and not found.done and found.ref:
        return ExportOut(export_id=found.ref, status=_status_of(found))
    job = Job(job_id, kind=EXPORT_JOB, subject=caller.user_id, generation="0", phase=GATHER, cursor=None, steps=0,
              processed=0, done=False, created_at=now_iso(), ref=new_id())
    if save_if(job, Job.job_id.does_not_exist() | (Job.done == True)):  # noqa: E712
        return ExportOut(export_id=str(job.ref), status="pending")
    found = jobs.status(job_id)
    assert found is not None and found.ref
    return ExportOut(export_id=found.ref, status=_status_of(found))


def _status_of(job: Job) -> JobStatus:
    if job.done:
        return FAILED if job.phase == FAILED else "done"
    return "running" if int(job.steps or 0) > 0 else "pending"


def export_status(caller: Caller, export_id: str) -> ExportStatusOut:
    """The caller's export by id; anyone else's (or an older one, superseded) is 404."""
    job = jobs.status(job_id_of(caller.user_id))
    if job is None or job.ref != export_id:
        raise NotFound(f"No export {export_id}")
    status = _status_of(job)
    if status != "done":
        return ExportStatusOut(export_id=export_id, status=status)
    from chalicelib.config import get_settings
    from chalicelib.services.uploads import s3_client

    url = s3_client().generate_presigned_url(
        "get_object", ExpiresIn=URL_SECONDS,
        Params={"Bucket": get_settings().media_bucket, "Key": object_key(caller.user_id, export_id),
                "ResponseContentType": "application/json"})
    return ExportStatusOut(export_id=export_id, status=status, url=url, url_expires_in=URL_SECONDS)


def cancel(user_id: str) -> bool:
    """End the user's running export as `failed` (an erasure began): its next step does not run, and
    the erasure's uploads phase, which comes late, removes whatever a step in flight wrote."""
    from chalicelib.domain.ids import epoch_seconds
    from chalicelib.models.base import update_if

    return update_if(Job(job_id_of(user_id)),
                     actions=[Job.done.set(True), Job.phase.set(FAILED), Job.finished_at.set(now_iso()),
                              Job.expires_at.set(epoch_seconds() + jobs.JOB_TTL_SECONDS)],
                     condition=Job.job_id.exists() & (Job.done == False))  # noqa: E712


# -- the job ----------------------------------------------------------------------------------------
def plain(item) -> dict[str, Any]:
    """An item as JSON-ready Python: numbers as int or float, sets as sorted lists."""
    from boto3.dynamodb.types import TypeDeserializer

    deserializer = TypeDeserializer()
    serialized = item.serialize(null_check=False)
    return {name: _jsonable(deserializer.deserialize(value)) for name, value in serialized.items()}


def _jsonable(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, (set, frozenset)):
        return sorted(_jsonable(v) for v in value)
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return value


def _full_items(reach: Reach, rows: list) -> list:
    """A KEYS_ONLY index's rows, read in full from the table (BatchGetItem, 100 keys a call)."""
    if not reach.keys_only or not rows:
        return rows
    model = reach.model
    hash_name = model._hash_keyname
    range_name = model._range_keyname
    keys = [(getattr(row, hash_name), getattr(row, range_name)) if range_name else getattr(row, hash_name)
            for row in rows]
    return list(model.batch_get(keys))


def _reaches() -> list[tuple[str, Reach]]:
    return list(REGISTRY.reaches())


def _gather(job: Job) -> jobs.StepResult:
    user_id = job.subject
    reaches = _reaches()
    position = jobs.cursor_of(job) or {"r": 0, "k": 0, "after": None}
    r, k, after = int(position["r"]), int(position["k"]), position.get("after")
    gathered: dict[str, list] = {}
    rows_read = queries = 0
    while r < len(reaches) and rows_read < ROWS_PER_STEP and queries < QUERIES_PER_STEP:
        table, reach = reaches[r]
        keys = reach.keys(user_id)
        if k >= len(keys):
            r, k, after = r + 1, 0, None
            continue
        rows, after = reach.page(keys[k], PAGE_SIZE, after)
        queries += 1
        items = _full_items(reach, rows)
        label = table if not reach.what else f"{table}: {reach.what}"
        gathered.setdefault(label, []).extend(plain(item) for item in items)
        rows_read += len(items)
        if not after:
            k += 1
    if gathered:
        _put_json(f"{_part_prefix(user_id, str(job.ref))}part-{int(job.steps):05d}.json", gathered)
    if r >= len(reaches):
        return jobs.StepResult(rows_read, phase=ASSEMBLE)
    return jobs.StepResult(rows_read, phase=GATHER, cursor={"r": r, "k": k, "after": after})


def _put_json(key: str, body: dict) -> None:
    from chalicelib.config import get_settings
    from chalicelib.services.uploads import s3_client

    s3_client().put_object(Bucket=get_settings().media_bucket, Key=key, ContentType="application/json",
                           Body=json.dumps(body, sort_keys=True, default=str).encode())


def _assemble(job: Job) -> jobs.StepResult:
    from chalicelib.config import get_settings
    from chalicelib.domain.uploads import UPLOAD_PREFIX
    from chalicelib.services.uploads import s3_client

    s3, bucket = s3_client(), get_settings().media_bucket
    user_id, export_id = job.subject, str(job.ref)
    tables: dict[str, list] = {}
    part_keys = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=_part_prefix(user_id, export_id)):
        for item in page.get("Contents") or []:
            part_keys.append(item["Key"])
    for key in sorted(part_keys):
        for label, rows in json.loads(s3.get_object(Bucket=bucket, Key=key)["Body"].read()).items():
            tables.setdefault(label, []).extend(rows)
    uploads = [{"key": item["Key"], "size": item["Size"], "last_modified": item["LastModified"].isoformat()}
               for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket,
                                                                       Prefix=f"{UPLOAD_PREFIX}{user_id}/")
               for item in page.get("Contents") or []]
    _put_json(object_key(user_id, export_id), {"user_id": user_id, "export_id": export_id,
                                               "exported_at": now_iso(), "tables": tables, "uploads": uploads})
    for start in range(0, len(part_keys), 1000):
        s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": key} for key in part_keys[start:start + 1000]],
                                                 "Quiet": True})
    return jobs.StepResult(len(part_keys), phase="done", done=True)


def run_export_step(job: Job) -> jobs.StepResult:
    """One step of an export; any failure ends it as `failed` (asking again starts afresh)."""
    try:
        return _assemble(job) if job.phase == ASSEMBLE else _gather(job)
    except Exception:  # noqa: BLE001 - reported as the export's status, and logged
        from chalicelib.observability import logger

        logger.exception("export step failed", extra={"job_id": job.job_id})
        return jobs.StepResult(0, phase=FAILED, done=True)

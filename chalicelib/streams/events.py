"""Stream records as change events, and the wrapper every stream handler is registered with.

A record becomes a `chalicelib.domain.changes.Change` (which table, INSERT / MODIFY / REMOVE, the
old and new item as plain Python, and the record's sequence number: the natural idempotency key),
and the handler runs the table's named effects on the batch, in one loop (`run_effects`): per-record
effects on each change, batch effects (`domain.changes.per_batch`) once on the batch's changes. A
record that fails is reported in `batchItemFailures` (the event source mapping uses
ReportBatchItemFailures) and does not fail the records around it.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextvars import ContextVar
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from chalicelib.config import stream_arn, table_of_stream_arn
from chalicelib.domain.changes import BatchEffect, BatchFailures, Change, Effect, is_batch_effect

#: While set (by the local stream runner), collects `sequence number -> exception` for every record
#: a handler fails, so a record set aside carries the error that put it there.
record_failures: ContextVar[dict[str, BaseException] | None] = ContextVar("record_failures", default=None)


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, set):
        return sorted(_plain(v) for v in value)
    return value


def change_from_record(record) -> Change:
    """From powertools' DynamoDBRecord (images already turned into Python values)."""
    stream = record.dynamodb
    table = table_of_stream_arn(record.event_source_arn or "")
    created = stream.approximate_creation_date_time
    return Change(
        table=table,
        kind=record.event_name.name,
        keys=_plain(stream.keys or {}),
        old=_plain(stream.old_image) if stream.old_image else None,
        new=_plain(stream.new_image) if stream.new_image else None,
        sequence_number=stream.sequence_number or "",
        created_at=datetime.fromtimestamp(created or 0, tz=UTC),
    )


def apply_effects(effects: Sequence[Effect], change: Change) -> None:
    """The one dispatch loop: every effect of the table, in the order listed, on one change.

    An effect that raises fails the record (so it is redelivered to all of them, each idempotent);
    the error carries a note naming the effect.
    """
    for effect in effects:
        try:
            effect(change)
        except Exception as exc:
            exc.add_note(f"in stream effect {getattr(effect, '__name__', effect)!s} of {change.table}")
            raise


def _count_batch(handler: str, records: int, failed: int) -> None:
    """EMF metrics per handler: records seen and records reported back as failed."""
    import os

    from aws_lambda_powertools.metrics import MetricUnit, single_metric

    if os.environ.get("POWERTOOLS_METRICS_DISABLED", "false").lower() in ("1", "true"):
        return  # single_metric prints regardless of the switch

    from chalicelib.observability import metrics

    for metric, value in (("StreamRecords", records), ("StreamRecordFailures", failed)):
        with single_metric(name=metric, unit=MetricUnit.Count, value=value, namespace=metrics.namespace) as metric_doc:
            metric_doc.add_dimension(name="service", value="jianghu")
            metric_doc.add_dimension(name="handler", value=handler)


def run_effects(effects: Sequence[Effect | BatchEffect], changes: Sequence[Change]) -> BatchFailures:
    """The one dispatch loop: every effect of the table, in the order listed, on a batch of changes.

    A per-record effect runs on each change; a batch effect (`per_batch`) runs once, at its place in
    the list, on all the changes not yet failed. Per-record effects between two batch effects run
    record by record, in the records' order (`apply_effects`). A record that fails (an effect raised,
    or a batch effect named it) skips the effects after; it is redelivered to all of them, so each
    must be idempotent. Returns the failed records (sequence number -> why).
    """
    failed: BatchFailures = {}
    for stage in _stages(effects):
        live = [change for change in changes if change.sequence_number not in failed]
        if not live:
            break
        if is_batch_effect(stage[0]):
            (effect,) = stage
            try:
                result = effect(live)
            except Exception as whole:  # the effect failed as a whole: every record it was given fails
                result = dict.fromkeys((change.sequence_number for change in live), whole)
            for error in {id(error): error for error in result.values()}.values():
                error.add_note(f"in batch effect {getattr(effect, '__name__', effect)!s} of {live[0].table}")
            failed.update(result)
            continue
        for change in live:
            try:
                apply_effects(stage, change)
            except Exception as exc:
                failed[change.sequence_number] = exc
    return failed


def _stages(effects: Sequence[Effect | BatchEffect]) -> list[list]:
    """The effects in runs: each batch effect alone, consecutive per-record effects together."""
    stages: list[list] = []
    for effect in effects:
        if is_batch_effect(effect) or not stages or is_batch_effect(stages[-1][0]):
            stages.append([effect])
        else:
            stages[-1].append(effect)
    return stages


def handle_batch(name: str, effects: Sequence[Effect | BatchEffect], records: list[dict]) -> dict:
    """The Lambda response for one batch of stream records (`{"batchItemFailures": [...]}`)."""
    from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord

    from chalicelib.observability import logger

    failed: BatchFailures = {}
    changes = []
    for raw in records:
        try:
            change = change_from_record(DynamoDBRecord(raw))
        except Exception as exc:
            failed[(raw.get("dynamodb") or {}).get("SequenceNumber", "")] = exc
            continue
        if not change.is_noop:
            changes.append(change)
    failed.update(run_effects(effects, changes))
    failures = record_failures.get()
    reported = []
    for raw in records:
        sequence = (raw.get("dynamodb") or {}).get("SequenceNumber", "")
        if sequence not in failed:
            continue
        reported.append({"itemIdentifier": sequence})
        if failures is not None:
            failures[sequence] = failed[sequence]
        error = failed[sequence]
        logger.error("stream record failed", exc_info=(type(error), error, error.__traceback__),
                     extra={"handler": name, "sequence": sequence})
    _count_batch(name, len(records), len(reported))
    return {"batchItemFailures": reported}


#: Batch size and window of the handlers whose effects are summed per batch (counters, tallies,
#: grouped notices). A summed counter costs one transaction per key per batch per stream shard (one
#: per 98 records of that key, markers included), so the bigger and the less frequent the batch, the
#: cooler the key: at 1,000 follows a second of one account a 1 s window gives each shard's poller
#: one batch a second, i.e. about 1 + n/98 transactions a second on the account's profile per shard
#: instead of n. 1,000 records bound the batch's work (~1,000 marker writes in ~11-20 transactions)
#: well inside the function timeout, and 1 s is the freshness a counter may trail by.
SUMMED_BATCH_SIZE = 1000
SUMMED_BATCH_WINDOW_SECONDS = 1


def dynamodb_stream(blueprint, logical_table: str, effects: Sequence[Effect | BatchEffect], *, name: str,
                    batch_size: int = 100, batching_window_seconds: int = 0):
    """Register the handler of one table's stream, under the Lambda name `name`: it runs `effects`,
    each a named use case (a per-record effect taking a `Change`, or a `per_batch` effect taking the
    batch's changes), as `run_effects` says.

    Returns Chalice's handler object; the caller must bind it to a module attribute called `name`
    (Chalice's handler string is `<module>.<name>`).
    """

    def handle(event):
        return handle_batch(name, effects, event.to_dict().get("Records", []))

    handle.__name__ = name
    handle.__qualname__ = name
    handle.effects = tuple(effects)  # type: ignore[attr-defined]
    options = {"maximum_batching_window_in_seconds": batching_window_seconds} if batching_window_seconds else {}
    return blueprint.on_dynamodb_record(stream_arn=stream_arn(logical_table), batch_size=batch_size, name=name,
                                        **options)(handle)

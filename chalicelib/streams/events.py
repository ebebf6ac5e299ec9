"""Stream records as change events, and the wrapper every stream handler is registered with.

A record becomes a `chalicelib.domain.changes.Change` (which table, INSERT / MODIFY / REMOVE, the
old and new item as plain Python, and the record's sequence number: the natural idempotency key),
and the handler runs the table's named effects on it, in one loop. The wrapper runs a batch
through powertools' BatchProcessor, so one record that fails is reported in `batchItemFailures`
(the event source mapping uses ReportBatchItemFailures) and does not fail the records around it.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextvars import ContextVar
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from chalicelib.config import stream_arn, table_of_stream_arn
from chalicelib.domain.changes import Change, Effect

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


def dynamodb_stream(blueprint, logical_table: str, effects: Sequence[Effect], *, name: str, batch_size: int = 100):
    """Register the handler of one table's stream, under the Lambda name `name`: it runs `effects`,
    each a named use case taking a `Change`, on every record.

    Returns Chalice's handler object; the caller must bind it to a module attribute called `name`
    (Chalice's handler string is `<module>.<name>`).
    """

    def handle(event):
        from aws_lambda_powertools.utilities.batch import (
            BatchProcessor,
            EventType,
            process_partial_response,
        )

        from chalicelib.observability import logger

        def record_handler(record) -> None:
            change = change_from_record(record)
            if change.is_noop:
                return
            try:
                apply_effects(effects, change)
            except Exception as exc:
                failures = record_failures.get()
                if failures is not None:
                    failures[change.sequence_number] = exc
                logger.exception(
                    "stream record failed",
                    extra={"handler": name, "table": change.table, "sequence": change.sequence_number},
                )
                raise

        processor = BatchProcessor(event_type=EventType.DynamoDBStreams, raise_on_entire_batch_failure=False)
        raw = event.to_dict()
        response = process_partial_response(
            event=raw, record_handler=record_handler, processor=processor, context=event.context
        )
        _count_batch(name, len(raw.get("Records", [])), len(response.get("batchItemFailures", [])))
        return response

    handle.__name__ = name
    handle.__qualname__ = name
    handle.effects = tuple(effects)  # type: ignore[attr-defined]
    return blueprint.on_dynamodb_record(stream_arn=stream_arn(logical_table), batch_size=batch_size, name=name)(handle)

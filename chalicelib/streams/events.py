"""Stream records as change events, and the wrapper every stream handler is registered with.

`Change` is what services see: which table, INSERT / MODIFY / REMOVE, the old and new item as
plain Python, and the record's sequence number (the natural idempotency key). The wrapper runs a
batch through powertools' BatchProcessor, so one record that fails is reported in
`batchItemFailures` (the event source mapping uses ReportBatchItemFailures) and does not fail the
records around it.
"""

from __future__ import annotations

from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from chalicelib.config import stream_arn, table_of_stream_arn

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


@dataclass(frozen=True)
class Change:
    table: str
    kind: str  # INSERT | MODIFY | REMOVE
    keys: dict
    old: dict | None
    new: dict | None
    sequence_number: str
    created_at: datetime

    @property
    def is_noop(self) -> bool:
        """Moto reports a MODIFY even for a write that changed nothing; AWS does not."""
        return self.kind == "MODIFY" and self.old == self.new

    @property
    def item(self) -> dict:
        """The item as it is now, or as it was just before it was removed."""
        return (self.new if self.kind != "REMOVE" else self.old) or {}

    @property
    def count_delta(self) -> int:
        """What the record does to a count of such items: +1 when one appears, -1 when one goes, else 0."""
        return {"INSERT": 1, "REMOVE": -1}.get(self.kind, 0)

    def changed(self, *fields: str) -> bool:
        old, new = self.old or {}, self.new or {}
        return any(old.get(name) != new.get(name) for name in fields)

    def effect_id(self, effect: str) -> str:
        """A key naming one effect of this record: the same on every redelivery."""
        return f"{effect}:{self.table}:{self.sequence_number}"

    @property
    def created_ms(self) -> int:
        return int(self.created_at.timestamp() * 1000)

    @classmethod
    def from_record(cls, record) -> "Change":
        """From powertools' DynamoDBRecord (images already turned into Python values)."""
        stream = record.dynamodb
        table = table_of_stream_arn(record.event_source_arn or "")
        created = stream.approximate_creation_date_time
        return cls(
            table=table,
            kind=record.event_name.name,
            keys=_plain(stream.keys or {}),
            old=_plain(stream.old_image) if stream.old_image else None,
            new=_plain(stream.new_image) if stream.new_image else None,
            sequence_number=stream.sequence_number or "",
            created_at=datetime.fromtimestamp(created or 0, tz=UTC),
        )


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


def dynamodb_stream(blueprint, logical_table: str, apply: Callable[[Change], None], *, name: str):
    """Register `apply` as the handler of one table's stream, under the Lambda name `name`.

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
            change = Change.from_record(record)
            if change.is_noop:
                return
            try:
                apply(change)
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
    handle.apply = apply  # type: ignore[attr-defined]
    return blueprint.on_dynamodb_record(stream_arn=stream_arn(logical_table), batch_size=100, name=name)(handle)

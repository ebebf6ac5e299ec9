"""The local stand-in for Lambda's DynamoDB event source mappings.

For every `on_dynamodb_record` handler the app registers, the runner polls that table's stream
through the DynamoDB Streams API (shard iterators, `AFTER_SEQUENCE_NUMBER` checkpoints), and calls
the handler the way Lambda does: an event `{"Records": [...]}` in the exact Lambda shape, batch by
batch, in order. Like a mapping with `ReportBatchItemFailures`, bisect-on-error, a bounded retry
count and an on-failure destination, it:

- retries a batch from the first failed record (records before it are checkpointed);
- splits a batch that keeps failing to isolate the record at fault;
- after `max_attempts`, sets that record aside on the failures queue (SQS) with the metadata
  Lambda sends plus the record itself, then moves on, so one poison record blocks nothing.

With `chaos=True` (STREAM_CHAOS=1) every batch is split at random and delivered twice, which is
how the suite proves every handler idempotent.
"""

from __future__ import annotations

import importlib
import json
import random
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from chalicelib.observability import logger


@dataclass
class LambdaContext:
    """The attributes powertools and Chalice read from a real Lambda context."""

    function_name: str
    memory_limit_in_mb: int = 512
    function_version: str = "$LATEST"
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))

    @property
    def invoked_function_arn(self) -> str:
        return f"arn:aws:lambda:us-east-1:123456789012:function:{self.function_name}"

    @property
    def log_group_name(self) -> str:
        return f"/aws/lambda/{self.function_name}"

    @property
    def log_stream_name(self) -> str:
        return "local"

    def get_remaining_time_in_millis(self) -> int:
        return 300_000


@dataclass
class Subscription:
    """One handler reading one table's stream: what an event source mapping is in AWS."""

    name: str
    handler: Callable[[dict, Any], Any]
    table_name: str
    batch_size: int
    stream_arn: str = ""
    checkpoints: dict[str, str | None] = field(default_factory=dict)  # shard id -> last sequence done
    iterators: dict[str, str | None] = field(default_factory=dict)


def resolve_handler(handler_string: str) -> Callable:
    module_name, _, attribute = handler_string.rpartition(".")
    return getattr(importlib.import_module(module_name), attribute)


def table_of_arn(stream_arn: str) -> str:
    return stream_arn.split(":table/", 1)[1].split("/", 1)[0]


def _epoch(value: Any) -> float:
    if isinstance(value, datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return float(int(value.timestamp()))
    return float(value)


class StreamRunner:
    def __init__(
        self,
        app,
        session,
        *,
        endpoint_url: str | None = None,
        chaos: bool = False,
        max_attempts: int = 3,
        failures_queue_url: str | None = None,
        start_at_latest: bool = False,
        seed: int | None = None,
    ):
        self.app = app
        self.dynamodb = session.client("dynamodb", endpoint_url=endpoint_url)
        self.streams = session.client("dynamodbstreams", endpoint_url=endpoint_url)
        self.sqs = session.client("sqs", endpoint_url=endpoint_url) if failures_queue_url else None
        self.failures_queue_url = failures_queue_url
        self.region = session.region_name
        self.chaos = chaos
        self.max_attempts = max_attempts
        self.start_at_latest = start_at_latest
        self.random = random.Random(seed)
        self.set_aside: list[dict] = []
        self.delivered = 0
        self._stop = threading.Event()
        self.subscriptions = self._subscribe()

    # -- discovery ------------------------------------------------------------------------------
    def _subscribe(self) -> list[Subscription]:
        from chalice.app import DynamoDBEventConfig

        subscriptions = []
        for source in self.app.event_sources:
            if not isinstance(source, DynamoDBEventConfig):
                continue
            subscription = Subscription(
                name=source.name,
                handler=resolve_handler(source.handler_string),
                table_name=table_of_arn(source.stream_arn),
                batch_size=source.batch_size,
            )
            table = self.dynamodb.describe_table(TableName=subscription.table_name)["Table"]
            subscription.stream_arn = table["LatestStreamArn"]
            shards = self.streams.describe_stream(StreamArn=subscription.stream_arn)["StreamDescription"]["Shards"]
            for shard in shards:
                subscription.checkpoints[shard["ShardId"]] = None
                subscription.iterators[shard["ShardId"]] = self._iterator(
                    subscription, shard["ShardId"], None, latest=self.start_at_latest
                )
            subscriptions.append(subscription)
        return subscriptions

    def _iterator(self, subscription: Subscription, shard_id: str, after: str | None, latest: bool = False) -> str:
        kwargs: dict[str, Any] = {"StreamArn": subscription.stream_arn, "ShardId": shard_id}
        if after is not None:
            kwargs.update(ShardIteratorType="AFTER_SEQUENCE_NUMBER", SequenceNumber=after)
        else:
            kwargs["ShardIteratorType"] = "LATEST" if latest else "TRIM_HORIZON"
        return self.streams.get_shard_iterator(**kwargs)["ShardIterator"]

    # -- delivery -------------------------------------------------------------------------------
    def _lambda_record(self, record: dict, subscription: Subscription) -> dict:
        """Moto's records lack `eventSourceARN` and boto3 turns the time into a datetime."""
        record = dict(record)
        dynamodb = dict(record["dynamodb"])
        dynamodb["ApproximateCreationDateTime"] = _epoch(dynamodb.get("ApproximateCreationDateTime", time.time()))
        record["dynamodb"] = dynamodb
        record["eventSourceARN"] = subscription.stream_arn
        record["awsRegion"] = self.region
        record.setdefault("eventVersion", "1.1")
        record.setdefault("eventSource", "aws:dynamodb")
        return record

    def _invoke(self, subscription: Subscription, records: list[dict]) -> set[str]:
        """Call the handler once; return the sequence numbers it reported as failed."""
        context = LambdaContext(function_name=f"jianghu-{subscription.name}")
        self.delivered += len(records)
        try:
            response = subscription.handler({"Records": records}, context)
        except Exception:
            logger.exception("stream handler raised", extra={"handler": subscription.name})
            return {r["dynamodb"]["SequenceNumber"] for r in records}
        failures = (response or {}).get("batchItemFailures", []) if isinstance(response, dict) else []
        return {failure["itemIdentifier"] for failure in failures}

    def _deliver(self, subscription: Subscription, records: list[dict]) -> None:
        """Deliver `records` in order until each has succeeded or been set aside."""
        pending = list(records)
        attempts = 0
        while pending:
            batch = pending
            if self.chaos and len(batch) > 1:
                batch = batch[: self.random.randint(1, len(batch))]
            failed = self._invoke(subscription, batch)
            if self.chaos:
                failed |= self._invoke(subscription, batch)
            if not failed:
                pending = pending[len(batch):]
                attempts = 0
                continue
            first_failed = min(i for i, r in enumerate(batch) if r["dynamodb"]["SequenceNumber"] in failed)
            pending = pending[first_failed:]  # the records before the first failure are done
            if first_failed:
                attempts = 0
                continue
            attempts += 1
            if attempts < self.max_attempts:
                continue
            if len(failed) == len(batch) > 1:
                # the whole batch failed: bisect to find the record at fault, as Lambda does
                half = len(batch) // 2
                self._deliver(subscription, pending[:half])
                pending = pending[half:]
                attempts = 0
                continue
            self._set_aside(subscription, pending[0], attempts)
            pending = pending[1:]
            attempts = 0

    def _set_aside(self, subscription: Subscription, record: dict, attempts: int) -> None:
        sequence = record["dynamodb"]["SequenceNumber"]
        message = {
            "requestContext": {
                "condition": "RetryAttemptsExhausted",
                "functionArn": LambdaContext(function_name=f"jianghu-{subscription.name}").invoked_function_arn,
                "approximateInvokeCount": attempts,
            },
            "DDBStreamBatchInfo": {
                "shardId": next(iter(subscription.checkpoints), ""),
                "startSequenceNumber": sequence,
                "endSequenceNumber": sequence,
                "batchSize": 1,
                "streamArn": subscription.stream_arn,
            },
            "handler": subscription.name,
            "record": record,
        }
        self.set_aside.append(message)
        logger.error("stream record set aside", extra={"handler": subscription.name, "sequence": sequence})
        if self.sqs is not None:
            self.sqs.send_message(QueueUrl=self.failures_queue_url, MessageBody=json.dumps(message, default=str))

    # -- polling --------------------------------------------------------------------------------
    def poll_once(self) -> int:
        """Read every stream once and deliver what is new; return how many records were new."""
        seen = 0
        for subscription in self.subscriptions:
            for shard_id in list(subscription.iterators):
                iterator = subscription.iterators[shard_id]
                if iterator is None:
                    continue
                response = self.streams.get_records(ShardIterator=iterator, Limit=1000)
                records = [self._lambda_record(r, subscription) for r in response.get("Records", [])]
                for start in range(0, len(records), subscription.batch_size):
                    self._deliver(subscription, records[start:start + subscription.batch_size])
                if records:
                    subscription.checkpoints[shard_id] = records[-1]["dynamodb"]["SequenceNumber"]
                    seen += len(records)
                next_iterator = response.get("NextShardIterator")
                if next_iterator is None and subscription.checkpoints[shard_id] is not None:
                    next_iterator = self._iterator(subscription, shard_id, subscription.checkpoints[shard_id])
                subscription.iterators[shard_id] = next_iterator
        return seen

    def drain(self, max_rounds: int = 100) -> int:
        """Poll until no stream has anything new (handlers' own writes included)."""
        total = 0
        for _ in range(max_rounds):
            seen = self.poll_once()
            total += seen
            if not seen:
                return total
        raise RuntimeError(f"streams kept producing records after {max_rounds} rounds")

    def run_forever(self, interval: float = 0.2) -> None:
        while not self._stop.is_set():
            try:
                if not self.poll_once():
                    self._stop.wait(interval)
            except Exception:
                logger.exception("stream runner poll failed")
                self._stop.wait(1.0)

    def stop(self) -> None:
        self._stop.set()

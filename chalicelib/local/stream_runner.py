"""The local stand-in for Lambda's DynamoDB event source mappings.

For every `on_dynamodb_record` handler the app registers, the runner polls that table's stream
through the DynamoDB Streams API (shard iterators, `AFTER_SEQUENCE_NUMBER` checkpoints), and calls
the handler the way Lambda does: an event `{"Records": [...]}` in the exact Lambda shape, batch by
batch, in order. Like a mapping with `ReportBatchItemFailures`, bisect-on-error, a bounded retry
count and an on-failure destination, it:

- checkpoints the records before the first one a handler reports failed, and retries from there;
- splits a batch that fails whole (the handler raised) in two, until the record at fault is alone;
- after `max_attempts` failed invocations of a record, sets it aside on the failures queue (SQS)
  with the metadata Lambda sends (plus the record, its handler and the error) and moves on, so
  one poison record blocks nothing. `python -m chalicelib.cli failures list|replay` works on them.

With `chaos=True` (STREAM_CHAOS=1) every batch is split at random and delivered twice, which is
how the suite proves every handler idempotent.
"""

from __future__ import annotations

import json
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from chalicelib.config import table_of_stream_arn
from chalicelib.local.failures import describe_error, failure_message
from chalicelib.local.lambda_events import LambdaContext, function_name, invoke, lambda_record, resolve_handler
from chalicelib.observability import logger


@dataclass
class Subscription:
    """One handler reading one table's stream: what an event source mapping is in AWS."""

    name: str
    handler: Callable[[dict, Any], Any]
    handler_string: str
    table_name: str
    batch_size: int
    stream_arn: str = ""
    checkpoints: dict[str, str | None] = field(default_factory=dict)  # shard id -> last sequence done
    iterators: dict[str, str | None] = field(default_factory=dict)

    @property
    def function_name(self) -> str:
        return function_name(self.name)


def _sequence(record: dict) -> str:
    return record["dynamodb"]["SequenceNumber"]


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
        if max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
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
        self._errors: dict[str, str] = {}  # sequence number -> the last error a handler raised for it
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
                handler_string=source.handler_string,
                table_name=table_of_stream_arn(source.stream_arn),
                batch_size=source.batch_size,
            )
            self._attach(subscription, latest=self.start_at_latest)
            subscriptions.append(subscription)
        return subscriptions

    def _attach(self, subscription: Subscription, *, latest: bool) -> None:
        """Find the table's current stream and its shards; start each new shard at its beginning."""
        table = self.dynamodb.describe_table(TableName=subscription.table_name)["Table"]
        stream_arn = table["LatestStreamArn"]
        if stream_arn != subscription.stream_arn:  # a new table (or a first look): forget the old stream
            subscription.stream_arn = stream_arn
            subscription.checkpoints.clear()
            subscription.iterators.clear()
        shards = self.streams.describe_stream(StreamArn=stream_arn)["StreamDescription"]["Shards"]
        for shard in shards:
            shard_id = shard["ShardId"]
            if shard_id not in subscription.checkpoints:
                subscription.checkpoints[shard_id] = None
                subscription.iterators[shard_id] = self._iterator(subscription, shard_id, None, latest=latest)
            elif shard_id in subscription.iterators and subscription.iterators[shard_id] is None:
                # lost its iterator (expired, or a read failed): carry on after the checkpoint
                subscription.iterators[shard_id] = self._iterator(
                    subscription, shard_id, subscription.checkpoints[shard_id], latest=latest
                )
            # a shard with a checkpoint but no iterator entry is closed and read to its end

    def _iterator(self, subscription: Subscription, shard_id: str, after: str | None, latest: bool = False) -> str:
        kwargs: dict[str, Any] = {"StreamArn": subscription.stream_arn, "ShardId": shard_id}
        if after is not None:
            kwargs.update(ShardIteratorType="AFTER_SEQUENCE_NUMBER", SequenceNumber=after)
        else:
            kwargs["ShardIteratorType"] = "LATEST" if latest else "TRIM_HORIZON"
        return self.streams.get_shard_iterator(**kwargs)["ShardIterator"]

    # -- delivery -------------------------------------------------------------------------------
    def _lambda_record(self, record: dict, subscription: Subscription) -> dict:
        return lambda_record(record, subscription.stream_arn, self.region)

    def _invoke(self, subscription: Subscription, records: list[dict]) -> set[str]:
        """Call the handler once, as Lambda would; return the sequence numbers that failed.

        A handler that raises fails the whole batch. A response whose `batchItemFailures` names a
        record that is not in the batch (or has no identifier) fails the whole batch too, as in AWS.
        """
        context = LambdaContext(function_name=subscription.function_name, region=self.region)
        self.delivered += len(records)
        sequences = [_sequence(r) for r in records]
        try:
            response, errors = invoke(subscription.handler, records, context)
        except Exception as exc:
            logger.exception("stream handler raised", extra={"handler": subscription.name})
            self._errors.update(dict.fromkeys(sequences, describe_error(exc)))
            return set(sequences)
        self._errors.update({sequence: describe_error(exc) for sequence, exc in errors.items()})
        failures = response.get("batchItemFailures") if isinstance(response, dict) else None
        if not failures:
            return set()
        failed = {failure.get("itemIdentifier") for failure in failures if isinstance(failure, dict)}
        if not failed or not failed <= set(sequences):
            return set(sequences)
        return failed

    def _deliver(self, subscription: Subscription, shard_id: str, records: list[dict]) -> None:
        """Deliver `records` in order until each has succeeded or been set aside."""
        pending = list(records)
        attempts = 0  # failed invocations of pending[0]
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
            first_failed = min(i for i, r in enumerate(batch) if _sequence(r) in failed)
            if first_failed:
                # ReportBatchItemFailures: the records before the first failure are done
                pending = pending[first_failed:]
                attempts = 1
            elif len(batch) > 1 and len(failed) == len(batch):
                # the whole batch failed: bisect to isolate the record at fault (splits are not retries)
                half = len(batch) // 2
                self._deliver(subscription, shard_id, pending[:half])
                pending = pending[half:]
                attempts = 0
                continue
            else:
                attempts += 1
            if attempts >= self.max_attempts:
                self._set_aside(subscription, shard_id, pending[0], attempts)
                pending = pending[1:]
                attempts = 0

    def _set_aside(self, subscription: Subscription, shard_id: str, record: dict, attempts: int) -> None:
        sequence = _sequence(record)
        message = failure_message(
            record,
            shard_id=shard_id,
            stream_arn=subscription.stream_arn,
            function_arn=LambdaContext(function_name=subscription.function_name, region=self.region)
            .invoked_function_arn,
            attempts=attempts,
            handler=subscription.name,
            handler_string=subscription.handler_string,
            error=self._errors.pop(sequence, None),
        )
        self.set_aside.append(message)
        logger.error("stream record set aside", extra={"handler": subscription.name, "sequence": sequence,
                                                        "error": message.get("error")})
        if self.sqs is not None:
            self.sqs.send_message(QueueUrl=self.failures_queue_url, MessageBody=json.dumps(message, default=str))

    # -- polling --------------------------------------------------------------------------------
    def _poll_shard(self, subscription: Subscription, shard_id: str) -> int:
        iterator = subscription.iterators[shard_id]
        if iterator is None:
            self._attach(subscription, latest=False)
            iterator = subscription.iterators.get(shard_id)
            if iterator is None:
                return 0
        response = self.streams.get_records(ShardIterator=iterator, Limit=1000)
        records = [self._lambda_record(r, subscription) for r in response.get("Records", [])]
        for start in range(0, len(records), subscription.batch_size):
            self._deliver(subscription, shard_id, records[start:start + subscription.batch_size])
        if records:
            subscription.checkpoints[shard_id] = _sequence(records[-1])
        next_iterator = response.get("NextShardIterator")
        if next_iterator is None:  # a closed shard, read to its end
            del subscription.iterators[shard_id]
        else:
            subscription.iterators[shard_id] = next_iterator
        return len(records)

    def poll_once(self) -> int:
        """Read every stream once and deliver what is new; return how many records were new.

        One stream that cannot be read (an expired iterator, a table dropped and created again)
        does not stop the others: its subscription is attached again from its checkpoint.
        A stop ends the round after the shard at hand (each shard is read from its checkpoint).
        """
        seen = 0
        for subscription in self.subscriptions:
            if self._stop.is_set():
                break
            for shard_id in list(subscription.iterators):
                try:
                    seen += self._poll_shard(subscription, shard_id)
                except Exception:
                    logger.exception("stream poll failed; it is read again from its checkpoint",
                                     extra={"handler": subscription.name, "shard": shard_id})
                    if shard_id in subscription.iterators:
                        subscription.iterators[shard_id] = None  # the next poll attaches again
        return seen

    def refresh(self) -> None:
        """Look for streams and shards that appeared since (a table dropped and created again)."""
        for subscription in self.subscriptions:
            try:
                self._attach(subscription, latest=False)
            except Exception:
                logger.exception("stream refresh failed", extra={"handler": subscription.name})

    def drain(self, max_rounds: int = 100) -> int:
        """Poll until no stream has anything new (handlers' own writes included)."""
        total = 0
        for _ in range(max_rounds):
            seen = self.poll_once()
            total += seen
            if not seen:
                return total
        raise RuntimeError(f"streams kept producing records after {max_rounds} rounds")

    def run_forever(self, interval: float = 0.2, refresh_every: float = 30.0) -> None:
        next_refresh = time.monotonic() + refresh_every
        while not self._stop.is_set():
            try:
                if time.monotonic() >= next_refresh:
                    self.refresh()
                    next_refresh = time.monotonic() + refresh_every
                if not self.poll_once():
                    self._stop.wait(interval)
            except Exception:
                logger.exception("stream runner poll failed")
                self._stop.wait(1.0)

    def stop(self) -> None:
        self._stop.set()

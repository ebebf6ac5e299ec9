"""The Notifications stream, summed per batch into each user's unread count (`count_unread_notifications`).

Like the coupon stock tally, this handler folds a whole batch first: one counting transaction per
user per batch (`services.notifications.count_unread`), so a burst of notices to one account is a
few writes of its read state, not one per notice. The records of users whose count could not be
written are reported as failed (`batchItemFailures`); each counted record has its marker, so a
record delivered again counts nothing.
"""

from __future__ import annotations

from chalice import Blueprint

from chalicelib.config import stream_arn
from chalicelib.services import notifications
from chalicelib.streams.events import change_from_record, record_failures

blueprint = Blueprint(__name__)


def count_batch(raw_event: dict) -> dict:
    """The Lambda response for one batch of Notifications records."""
    from aws_lambda_powertools.utilities.data_classes import DynamoDBStreamEvent

    from chalicelib.observability import logger

    changes = [change for record in DynamoDBStreamEvent(raw_event).records
               if not (change := change_from_record(record)).is_noop]
    failed = notifications.count_unread(changes)
    failures = record_failures.get()
    if failures is not None:
        failures.update(failed)
    for sequence, exc in failed.items():
        logger.error("unread count failed", extra={"sequence": sequence, "error": repr(exc)})
    return {"batchItemFailures": [{"itemIdentifier": sequence} for sequence in failed]}


@blueprint.on_dynamodb_record(stream_arn=stream_arn("Notifications"), batch_size=1000,
                              maximum_batching_window_in_seconds=1, name="count_unread_notifications")
def count_unread_notifications(event):
    return count_batch(event.to_dict())


count_unread_notifications.func.effects = (notifications.count_unread,)  # type: ignore[attr-defined]  # per batch

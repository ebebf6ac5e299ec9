"""The Notifications stream, summed per batch into each user's unread count (`count_unread_notifications`).

One counting transaction per user per batch (`services.notifications.count_unread`, a batch
effect), so a burst of notices to one account is a few writes of its read state, not one per
notice; each counted record has its marker, so a record delivered again counts nothing.
"""

from __future__ import annotations

from chalice import Blueprint

from chalicelib.services import notifications
from chalicelib.streams.events import SUMMED_BATCH_SIZE, SUMMED_BATCH_WINDOW_SECONDS, dynamodb_stream

blueprint = Blueprint(__name__)

NOTIFICATION_EFFECTS = (notifications.count_unread,)

count_unread_notifications = dynamodb_stream(
    blueprint, "Notifications", NOTIFICATION_EFFECTS, name="count_unread_notifications",
    batch_size=SUMMED_BATCH_SIZE, batching_window_seconds=SUMMED_BATCH_WINDOW_SECONDS,
)

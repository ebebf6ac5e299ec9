"""The Reports stream, summed per batch into each target's report queue item, and the ModerationLog
stream, which notifies the affected user."""

from chalice import Blueprint

from chalicelib.services import moderation
from chalicelib.streams.events import SUMMED_BATCH_SIZE, SUMMED_BATCH_WINDOW_SECONDS, dynamodb_stream

blueprint = Blueprint(__name__)

REPORT_EFFECTS = (moderation.count_reports,)
MODERATION_LOG_EFFECTS = (moderation.notify_moderated_user,)

count_reports = dynamodb_stream(blueprint, "Reports", REPORT_EFFECTS, name="count_reports",
                                batch_size=SUMMED_BATCH_SIZE, batching_window_seconds=SUMMED_BATCH_WINDOW_SECONDS)
notify_moderated_users = dynamodb_stream(blueprint, "ModerationLog", MODERATION_LOG_EFFECTS,
                                         name="notify_moderated_users")

"""Stream handlers of circles.

The member count is summed per batch (one update of a circle per batch), so the handler reads big
batches: `SUMMED_BATCH_SIZE` records or `SUMMED_BATCH_WINDOW_SECONDS` (`streams.events` says why).
"""

from chalice import Blueprint

from chalicelib.services import groups
from chalicelib.streams.events import SUMMED_BATCH_SIZE, SUMMED_BATCH_WINDOW_SECONDS, dynamodb_stream

blueprint = Blueprint(__name__)

GROUP_MEMBER_EFFECTS = (groups.count_members,)

count_group_members = dynamodb_stream(blueprint, "GroupMembers", GROUP_MEMBER_EFFECTS, name="count_group_members",
                                      batch_size=SUMMED_BATCH_SIZE, batching_window_seconds=SUMMED_BATCH_WINDOW_SECONDS)

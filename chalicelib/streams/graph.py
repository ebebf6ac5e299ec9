"""Stream handlers of the follow graph: each table's effects, by name, in the order they run.

The counters and the grouped notices are batch effects (summed per batch: one write per profile
and per notice a batch), so the Follows handler reads big batches: `MIXED_BATCH_SIZE` records or
`SUMMED_BATCH_WINDOW_SECONDS` (`streams.events` says why).
"""

from chalice import Blueprint

from chalicelib.services import activity, feed, graph_effects
from chalicelib.streams.events import MIXED_BATCH_SIZE, SUMMED_BATCH_WINDOW_SECONDS, dynamodb_stream

blueprint = Blueprint(__name__)

FOLLOW_EFFECTS = (
    graph_effects.count_followers,  # before the backfill, which reads the count for the pull threshold
    graph_effects.notify_new_follower,
    graph_effects.join_audience,
    feed.backfill_feed,
    graph_effects.leave_audience,
    feed.remove_unfollowed_posts,
    activity.share_store_follows,
)
BLOCK_EFFECTS = (graph_effects.end_follows, feed.remove_blocked_posts)

update_follow_graph = dynamodb_stream(blueprint, "Follows", FOLLOW_EFFECTS, name="update_follow_graph",
                                      batch_size=MIXED_BATCH_SIZE, batching_window_seconds=SUMMED_BATCH_WINDOW_SECONDS)
enforce_blocks = dynamodb_stream(blueprint, "Blocks", BLOCK_EFFECTS, name="enforce_blocks")

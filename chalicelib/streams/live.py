"""Stream handlers of live rooms: counters summed per batch, broadcasts to the rooms' sockets, and
a start's notices and feed item (`services.live_effects`). LiveConnections has no handler: joins
and leaves are counted through the viewer shards of LiveActivity.

Every handler waits up to 1 s for its batch (`SUMMED_BATCH_WINDOW_SECONDS`): a room's counters are
written about once a second per stream shard, and the room's changes are broadcast about once a
second, however many viewers like or join.
"""

from chalice import Blueprint

from chalicelib.services import live_effects
from chalicelib.streams.events import SUMMED_BATCH_SIZE, SUMMED_BATCH_WINDOW_SECONDS, dynamodb_stream

blueprint = Blueprint(__name__)

LIVE_ROOM_EFFECTS = (live_effects.broadcast_room_changes, live_effects.announce_live_start)
LIVE_ACTIVITY_EFFECTS = (live_effects.count_activity,)
LIVE_CHAT_EFFECTS = (live_effects.broadcast_chat,)

broadcast_live_rooms = dynamodb_stream(blueprint, "LiveRooms", LIVE_ROOM_EFFECTS, name="broadcast_live_rooms",
                                       batch_size=100, batching_window_seconds=SUMMED_BATCH_WINDOW_SECONDS)
count_live_activity = dynamodb_stream(blueprint, "LiveActivity", LIVE_ACTIVITY_EFFECTS, name="count_live_activity",
                                      batch_size=SUMMED_BATCH_SIZE, batching_window_seconds=SUMMED_BATCH_WINDOW_SECONDS)
broadcast_live_chat = dynamodb_stream(blueprint, "LiveChat", LIVE_CHAT_EFFECTS, name="broadcast_live_chat",
                                      batch_size=100, batching_window_seconds=SUMMED_BATCH_WINDOW_SECONDS)

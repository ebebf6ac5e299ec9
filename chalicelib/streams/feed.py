"""Stream handlers of posts and feeds: fan-out on write, its continuation, and a deleted post's upkeep.

Each runs with the event-source settings chosen for it from the measured fan-out step time
(`chalicelib.streams.settings`: batch size here; parallelization factor and timeout applied by
the deploy path and `make package`).
"""

from chalice import Blueprint

from chalicelib.services import fanout, polls, post_cleanup, recent_posts
from chalicelib.streams.events import dynamodb_stream
from chalicelib.streams.settings import HANDLER_SETTINGS

blueprint = Blueprint(__name__)

POST_EFFECTS = (fanout.fan_out_post, recent_posts.keep_recent_posts, fanout.remove_deleted_post, polls.delete_poll,
                post_cleanup.clean_up_deleted_post)
FANOUT_JOB_EFFECTS = (fanout.continue_fan_out_job,)

fan_out_posts = dynamodb_stream(blueprint, "Posts", POST_EFFECTS, name="fan_out_posts",
                                batch_size=HANDLER_SETTINGS["fan_out_posts"].batch_size)
continue_fan_out = dynamodb_stream(blueprint, "FanoutJobs", FANOUT_JOB_EFFECTS, name="continue_fan_out",
                                   batch_size=HANDLER_SETTINGS["continue_fan_out"].batch_size)

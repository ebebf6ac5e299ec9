"""Stream handlers of posts and feeds: fan-out on write, its continuation, and a deleted post's upkeep."""

from chalice import Blueprint

from chalicelib.services import fanout, feed, polls
from chalicelib.streams.events import dynamodb_stream

blueprint = Blueprint(__name__)

POST_EFFECTS = (fanout.fan_out_post, feed.remove_deleted_post, polls.delete_poll)
FANOUT_JOB_EFFECTS = (fanout.continue_fan_out_job,)

fan_out_posts = dynamodb_stream(blueprint, "Posts", POST_EFFECTS, name="fan_out_posts")
continue_fan_out = dynamodb_stream(blueprint, "FanoutJobs", FANOUT_JOB_EFFECTS, name="continue_fan_out")

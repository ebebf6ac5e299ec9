"""Stream handlers of posts and feeds: fan-out on write and its continuation."""

from chalice import Blueprint

from chalicelib.services.feed import on_fanout_job_change, on_post_change
from chalicelib.streams.events import dynamodb_stream

blueprint = Blueprint(__name__)

fan_out_posts = dynamodb_stream(blueprint, "Posts", on_post_change, name="fan_out_posts")
continue_fan_out = dynamodb_stream(blueprint, "FanoutJobs", on_fanout_job_change, name="continue_fan_out")

"""Stream handlers of the follow graph."""

from chalice import Blueprint

from chalicelib.services.graph_effects import on_block_change, on_follow_change
from chalicelib.streams.events import dynamodb_stream

blueprint = Blueprint(__name__)

update_follow_graph = dynamodb_stream(blueprint, "Follows", on_follow_change, name="update_follow_graph")
enforce_blocks = dynamodb_stream(blueprint, "Blocks", on_block_change, name="enforce_blocks")

"""Stream handlers of circles."""

from chalice import Blueprint

from chalicelib.services.groups import count_members
from chalicelib.streams.events import dynamodb_stream

blueprint = Blueprint(__name__)

count_group_members = dynamodb_stream(blueprint, "GroupMembers", count_members, name="count_group_members")

"""Stream handlers of circles."""

from chalice import Blueprint

from chalicelib.services import groups
from chalicelib.streams.events import dynamodb_stream

blueprint = Blueprint(__name__)

GROUP_MEMBER_EFFECTS = (groups.count_members,)

count_group_members = dynamodb_stream(blueprint, "GroupMembers", GROUP_MEMBER_EFFECTS, name="count_group_members")

"""Stream handlers that keep the search index and the circle directory (`services.search`,
`services.circle_directory`) from tables no other handler reads: Users, Questions, Groups.

The Merchants and Products search effects hang off those tables' one handler in `streams.merchants`
(a stream shard allows two readers). To add an effect of one of these tables, add it to its tuple.
"""

from chalice import Blueprint

from chalicelib.services import circle_directory, search
from chalicelib.streams.events import dynamodb_stream

blueprint = Blueprint(__name__)

USER_EFFECTS = (search.index_user,)
QUESTION_EFFECTS = (search.index_question,)
GROUP_EFFECTS = (search.index_circle, circle_directory.list_circle)

index_users = dynamodb_stream(blueprint, "Users", USER_EFFECTS, name="index_users")
index_questions = dynamodb_stream(blueprint, "Questions", QUESTION_EFFECTS, name="index_questions")
index_circles = dynamodb_stream(blueprint, "Groups", GROUP_EFFECTS, name="index_circles")

"""Stream handlers of purchase advice: each table's effects, by name, in the order they run.

DynamoDB Streams allows two readers per shard, so every effect of a table hangs off its ONE
handler here. To add an effect (rewards, expert scores), add a function taking a `Change` to the
table's tuple below; each effect must be idempotent on its own, because a failure in any of them
redelivers the record to all of them.
"""

from chalice import Blueprint

from chalicelib.services import advice_effects, experts, rewards
from chalicelib.streams.events import dynamodb_stream

blueprint = Blueprint(__name__)

ANSWER_EFFECTS = (
    advice_effects.count_answers,
    advice_effects.notify_new_answer,
    advice_effects.notify_answer_accepted,
    rewards.award_for_acceptance,
)
ANSWER_VOTE_EFFECTS = (
    advice_effects.tally_vote,
    rewards.award_for_vote_change,
    experts.score_experts_for_vote,
)
HELPFUL_MARK_EFFECTS = (
    advice_effects.tally_helpful_mark,
    rewards.award_for_helpful_mark,
    experts.score_experts_for_helpful_mark,
)

REVIEW_EFFECTS = (advice_effects.count_product_reviews,)

track_answers = dynamodb_stream(blueprint, "Answers", ANSWER_EFFECTS, name="track_answers")
tally_answer_votes = dynamodb_stream(blueprint, "AnswerVotes", ANSWER_VOTE_EFFECTS, name="tally_answer_votes")
tally_helpful_marks = dynamodb_stream(blueprint, "HelpfulMarks", HELPFUL_MARK_EFFECTS, name="tally_helpful_marks")
track_reviews = dynamodb_stream(blueprint, "Reviews", REVIEW_EFFECTS, name="track_reviews")

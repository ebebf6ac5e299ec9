"""Stream handlers of purchase advice: one per table, each dispatching that table's effects.

DynamoDB Streams allows two readers per shard, so every effect of a table hangs off its ONE
handler here. To add an effect (rewards, expert scores), append a function taking a `Change` to
the table's tuple below; each effect must be idempotent on its own, because a failure in any of
them redelivers the record to all of them.
"""

from chalice import Blueprint

from chalicelib.services import advice_effects, experts, rewards
from chalicelib.streams.events import Change, dynamodb_stream

blueprint = Blueprint(__name__)

ANSWER_EFFECTS = (advice_effects.count_answers, advice_effects.notify_answer_events, rewards.on_answer_change)
ANSWER_VOTE_EFFECTS = (advice_effects.tally_vote, rewards.on_answer_vote_change, experts.on_answer_vote_change)
HELPFUL_MARK_EFFECTS = (advice_effects.tally_helpful_mark, rewards.on_helpful_mark_change,
                        experts.on_helpful_mark_change)


def on_answer_change(change: Change) -> None:
    for effect in ANSWER_EFFECTS:
        effect(change)


def on_answer_vote_change(change: Change) -> None:
    for effect in ANSWER_VOTE_EFFECTS:
        effect(change)


def on_helpful_mark_change(change: Change) -> None:
    for effect in HELPFUL_MARK_EFFECTS:
        effect(change)


track_answers = dynamodb_stream(blueprint, "Answers", on_answer_change, name="track_answers")
tally_answer_votes = dynamodb_stream(blueprint, "AnswerVotes", on_answer_vote_change, name="tally_answer_votes")
tally_helpful_marks = dynamodb_stream(blueprint, "HelpfulMarks", on_helpful_mark_change, name="tally_helpful_marks")

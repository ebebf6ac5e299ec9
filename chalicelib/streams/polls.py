"""The PollVotes stream, summed per batch into each poll's tally items (`tally_poll_votes`).

Up to 1,000 records or 1 s a batch (`SUMMED_BATCH_SIZE`): at 5,000 votes a second on one poll, a
tally item takes one update per batch of each stream shard holding its vote shards, a few a second.
"""

from chalice import Blueprint

from chalicelib.services import polls
from chalicelib.streams.events import SUMMED_BATCH_SIZE, SUMMED_BATCH_WINDOW_SECONDS, dynamodb_stream

blueprint = Blueprint(__name__)

POLL_VOTE_EFFECTS = (polls.tally_poll_votes,)

tally_poll_votes = dynamodb_stream(blueprint, "PollVotes", POLL_VOTE_EFFECTS, name="tally_poll_votes",
                                   batch_size=SUMMED_BATCH_SIZE, batching_window_seconds=SUMMED_BATCH_WINDOW_SECONDS)

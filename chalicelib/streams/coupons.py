"""The CampaignStock stream, folded per batch into each campaign's tally (`tally_coupon_stock`).

Its one effect is a batch effect: one update per campaign per batch, so a flash sale's thousands of
stock changes a second become a few writes of the campaign item (`services.coupons.tally_stock`).
The records of a campaign whose tally could not be written are reported as failed
(`batchItemFailures`); the tally merges by maximum, so anything delivered twice changes nothing.
"""

from chalice import Blueprint

from chalicelib.services import coupons
from chalicelib.streams.events import SUMMED_BATCH_SIZE, SUMMED_BATCH_WINDOW_SECONDS, dynamodb_stream

blueprint = Blueprint(__name__)

CAMPAIGN_STOCK_EFFECTS = (coupons.tally_coupon_stock,)

# Up to 1,000 records or 1 s a batch: at 10,000 redeems a second, each stream shard's poller
# writes a campaign's tally about once a second instead of once per 100 records.
tally_coupon_stock = dynamodb_stream(blueprint, "CampaignStock", CAMPAIGN_STOCK_EFFECTS, name="tally_coupon_stock",
                                     batch_size=SUMMED_BATCH_SIZE, batching_window_seconds=SUMMED_BATCH_WINDOW_SECONDS)

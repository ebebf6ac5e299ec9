"""The CampaignStock stream, summed per batch into each campaign's tally (`tally_coupon_stock`).

Unlike the per-record handlers, this one folds a whole batch first: one update per campaign per
batch, so a flash sale's thousands of stock changes a second become a few writes of the campaign
item (`services.coupons.tally_stock`). The records of a campaign whose tally could not be written
are reported as failed (`batchItemFailures`), so they, and only what follows them, come again;
the tally merges by maximum, so anything delivered twice changes nothing.
"""

from __future__ import annotations

from chalice import Blueprint

from chalicelib.config import stream_arn
from chalicelib.services import coupons
from chalicelib.streams.events import record_failures

blueprint = Blueprint(__name__)


def _sold(record: dict) -> tuple[str, int, int] | None:
    """(campaign, shard, coupons sold) from a stock item's new image; None for a removal."""
    image = (record.get("dynamodb") or {}).get("NewImage")
    if not image:
        return None
    allotment, remaining = int(image["allotment"]["N"]), int(image["remaining"]["N"])
    return image["campaign_id"]["S"], int(image["shard"]["N"]), allotment - remaining


def tally_batch(records: list[dict]) -> dict:
    """The Lambda response for one batch: the failed records of campaigns whose tally failed."""
    from chalicelib.observability import logger

    sold = {}
    for record in records:
        seen = _sold(record)
        if seen is not None:
            sold[record["dynamodb"]["SequenceNumber"]] = seen
    failed = coupons.tally_stock(sold.values())
    failures = record_failures.get()
    reported = []
    for sequence, (campaign_id, _, _) in sold.items():
        if campaign_id in failed:
            reported.append({"itemIdentifier": sequence})
            if failures is not None:
                failures[sequence] = failed[campaign_id]
    for campaign_id, exc in failed.items():
        logger.error("coupon stock tally failed", extra={"campaign_id": campaign_id, "error": repr(exc)})
    return {"batchItemFailures": reported}


# Up to 1,000 records or 1 s a batch: at 10,000 redeems a second, each stream shard's poller
# writes a campaign's tally about once a second instead of once per 100 records.
@blueprint.on_dynamodb_record(stream_arn=stream_arn("CampaignStock"), batch_size=1000,
                              maximum_batching_window_in_seconds=1, name="tally_coupon_stock")
def tally_coupon_stock(event):
    return tally_batch(event.to_dict().get("Records", []))


tally_coupon_stock.func.effects = (coupons.tally_stock,)  # type: ignore[attr-defined]  # one, per batch

"""Activity sharing: the switches, sharing an activity, and withdrawing it (one, or a whole kind).

Sharing. The source tables' streams (Wishlists, Reviews, Answers, Follows, Coupons) hand their new
items to `share_*` batch effects: ONE BatchGetItem reads the settings of every user in the batch,
and each activity whose kind is on is put in ONE transaction that also checks the switch is still
on (a kind turned off meanwhile shares nothing) and that the activity does not exist yet (its id
comes from the source record: a redelivery, or a replay after a withdrawal, shares nothing again).

Fan-out. The Activities stream hands a new activity to `services.fanout` (the posts' jobs, push or
pull, blocks and window alike) and to the user's recent-posts item (what pull-mode readers merge).

Withdrawal. An activity is withdrawn by marking it (`withdrawn_at`; the tombstone expires after
`TOMBSTONE_SECONDS`). The MODIFY takes it out of the recent-posts item and starts the posts' removal
job over the user's followers; a fan-out still running sees the mark at its next step and takes
its own entries back (so nothing not yet fanned out appears later). Turning a kind off starts a
resumable `Job` (one per user and kind, superseded by a later change) that marks the kind's
activities a page at a time; each mark then withdraws as above.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence

from chalicelib.domain import activity as rules
from chalicelib.domain.changes import BatchFailures, Change, per_batch
from chalicelib.domain.ids import epoch_seconds, now_iso
from chalicelib.errors import NotFound
from chalicelib.models.activity import Activity, SharingSettings
from chalicelib.models.base import batch_get, get_or_none, update_if
from chalicelib.models.jobs import Job
from chalicelib.services import jobs

WITHDRAW_JOB = "activity-withdraw"


# -- the switches -------------------------------------------------------------------------------------
def settings_item(user_id: str, *, consistent: bool = False) -> SharingSettings | None:
    return get_or_none(SharingSettings, user_id, rules.SETTINGS_KEY, consistent_read=consistent)


def settings_image(item: SharingSettings | None) -> dict | None:
    """The settings item as plain values (what the domain rules read)."""
    if item is None:
        return None
    return {**{kind: getattr(item, kind) for kind in rules.KINDS}, "wishlist_visibility": item.wishlist_visibility}


def get_sharing(user_id: str) -> dict[str, bool]:
    return rules.sharing_view(settings_image(settings_item(user_id)))


def set_sharing(user_id: str, switches: Mapping[str, bool]) -> dict[str, bool]:
    """One UpdateItem; the settings' stream withdraws every kind this turned off."""
    item = SharingSettings(user_id, rules.SETTINGS_KEY)
    item.update(actions=[*(getattr(SharingSettings, kind).set(bool(on)) for kind, on in switches.items()),
                         SharingSettings.version.add(1), SharingSettings.updated_at.set(now_iso())])
    return rules.sharing_view(settings_image(item))


def get_wishlist_visibility(user_id: str) -> str:
    return rules.visibility_of(settings_image(settings_item(user_id)))


def set_wishlist_visibility(user_id: str, visibility: str) -> str:
    SharingSettings(user_id, rules.SETTINGS_KEY).update(
        actions=[SharingSettings.wishlist_visibility.set(visibility), SharingSettings.updated_at.set(now_iso())])
    return visibility


# -- sharing --------------------------------------------------------------------------------------------
def share(candidates: Sequence[rules.Shared], *, stores_only: bool = False) -> list[str]:
    """Share the candidates whose users have their kind on; the ids of the activities written.

    One BatchGetItem for the users' settings (most users share nothing: nothing more is read or
    written for them); with `stores_only`, one more for the followees, keeping those that are stores.
    """
    if not candidates:
        return []
    user_ids = list(dict.fromkeys(shared.user_id for shared in candidates))
    found = batch_get([(SharingSettings, user_id, rules.SETTINGS_KEY) for user_id in user_ids])
    settings = {user_id: settings_image(item) for user_id, item in zip(user_ids, found, strict=True)}  # type: ignore[arg-type]
    chosen = rules.worth_sharing(candidates, settings)
    if stores_only and chosen:
        from chalicelib.models.merchants import Merchant

        store_ids = list(dict.fromkeys(str(shared.merchant_id) for shared in chosen))
        stores = dict(zip(store_ids, batch_get([(Merchant, m, None) for m in store_ids]), strict=True))
        chosen = [shared for shared in chosen if stores.get(str(shared.merchant_id)) is not None]
    return [shared.activity_id for shared in chosen if _put_activity(shared)]


def _put_activity(shared: rules.Shared) -> bool:
    """The activity, if its kind is still on and it was never shared; False otherwise."""
    from chalicelib.models.transactions import Transaction, TransactionFailed, retry_on_conflict

    item = Activity(shared.user_id, shared.activity_id, type=shared.type, source=shared.source,
                    product_id=shared.product_id, merchant_id=shared.merchant_id, question_id=shared.question_id,
                    question_title=shared.question_title, campaign_id=shared.campaign_id,
                    campaign_title=shared.campaign_title, created_at=shared.created_at, shared_at=now_iso())

    def attempt() -> bool:
        transaction = Transaction()
        transaction.check("switch", SharingSettings, shared.user_id, rules.SETTINGS_KEY,
                          condition=getattr(SharingSettings, shared.type) == True)  # noqa: E712
        transaction.put("activity", item, condition=Activity.activity_id.does_not_exist())
        try:
            transaction.commit()
        except TransactionFailed as exc:
            if exc.failed_on("switch", "activity"):
                return False
            raise
        return True

    return retry_on_conflict(attempt, what=f"the activity of {shared.user_id}")


def _share_inserts(changes: Sequence[Change], extract: Callable[[dict], rules.Shared | None], *,
                   stores_only: bool = False) -> BatchFailures:
    """A batch effect: the batch's new items shared at once, and the activities of its removed items
    (a review deleted or removed by a moderator, a product taken off the wish list, a store
    unfollowed) withdrawn. A moderator's restore shares nothing again (the withdrawn activity stays a
    tombstone). A failure fails the records concerned (they are delivered again; what was written is
    not written twice)."""
    failures: BatchFailures = {}
    steps: tuple[tuple[Callable[[Change], bool], Callable[[list[rules.Shared]], object]], ...] = (
        (lambda change: change.kind == "INSERT", lambda found: share(found, stores_only=stores_only)),
        (lambda change: change.kind == "REMOVE" or change.shown_delta < 0, _withdraw_sources),
    )
    for selects, act in steps:
        candidates = [(change, shared) for change in changes if selects(change)
                      for shared in [extract(change.item)] if shared is not None]
        if not candidates:
            continue
        try:
            act([shared for _, shared in candidates])
        except Exception as exc:  # noqa: BLE001 - reported per record, redelivered
            failures.update({change.sequence_number: exc for change, _ in candidates})
    return failures


def _withdraw_sources(removed: Sequence[rules.Shared]) -> int:
    """The activities of removed source items, where there are any: ONE BatchGetItem, then one
    conditional mark each (most removed items were never shared: nothing is written for them)."""
    keys = list(dict.fromkeys((shared.user_id, shared.activity_id) for shared in removed))
    found = batch_get([(Activity, user_id, activity_id) for user_id, activity_id in keys])
    now, marked = now_iso(), 0
    condition = Activity.activity_id.exists() & Activity.withdrawn_at.does_not_exist()
    for item in found:
        if item is not None and item.withdrawn_at is None:  # type: ignore[attr-defined]
            marked += update_if(item, _tombstone_actions(now), condition)
    return marked


@per_batch
def share_wishlist_adds(changes: Sequence[Change]) -> BatchFailures:
    """Wishlists stream: a product added to a wish list, for users who share `wishlist_add`."""
    return _share_inserts(changes, rules.from_wishlist)


@per_batch
def share_reviews(changes: Sequence[Change]) -> BatchFailures:
    """Reviews stream: a new review, for users who share `review`."""
    return _share_inserts(changes, rules.from_review)


@per_batch
def share_answers(changes: Sequence[Change]) -> BatchFailures:
    """Answers stream: a new answer, for users who share `answer`."""
    return _share_inserts(changes, rules.from_answer)


@per_batch
def share_store_follows(changes: Sequence[Change]) -> BatchFailures:
    """Follows stream: following a store, for users who share `store_follow` (an unfollow withdraws it)."""
    return _share_inserts(changes, rules.from_follow, stores_only=True)


@per_batch
def share_coupon_redeems(changes: Sequence[Change]) -> BatchFailures:
    """Coupons stream: a coupon redeemed (issued to its holder), for users who share `coupon_redeemed`."""
    return _share_inserts(changes, rules.from_coupon)


# -- reading one ----------------------------------------------------------------------------------------
def is_shared(user_id: str, activity_id: str) -> bool:
    """One consistent GetItem: does the activity exist, not withdrawn? (A fan-out step asks.)"""
    data = Activity._get_connection().get_item(user_id, activity_id, consistent_read=True,
                                               attributes_to_get=["activity_id", "withdrawn_at"])
    item = data.get("Item")
    return bool(item) and "withdrawn_at" not in item


# -- withdrawing ----------------------------------------------------------------------------------------
def _tombstone_actions(now: str) -> list:
    return [Activity.withdrawn_at.set(now), Activity.expires_at.set(epoch_seconds() + rules.TOMBSTONE_SECONDS)]


def withdraw(user_id: str, activity_id: str) -> None:
    """`DELETE /me/activity/{activity_id}`: the caller's own activity (idempotent: one already
    withdrawn stays so); someone else's or an unknown one is a 404."""
    if activity_id.startswith(rules.ACTIVITIES_UPPER_BOUND) or len(activity_id) > 64:
        raise NotFound(f"No shared activity {activity_id[:64]}")
    condition = Activity.activity_id.exists() & Activity.withdrawn_at.does_not_exist()
    if update_if(Activity(user_id, activity_id), _tombstone_actions(now_iso()), condition):
        return
    if get_or_none(Activity, user_id, activity_id, consistent_read=True) is None:
        raise NotFound(f"No shared activity {activity_id}")


def withdraw_job_id(user_id: str, kind: str) -> str:
    return f"{WITHDRAW_JOB}#{user_id}#{kind}"


def start_withdrawal(user_id: str, kind: str, version: int) -> bool:
    """A kind turned off: a job marks every activity of that kind shared before it started. A later
    change's job (a higher settings version) supersedes a running one; a replayed record's does not."""
    return jobs.start(withdraw_job_id(user_id, kind), WITHDRAW_JOB, user_id, phase=kind,
                      generation=jobs.generation_of(version), supersede=True)


def run_withdraw_step(job: Job) -> jobs.StepResult:
    """One page of the user's activities of the kind (ONE Query of their partition, filtered), marked
    withdrawn in BatchWriteItem chunks of 25. Redone after a crash it finds what it marked already
    filtered out; only what was shared before the job started is marked (a kind turned on again
    shares anew)."""
    from pynamodb.constants import ITEMS, LAST_EVALUATED_KEY

    from chalicelib.models.batches import write_batches

    kind, user_id = str(job.phase), job.subject
    data = Activity._get_connection().query(
        user_id, range_key_condition=Activity.activity_id < rules.ACTIVITIES_UPPER_BOUND,
        filter_condition=(Activity.type == kind) & Activity.withdrawn_at.does_not_exist()
        & (Activity.shared_at <= job.created_at),
        limit=rules.WITHDRAW_PAGE_SIZE, exclusive_start_key=jobs.cursor_of(job), consistent_read=True,
    )
    now, expires = now_iso(), epoch_seconds() + rules.TOMBSTONE_SECONDS
    marked = [{**raw, "withdrawn_at": {"S": now}, "expires_at": {"N": str(expires)}} for raw in data.get(ITEMS) or []]
    write_batches(Activity, items=marked)
    following = data.get(LAST_EVALUATED_KEY)
    return jobs.StepResult(processed=len(marked), phase=kind, cursor=following, done=following is None)


def withdrawal_status(user_id: str, kind: str) -> Job | None:
    return jobs.status(withdraw_job_id(user_id, kind))


# -- stream effects (Activities) ------------------------------------------------------------------------
def _is_settings(item: Mapping) -> bool:
    return item.get("activity_id") == rules.SETTINGS_KEY


def newly_withdrawn(change: Change) -> dict | None:
    """The activity a change withdraws: marked withdrawn now, or removed (erased) while still shared.
    The tombstone's own expiry withdraws nothing."""
    item = change.item
    if _is_settings(item):
        return None
    marked_now = (change.new or {}).get("withdrawn_at") and not (change.old or {}).get("withdrawn_at")
    if change.kind == "MODIFY" and marked_now:
        return item
    if change.kind == "REMOVE" and not item.get("withdrawn_at"):
        return item
    return None


def fan_out_activity(change: Change) -> None:
    """Activities stream: a new activity joins the user's recent posts and goes to their followers."""
    from chalicelib.services import fanout, recent_posts

    item = change.item
    if change.kind != "INSERT" or _is_settings(item) or item.get("withdrawn_at"):
        return
    recent_posts.keep_recent_activity(item["user_id"], item["activity_id"], shared=True)
    fanout.start_activity_fan_out(item["activity_id"], item["user_id"], item["created_at"])


def withdraw_activity(change: Change) -> None:
    """Activities stream: a withdrawn activity leaves the recent posts and every follower's feed."""
    from chalicelib.services import fanout, recent_posts

    item = newly_withdrawn(change)
    if item is None:
        return
    recent_posts.keep_recent_activity(item["user_id"], item["activity_id"], shared=False)
    fanout.withdraw_activity_everywhere(item["activity_id"], item["user_id"])


def kinds_turned_off(change: Change) -> tuple[str, list[str], int] | None:
    """(user, kinds switched off, settings version) a settings change asks to withdraw."""
    if change.kind != "MODIFY" or not _is_settings(change.item):
        return None
    kinds = rules.turned_off(change.old, change.new)
    if not kinds:
        return None
    return change.item["user_id"], kinds, int((change.new or {}).get("version") or 0)


def withdraw_turned_off_kinds(change: Change) -> None:
    """Activities stream: each kind the user turned off starts its withdrawal job."""
    due = kinds_turned_off(change)
    if due is None:
        return
    user_id, kinds, version = due
    for kind in kinds:
        start_withdrawal(user_id, kind, version)


def activities_of(user_id: str, kinds: Iterable[str] | None = None) -> list[Activity]:
    """Every shared (not withdrawn) activity of the user, newest first: for tests and the bench."""
    wanted = set(kinds or rules.KINDS)
    return [item for item in Activity.query(user_id, Activity.activity_id < rules.ACTIVITIES_UPPER_BOUND,
                                            scan_index_forward=False, consistent_read=True)
            if item.withdrawn_at is None and item.type in wanted]


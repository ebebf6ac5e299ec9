"""DELETE /me: the account's erasure, as a resumable job (`services.jobs`), one bounded page a step.

`request_erasure` writes the tombstone first (`rate_limits.tombstone`: `/me` and every write of the
account's remaining tokens answer 401 `AccountDeleted`), then starts the job `erase#<user_id>`; a
second request finds it running (or done) and answers with the same job. Each step runs the job's
current phase for one page of rows found by `services.personal_data` (a key or an index, never a full-table read)
and records where it got to; a phase with nothing left moves on in the same step (up to
`PHASES_PER_STEP`). Every phase is idempotent (deleting what is gone is a no-op), so a crash redoes
one step and nothing else.

Others' data stays consistent through the streams the deletes already drive: a deleted post leaves
every feed (`fanout.remove_deleted_post`), follows drop the counts and the audiences, likes, poll
votes, answer votes and helpful marks drop their tallies and counts, judge scores recompute the
merchant's tier. Points and expert scores that others earned from the account's answer votes and
helpful marks stand: those rows are marked `erased_at` before they are deleted, and the reward and
expert effects skip marked records (`domain.changes.is_erasure`). Answers and reviews stay (their
cards show the deleted user once the profile is gone); questions with answers stay, others go. A
store's campaigns end (issued coupons stay valid) and its products go (cards show them unavailable).
A circle passes to its longest-standing member, or goes when it has none. The Cognito user goes
first (no token can be refreshed after it), the uploads (S3) and the profile last, then an audit
record without personal data is written.

Shared activities go with the sharing settings (each still shared leaves every feed through the
Activities stream); the user's reports go, and others' reports of the account with its queue item,
while the moderation audit log stays; a host's live rooms end as the host would end them (viewers
get the `status` event), the user's chat and room markers go (the rooms' distinct counts stand).
A feature whose table is merged later adds its own phase with `add_phase(name, phase)`.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from chalicelib.auth import Caller
from chalicelib.domain.ids import now_iso
from chalicelib.errors import Conflict, DomainError
from chalicelib.models.base import delete_if, get_or_none, update_if
from chalicelib.models.jobs import Job
from chalicelib.services import jobs
from chalicelib.services.personal_data import REGISTRY, Reach

ERASE_JOB = "erase-account"
PAGE_SIZE = 25  # rows a step handles in a phase: one BatchWriteItem's worth
PHASES_PER_STEP = 8  # empty phases one step may pass through


def job_id_of(user_id: str) -> str:
    return f"erase#{user_id}"


@dataclass(frozen=True)
class Progress:
    processed: int
    cursor: dict | None  # None: the phase is finished


#: A phase: (user id, the job, where it got to) -> what it did and where it goes on.
PhaseFunction = Callable[[str, Job, dict | None], Progress]


# -- paging over the registry's reaches ------------------------------------------------------------
def _reach(table: str, index: str | None = None) -> Reach:
    entry = REGISTRY.entries[table]
    for reach in getattr(entry, "reaches", ()):
        if reach.index == index:
            return reach
    raise KeyError((table, index))


def _page(reach: Reach, user_id: str, cursor: dict | None, limit: int = PAGE_SIZE) -> tuple[list, dict | None]:
    """The next page of `reach`'s rows over all its hash keys; the cursor names the key and the page."""
    keys = reach.keys(user_id)
    position = cursor or {"k": 0, "after": None}
    k = int(position["k"])
    while k < len(keys):
        rows, after = reach.page(keys[k], limit, position.get("after") if k == int(position["k"]) else None)
        if after:
            return rows, {"k": k, "after": after}
        if rows:
            return rows, ({"k": k + 1, "after": None} if k + 1 < len(keys) else None)
        k += 1
    return [], None


def _deleting(table: str, index: str | None = None,
              each: Callable[[str, object], object] | None = None,
              then: Callable[[str, list], object] | None = None) -> PhaseFunction:
    """A phase deleting a page of the reach's rows at a time (each row by its key; `each` instead,
    when a row needs more than a delete; `then` after a page's deletes, with its rows)."""

    def phase(user_id: str, job: Job, cursor: dict | None) -> Progress:
        reach = _reach(table, index)
        rows, after = _page(reach, user_id, cursor)
        if each is not None:
            for row in rows:
                each(user_id, row)
        elif rows:
            with reach.model.batch_write() as batch:
                for row in rows:
                    batch.delete(row)
        if then is not None and rows:
            then(user_id, rows)
        return Progress(len(rows), after)

    return phase


# -- the phases that need more than a delete -------------------------------------------------------
def _caller(user_id: str, job: Job) -> Caller:
    return Caller(user_id=user_id, username=job.ref or user_id, groups=frozenset({"merchants", "judges"}))


def _tombstone(user_id: str, job: Job, cursor: dict | None) -> Progress:
    from chalicelib.services.rate_limits import tombstone

    tombstone(user_id, time.time())
    return Progress(0, None)


def _delete_post(user_id: str, row) -> None:
    from chalicelib.models.posts import Post

    delete_if(Post(row.post_id), Post.author_id == user_id)  # its stream takes it out of every feed


def _delete_liked_windows(user_id: str, rows: list) -> None:
    """The `LikedPosts` window items of the likes just deleted. The Likes stream deletes a window's
    item when its last post leaves, except an overflowed one (it stands for likes it does not list):
    named here, so none outlives the account."""
    from chalicelib.models.social import LikedPosts
    from chalicelib.services.social import liked_key, post_of_like

    with LikedPosts.batch_write() as batch:
        for key in sorted({liked_key(user_id, post_of_like(row.like_key)) for row in rows}):  # keys-only rows
            batch.delete(LikedPosts(key))


def _delete_comment(user_id: str, row) -> None:
    from chalicelib.models.social import Comment

    delete_if(Comment(row.post_id, row.comment_id), Comment.author_id == user_id)


def _erase_marked(model, key: tuple) -> None:
    """Mark, then delete: the REMOVE record carries `erased_at`, so the points it gave stand."""
    from chalicelib.domain.changes import ERASED

    item = model(*key)
    if update_if(item, [getattr(model, ERASED).set(now_iso())], model._hash_key_attribute().exists()):
        delete_if(model(*key), getattr(model, ERASED).exists())


def _erase_answer_vote(user_id: str, row) -> None:
    from chalicelib.models.advice import AnswerVote

    _erase_marked(AnswerVote, (row.vote_key, user_id))


def _erase_helpful_mark(user_id: str, row) -> None:
    from chalicelib.models.advice import HelpfulMark

    _erase_marked(HelpfulMark, (row.review_id, user_id))


def _question(user_id: str, job: Job, cursor: dict | None) -> Progress:
    """Questions without answers go (with their label listings); those with answers stay."""
    from chalicelib.services import questions

    rows, after = _page(_reach("Questions", "by_asker"), user_id, cursor)
    for row in rows:
        try:
            questions.delete_question(_caller(user_id, job), row.question_id)
        except Conflict:
            pass  # it has answers: it stays, with the deleted-user card
        except DomainError:
            pass  # gone meanwhile
    return Progress(len(rows), after)


def _circle(user_id: str, row) -> None:
    """A membership goes; an owned circle passes to its longest-standing member first, or goes."""
    from chalicelib.models.groups import Group, GroupMember
    from chalicelib.models.transactions import Transaction
    from chalicelib.services.groups import OWNER

    membership = get_or_none(GroupMember, *GroupMember.key(row.group_id, user_id), consistent_read=True)
    if membership is None:
        return
    if membership.role != OWNER:
        delete_if(membership, GroupMember.user_id.exists())
        return
    heir = None
    members = (member for key in GroupMember.keys_of(row.group_id)  # every shard of the circle
               for member in GroupMember.query(key, attributes_to_get=["user_id", "joined_at", "role"]))
    for member in members:
        if member.user_id != user_id and (heir is None or (member.joined_at, member.user_id)
                                          < (heir.joined_at, heir.user_id)):
            heir = member
    with Transaction() as transaction:
        if heir is None:
            transaction.delete("circle", Group(row.group_id))
        else:
            transaction.update("circle", Group(row.group_id), actions=[Group.owner_id.set(heir.user_id)],
                               condition=Group.group_id.exists())
            transaction.update("heir", GroupMember(*GroupMember.key(row.group_id, heir.user_id)),
                               actions=[GroupMember.role.set(OWNER)], condition=GroupMember.user_id.exists())
        transaction.delete("owner", GroupMember(*GroupMember.key(row.group_id, user_id)))


def _end_campaign(user_id: str, row) -> None:
    from chalicelib.services import coupons

    campaign = coupons._read_campaign(row.campaign_id)
    if campaign.ended_at is None:
        coupons.end_campaign(Caller(user_id=user_id, username=user_id, groups=frozenset({"merchants"})),
                             row.campaign_id)


def _delete_product(user_id: str, row) -> None:
    from chalicelib.models.advice import Product

    delete_if(Product(row.product_id), Product.merchant_id == user_id)  # its cards show it unavailable


def _activity(user_id: str, job: Job, cursor: dict | None) -> Progress:
    """The sharing settings first (every kind is off from here: a share in flight fails its check of
    the switch), then the activities a page at a time, read consistently. Each REMOVE of one still
    shared takes it out of every follower's feed through the Activities stream
    (`activity.withdraw_activity`); a fan-out still running sees it gone and takes its entries back."""
    from chalicelib.domain.activity import ACTIVITIES_UPPER_BOUND, SETTINGS_KEY
    from chalicelib.models.activity import Activity, SharingSettings
    from chalicelib.models.batches import write_batches

    if cursor is None:
        SharingSettings(user_id, SETTINGS_KEY).delete()
    result = Activity.query(user_id, Activity.activity_id < ACTIVITIES_UPPER_BOUND, consistent_read=True,
                            limit=PAGE_SIZE, last_evaluated_key=(cursor or {}).get("after"),
                            attributes_to_get=["user_id", "activity_id"])
    rows = list(result)
    write_batches(Activity, deletes=[Activity(user_id, row.activity_id) for row in rows])
    after = result.last_evaluated_key
    return Progress(len(rows), {"after": after} if after else None)


def _end_room(user_id: str, row) -> None:
    """A room still scheduled or live ends as its host would end it: status `ended` (the LiveRooms
    stream sends viewers the `status` event), the IVS stream stopped. Ended rooms stay, with the
    deleted-user card as host."""
    from chalicelib.domain.live import ENDED
    from chalicelib.services import live

    if row.status != ENDED:
        live.end(Caller(user_id=user_id, username=user_id, groups=frozenset({"merchants"})), row.room_id)


def _delete_report(user_id: str, row) -> None:
    """The user's report goes; the target's queue item keeps its count (reports are never un-counted)
    but loses the reason when it is this report's words (the same time and reason as the last one)."""
    from chalicelib.domain.moderation import target_key
    from chalicelib.models.moderation import Report, ReportTarget

    delete_if(Report(row.report_key, user_id), Report.reporter_id.exists())
    update_if(ReportTarget(target_key(row.target_type, row.target_id)), [ReportTarget.last_reason.remove()],
              (ReportTarget.last_reported_at == row.created_at) & (ReportTarget.last_reason == row.reason))


def _reports_of_account(user_id: str) -> list[str]:
    from chalicelib.domain.moderation import target_key
    from chalicelib.domain.polls import VOTE_SHARDS

    return [f"{target_key('user', user_id)}#{shard}" for shard in range(VOTE_SHARDS)]


def _reports_about(user_id: str, job: Job, cursor: dict | None) -> Progress:
    """Others' reports of the account (its 16 report partitions), then its `user#<id>` queue item: the
    target is gone. Reports of its content stay with that content's queue item (no user id in it)."""
    from chalicelib.domain.moderation import target_key
    from chalicelib.models.moderation import Report, ReportTarget

    rows, after = _page(Reach(Report, keys=_reports_of_account), user_id, cursor)
    if rows:
        with Report.batch_write() as batch:
            for row in rows:
                batch.delete(row)
    if after is None:
        ReportTarget(target_key("user", user_id)).delete()
    return Progress(len(rows), after)


def _uploads(user_id: str, job: Job, cursor: dict | None) -> Progress:
    """The account's images (`uploads/<user>/`) and exports (`exports/<user>/`), 1,000 a step."""
    from chalicelib.config import get_settings
    from chalicelib.domain.uploads import UPLOAD_PREFIX
    from chalicelib.services.exports import EXPORT_PREFIX
    from chalicelib.services.uploads import s3_client

    bucket = get_settings().media_bucket
    if not bucket:
        return Progress(0, None)
    prefixes = [f"{UPLOAD_PREFIX}{user_id}/", f"{EXPORT_PREFIX}{user_id}/"]
    position = cursor or {"p": 0}
    p = int(position["p"])
    s3 = s3_client()
    listing = s3.list_objects_v2(Bucket=bucket, Prefix=prefixes[p], MaxKeys=1000)
    objects = [{"Key": item["Key"]} for item in listing.get("Contents") or []]
    if objects:
        s3.delete_objects(Bucket=bucket, Delete={"Objects": objects, "Quiet": True})
    if listing.get("IsTruncated"):
        return Progress(len(objects), {"p": p})
    return Progress(len(objects), {"p": p + 1} if p + 1 < len(prefixes) else None)


def _cognito(user_id: str, job: Job, cursor: dict | None) -> Progress:
    from chalicelib.config import get_settings
    from chalicelib.services.profiles import _cognito as cognito_client

    pool_id = get_settings().user_pool_id
    if not pool_id:
        return Progress(0, None)
    client = cognito_client()
    try:
        client.admin_delete_user(UserPoolId=pool_id, Username=job.ref or user_id)
    except client.exceptions.UserNotFoundException:
        return Progress(0, None)  # deleted by an earlier run of this step
    return Progress(1, None)


def _audit(user_id: str, job: Job, cursor: dict | None) -> Progress:
    """The audit record: when an erasure was asked and finished, and how many rows it handled; no
    user id, no name (`audit#<random id>`, kept without expiry)."""
    import hashlib
    import hmac

    from chalicelib.config import get_settings
    from chalicelib.models.base import put_unless_present

    # the same id on a redone step, and no way back to the account without the stage's secret
    audit_id = hmac.new(get_settings().cursor_secret, f"{job.job_id}#{job.created_at}".encode(),
                        hashlib.sha256).hexdigest()[:26]
    put_unless_present(Job(f"audit#{audit_id}", kind="erasure-audit", subject="-", phase="done", steps=int(job.steps),
                           processed=int(job.processed), done=True, created_at=job.created_at,
                           finished_at=now_iso()))
    return Progress(1, None)


PHASES: dict[str, PhaseFunction] = {
    "tombstone": _tombstone,
    # first: no refresh token of the account works from here on, so the tombstone (written again by
    # the step before, for the next 62 minutes) outlasts every token it could still hold
    "cognito": _cognito,
    "posts": _deleting("Posts", "by_writer", _delete_post),
    "comments": _deleting("Comments", "by_author", _delete_comment),
    "likes": _deleting("Likes", "by_user", then=_delete_liked_windows),
    "poll_votes": _deleting("PollVotes", "by_user"),
    "answer_votes": _deleting("AnswerVotes", "by_voter", _erase_answer_vote),
    "helpful_marks": _deleting("HelpfulMarks", "by_user", _erase_helpful_mark),
    "questions": _question,
    "activity": _activity,
    "wishlist": _deleting("Wishlists"),
    "follows": _deleting("Follows"),
    "followers": _deleting("Follows", "followers"),
    "blocks": _deleting("Blocks"),
    "blocked_by": _deleting("Blocks", "blocked_by"),
    "circles": _deleting("GroupMembers", "by_user", _circle),
    "campaigns": _deleting("Campaigns", "by_merchant", _end_campaign),
    "products": _deleting("Products", "by_merchant", _delete_product),
    "store": _deleting("Merchants"),
    "live_rooms": _deleting("LiveRooms", "by_host", _end_room),
    "live_chat": _deleting("LiveChat", "by_user"),
    "live_activity": _deleting("LiveActivity", "by_viewer"),
    "reports": _deleting("Reports", "by_reporter", _delete_report),
    "reports_about": _reports_about,
    "judge_scores": _deleting("Ratings", "by_judge"),
    "coupons": _deleting("Coupons", "by_owner"),
    "coupon_claims": _deleting("UserCouponClaims"),
    "notifications": _deleting("Notifications"),
    "feed": _deleting("Feeds"),
    "recent_posts": _deleting("RecentPosts"),
    "audience": _deleting("AudienceBuckets"),
    "ledger": _deleting("Ledger"),
    "wallet": _deleting("Wallets"),
    "experts": _deleting("Experts"),
    "uploads": _uploads,
    "profile": _deleting("Users"),
}
#: The phases that query an index (eventually consistent) run once more near the end: a row written in
#: the moment before the tombstone, not yet in its index at the first pass, is found by the second.
RECHECKED = ("posts", "comments", "likes", "poll_votes", "answer_votes", "helpful_marks", "questions", "activity",
             "live_chat", "live_activity", "reports")
PHASES = {**{name: phase for name, phase in PHASES.items() if name not in ("uploads", "profile")},
          **{f"recheck_{name}": PHASES[name] for name in RECHECKED},
          "uploads": PHASES["uploads"], "profile": PHASES["profile"]}
#: Each registry table's phase names, where they differ from `Owned.erase` (one table, two phases).
TABLE_PHASES = {"follows": ("follows", "followers"), "blocks": ("blocks", "blocked_by"),
                "coupons": ("coupons", "coupon_claims")}
_LAST = ("uploads", "profile")  # added phases run before these


def add_phase(name: str, phase: PhaseFunction) -> None:
    """A feature merged later registers its erasure phase (`live_rooms`, `activity`): it runs before
    the uploads and the profile go."""
    global PHASES
    items = [(key, value) for key, value in PHASES.items() if key not in _LAST and key != name]
    PHASES = dict(items + [(name, phase)] + [(key, PHASES[key]) for key in _LAST])


def run_erase_step(job: Job) -> jobs.StepResult:
    """One step: the current phase's next page, then (while phases come up empty) the next phases."""
    user_id = job.subject
    names = list(PHASES) + ["audit"]
    phase = job.phase or names[0]
    cursor = jobs.cursor_of(job)
    processed = 0
    for _ in range(PHASES_PER_STEP):
        run = _audit if phase == "audit" else PHASES[phase]
        progress = run(user_id, job, cursor)
        processed += progress.processed
        if progress.cursor is not None:
            return jobs.StepResult(processed, phase=phase, cursor=progress.cursor)
        following = names.index(phase) + 1
        if following >= len(names):
            return jobs.StepResult(processed, phase="done", done=True)
        phase, cursor = names[following], None
        if progress.processed:
            break  # a phase that did work ends the step: steps stay bounded
    return jobs.StepResult(processed, phase=phase, cursor=None)


# -- the request ------------------------------------------------------------------------------------
def request_erasure(caller: Caller) -> Job:
    """DELETE /me: the tombstone now, the job started (or the one running or done, unchanged)."""
    from chalicelib.services import exports
    from chalicelib.services.rate_limits import tombstone

    tombstone(caller.user_id, time.time())
    exports.cancel(caller.user_id)  # an export running now would write the account's data after it went
    job_id = job_id_of(caller.user_id)
    found = jobs.status(job_id)
    if found is None:
        started = Job(job_id, kind=ERASE_JOB, subject=caller.user_id, generation="0", phase=next(iter(PHASES)),
                      cursor=None, steps=0, processed=0, done=False, created_at=now_iso(), ref=caller.username)
        from chalicelib.models.base import save_if

        save_if(started, Job.job_id.does_not_exist())  # a second request racing it: the same job
        found = jobs.status(job_id)
    assert found is not None
    return found

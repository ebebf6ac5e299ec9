"""POST /me/export and DELETE /me through the real stream path: the jobs, what the export holds, what
the erasure removes, what it keeps (others' points, answers and reviews with the deleted-user card),
the tombstone, a crash mid-way, and the same under chaos (batches split and delivered twice)."""

from __future__ import annotations

import json
from urllib.parse import parse_qs, urlparse

import pytest

from bench import harness  # noqa: F401  (the DynamoDB call counter, before any client exists)
from chalicelib.schemas.cards import DELETED_USER_NAME
from tests.support.advice import answer, ask, product, review, vote
from tests.support.api import call
from tests.support.points import balance
from tests.support.posts import follow, publish, with_profiles


def export_of(client, streams, user) -> dict:
    started = call(client, "POST", "/me/export", user)
    assert started.status_code == 202, started.data
    export_id = started.data["export_id"]
    streams.drain()
    status = call(client, "GET", f"/me/export/{export_id}", user)
    assert status.status_code == 200, status.data
    assert status.data["status"] == "done", status.data
    url = urlparse(status.data["url"])
    assert 0 < int(parse_qs(url.query)["X-Amz-Expires"][0]) <= 3600
    from chalicelib.config import get_settings
    from chalicelib.services.uploads import s3_client

    key = url.path.lstrip("/")
    bucket = get_settings().media_bucket
    key = key.removeprefix(f"{bucket}/")  # path-style URL
    return json.loads(s3_client().get_object(Bucket=bucket, Key=key)["Body"].read())


def rows(exported: dict, table: str) -> list[dict]:
    return [row for label, found in exported["tables"].items() if label.split(":")[0] == table for row in found]


@pytest.fixture
def world(client, users, streams):
    return build_world(client, users, streams)


def build_world(client, users, streams):
    """A (the account that leaves), B and C, with posts, follows both ways, likes, comments, advice."""
    a, b, c = users("alice"), users("bob"), users("carol")
    store = users("store", groups=("merchants",))
    with_profiles(client, a, b, c, store)
    follow(client, a, b)
    follow(client, b, a)
    follow(client, c, a)
    a_post = publish(client, a, "my new bag")
    b_post = publish(client, b, "b's bag")
    assert call(client, "PUT", f"/posts/{b_post}/like", a).status_code == 200
    assert call(client, "POST", f"/posts/{b_post}/comments", a, {"text": "nice"}).status_code == 201
    poll = publish(client, b, "which?", poll={"options": [{"text": "red"}, {"text": "blue"}]})
    assert call(client, "POST", f"/posts/{poll}/poll/votes", a, {"option": 1}).status_code in (200, 201)
    # B asks, A answers, B accepts: A +15, B +2
    question = ask(client, b)
    a_answer = answer(client, a, question["question_id"])
    accepted = call(client, "POST", f"/questions/{question['question_id']}/accept", b,
                    {"answer_id": a_answer["answer_id"]})
    assert accepted.status_code == 200, accepted.data
    # C asks, B answers, A upvotes B's answer: B +10 (and an expert score)
    other = ask(client, c, title="Which lens?")
    b_answer = answer(client, b, other["question_id"])
    assert vote(client, a, b_answer["answer_id"], 1).status_code == 200
    # B reviews the store's product, A marks it helpful: B +5
    item = product(client, store)
    b_review = review(client, b, item["product_id"])
    assert call(client, "PUT", f"/reviews/{b_review['review_id']}/helpful", a, {"value": True}).status_code == 200
    # A's own review, an unanswered question and a wish-list entry
    a_review = review(client, a, item["product_id"], rating=5)
    lonely = ask(client, a, title="Anyone here?")
    assert call(client, "PUT", f"/me/wishlist/{item['product_id']}", a).status_code == 200
    streams.drain()
    return {"a": a, "b": b, "c": c, "store": store, "a_post": a_post, "b_post": b_post, "poll": poll,
            "question": question, "a_answer": a_answer, "b_answer": b_answer, "product": item,
            "b_review": b_review, "a_review": a_review, "lonely": lonely}


def test_an_export_holds_everything_about_the_caller(client, world, streams):
    a, b = world["a"], world["b"]
    exported = export_of(client, streams, a)
    assert exported["user_id"] == a.user_id
    assert [row["post_id"] for row in rows(exported, "Posts")] == [world["a_post"]]
    assert {(row["follower_id"], row["followee_id"]) for row in rows(exported, "Follows")} == {
        (a.user_id, b.user_id), (b.user_id, a.user_id), (world["c"].user_id, a.user_id)}
    ledger = rows(exported, "Ledger")
    assert any(row.get("amount") == 15 for row in ledger), ledger
    assert [row["text"] for row in rows(exported, "Comments")] == ["nice"]
    assert [row["user_id"] for row in rows(exported, "Likes")] == [a.user_id]
    assert [row["answer_id"] for row in rows(exported, "Answers")] == [world["a_answer"]["answer_id"]]
    assert [row["value"] for row in rows(exported, "AnswerVotes")] == [1]
    assert [row["review_id"] for row in rows(exported, "Reviews")] == [world["a_review"]["review_id"]]
    assert [row["review_id"] for row in rows(exported, "HelpfulMarks")] == [world["b_review"]["review_id"]]
    assert [row["question_id"] for row in rows(exported, "Questions")] == [world["lonely"]["question_id"]]
    assert [row["product_id"] for row in rows(exported, "Wishlists")] == [world["product"]["product_id"]]
    assert [(row["post_id"], row["option"]) for row in rows(exported, "PollVotes")] == [(world["poll"], 1)]
    assert rows(exported, "Wallets")[0]["balance"] == balance(client, a)
    assert rows(exported, "Users")[0]["user_id"] == a.user_id
    assert rows(exported, "Notifications")  # B's acceptance, at least
    # nothing of B's own rows
    assert all(row.get("author_id") in (None, a.user_id) for row in rows(exported, "Posts"))


def test_an_export_asked_twice_while_it_runs_is_the_same_job_and_others_cannot_read_it(client, world, streams):
    a, b = world["a"], world["b"]
    first = call(client, "POST", "/me/export", a).data
    again = call(client, "POST", "/me/export", a).data
    assert first["export_id"] == again["export_id"]
    assert call(client, "GET", f"/me/export/{first['export_id']}", a).data["status"] in ("pending", "running")
    assert call(client, "GET", f"/me/export/{first['export_id']}", b).status_code == 404
    streams.drain()
    assert call(client, "GET", f"/me/export/{first['export_id']}", a).data["status"] == "done"
    # once done, a new request is a new export
    assert call(client, "POST", "/me/export", a).data["export_id"] != first["export_id"]


def erase(client, streams, user) -> None:
    response = call(client, "DELETE", "/me", user)
    assert response.status_code == 202, response.data
    streams.drain()


def assert_erased(client, world, users_factory):
    a, b, c = world["a"], world["b"], world["c"]
    from chalicelib.models.jobs import Job

    job = Job.get(f"erase#{a.user_id}", consistent_read=True)
    assert job.done, (job.phase, job.steps)
    # the tombstone: /me and writes answer 401 AccountDeleted
    me = call(client, "GET", "/me", a)
    assert (me.status_code, me.data["Code"]) == (401, "AccountDeleted")
    write = call(client, "POST", "/posts", a, {"text": "still here?"})
    assert (write.status_code, write.data["Code"]) == (401, "AccountDeleted")
    # asked again: the same (finished) job
    assert call(client, "DELETE", "/me", a).data == {"status": "done"}
    # the profile, posts, follows and feed entries are gone
    assert call(client, "GET", f"/users/{a.user_id}", b).status_code == 404
    assert call(client, "GET", f"/posts/{world['a_post']}", b).status_code == 404
    for user in (b, c):
        feed = call(client, "GET", "/feed", user).data["items"]
        assert world["a_post"] not in [item.get("post_id") for item in feed]
        followers = call(client, "GET", f"/users/{user.user_id}/followers", user).data["items"]
        following = call(client, "GET", f"/users/{user.user_id}/following", user).data["items"]
        assert a.user_id not in [ref["user_id"] for ref in followers + following]
    b_profile = call(client, "GET", f"/users/{b.user_id}", b).data
    assert (b_profile["follower_count"], b_profile["following_count"]) == (0, 0)
    # counts and tallies drop
    counts = call(client, "GET", f"/posts/{world['b_post']}", b).data
    assert (counts["like_count"], counts["comment_count"]) == (0, 0)
    poll = call(client, "GET", f"/posts/{world['poll']}", b).data["poll"]
    assert [option["votes"] for option in poll["options"]] == [0, 0]
    b_answer = call(client, "GET", f"/questions/{world['b_answer']['question_id']}/answers", b).data["items"][0]
    assert b_answer["upvotes"] == 0
    # A's accepted answer stays on B's question, from a deleted user; A's review stays too
    answers = call(client, "GET", f"/questions/{world['question']['question_id']}/answers", b).data["items"]
    assert [(item["answer_id"], item["user"]["display_name"], item["user"]["user_id"]) for item in answers] == [
        (world["a_answer"]["answer_id"], DELETED_USER_NAME, None)]
    reviews = call(client, "GET", f"/products/{world['product']['product_id']}/reviews", b).data["items"]
    assert DELETED_USER_NAME in [item["user"]["display_name"] for item in reviews]
    # the question without answers went
    assert call(client, "GET", f"/questions/{world['lonely']['question_id']}", b).status_code == 404
    # the Cognito user is gone
    from botocore.exceptions import ClientError

    with pytest.raises(ClientError) as gone:
        users_factory.cognito.admin_get_user(UserPoolId=users_factory.pool_id, Username=a.email)
    assert gone.value.response["Error"]["Code"] == "UserNotFoundException"
    # nothing of A's is left in the tables the registry names
    from chalicelib.services.personal_data import KEPT, REGISTRY

    for entry in REGISTRY.owned():
        if entry.erase.startswith(KEPT):
            continue
        for reach in entry.reaches:
            for hash_key in reach.keys(a.user_id):
                assert reach.page(hash_key, 10, None)[0] == [], (entry.table, reach.index)


def test_an_erasure_removes_the_account_and_keeps_others_points(client, users, world, streams):
    b = world["b"]
    b_points = balance(client, b)
    assert b_points == 2 + 10 + 5
    from chalicelib.models.points import ExpertScore

    def expert_scores(user):
        return [(score.label, int(score.score)) for score in ExpertScore.query(user.user_id, consistent_read=True)]

    assert expert_scores(b) == [("camera", 1 + 1)]  # A's upvote and A's helpful mark
    erase(client, streams, world["a"])
    assert_erased(client, world, users)
    assert balance(client, b) == b_points
    assert expert_scores(b) == [("camera", 2)]  # the expert scores A gave stand


def test_an_erasure_under_chaos_ends_the_same(client, users, chaos_streams):
    # the world built with the chaos runner: every batch split at random and delivered twice
    world_ = build_world(client, users, chaos_streams)
    b_points = balance(client, world_["b"])
    erase(client, chaos_streams, world_["a"])
    assert_erased(client, world_, users)
    assert balance(client, world_["b"]) == b_points


def test_an_erasure_that_crashes_mid_step_resumes_from_the_last_recorded_step(client, users, world, streams,
                                                                                monkeypatch):
    from chalicelib.services import erasure

    monkeypatch.setattr(erasure, "PAGE_SIZE", 1)
    original, calls = erasure._erase_answer_vote, []

    def crash_once(user_id, row):
        calls.append(row)
        if len(calls) == 1:
            raise RuntimeError("the Lambda died here, before the vote was erased")
        original(user_id, row)

    monkeypatch.setattr(erasure, "_erase_answer_vote", crash_once)
    monkeypatch.setitem(erasure.PHASES, "answer_votes", erasure._deleting("AnswerVotes", "by_voter", crash_once))
    b_points = balance(client, world["b"])
    erase(client, streams, world["a"])
    assert len(calls) == 2  # the step that died was redone, once
    assert_erased(client, world, users)
    assert balance(client, world["b"]) == b_points
    assert streams.set_aside == []


def test_an_erased_merchant_judge_and_circle_owner(client, users, streams):
    from tests.integration.test_coupons import create as create_campaign

    a = users("alice", groups=("merchants", "judges"))
    b, d = users("bob"), users("dora")
    rated = users("rated", groups=("merchants",))
    with_profiles(client, a, b, d, rated)
    assert call(client, "PUT", "/merchants/me", a, {"store_name": "Alice's"}).status_code == 200
    assert call(client, "PUT", "/merchants/me", rated, {"store_name": "Rated"}).status_code == 200
    item = product(client, a)
    campaign = create_campaign(client, a, points_cost=0)
    coupon = call(client, "POST", f"/coupons/{campaign['campaign_id']}/redeem", b)
    assert coupon.status_code == 201, coupon.data
    assert call(client, "PUT", f"/merchants/{rated.user_id}/ratings/me", a, {"score": 9}).status_code == 200
    shared = call(client, "POST", "/groups", a, {"name": "Bags", "description": "bags", "label": "camera"}).data
    alone = call(client, "POST", "/groups", a, {"name": "Solo", "description": "solo", "label": "camera"}).data
    assert call(client, "PUT", f"/groups/{shared['group_id']}/members/me", d).status_code == 200
    assert call(client, "PUT", f"/groups/{shared['group_id']}/members/me", b).status_code == 200
    streams.drain()
    assert call(client, "GET", f"/merchants/{rated.user_id}", b).data["judge_count"] == 1
    erase(client, streams, a)
    # the product is unavailable, the campaign ended, B's coupon still valid
    assert call(client, "GET", f"/products/{item['product_id']}", b).status_code == 404
    mine = call(client, "GET", "/me/coupons", b).data["items"]
    assert [c["coupon_code"] for c in mine] == [coupon.data["coupon_code"]]
    assert mine[0]["status"] == "issued"
    assert call(client, "POST", f"/coupons/{campaign['campaign_id']}/redeem", d).status_code in (404, 409)
    # the judge score went and the tier was recomputed
    assert call(client, "GET", f"/merchants/{rated.user_id}", b).data["judge_count"] == 0
    # the circle passed to its longest-standing member (D joined first); the solo one went
    group = call(client, "GET", f"/groups/{shared['group_id']}", b).data
    assert group["owner_id"] == d.user_id
    assert group["member_count"] == 2
    assert call(client, "GET", f"/groups/{alone['group_id']}", b).status_code == 404


def test_uploads_go_with_the_account(client, users, streams):
    from chalicelib.config import get_settings
    from chalicelib.services.uploads import s3_client

    a = users("alice")
    with_profiles(client, a)
    bucket = get_settings().media_bucket
    s3_client().put_object(Bucket=bucket, Key=f"uploads/{a.user_id}/one.jpg", Body=b"jpeg")
    s3_client().put_object(Bucket=bucket, Key="uploads/someone-else/two.jpg", Body=b"jpeg")
    erase(client, streams, a)
    keys = [item["Key"] for item in s3_client().list_objects_v2(Bucket=bucket, Prefix="uploads/").get("Contents", [])]
    assert keys == ["uploads/someone-else/two.jpg"]


def test_the_audit_record_holds_no_personal_data(client, users, streams, tables):
    a = users("alice")
    with_profiles(client, a)
    erase(client, streams, a)
    from chalicelib.config import get_settings

    jobs_table = tables.session.resource("dynamodb").Table(get_settings().table_name("Jobs"))
    audits = [item for item in jobs_table.scan()["Items"] if item["job_id"].startswith("audit#")]
    assert len(audits) == 1
    text = json.dumps(audits[0], default=str)
    assert a.user_id not in text and a.email not in text


def test_an_erasure_costs_a_bounded_number_of_calls_and_no_scan(client, users, streams, tables):
    """`bench/erasure.py` on a small typical user: the job's own calls stay within a budget that grows
    with the rows (a Query page and a BatchWriteItem per 25 rows, one write per row that needs its own),
    and nothing in the whole erasure, stream effects included, is a Scan."""
    import math

    from bench import erasure as bench_erasure
    from bench.harness import World
    from chalicelib.services import erasure

    counts = {"followers": 30, "following": 20, "posts": 3, "likes": 30, "comments": 10, "answer_votes": 3,
              "notifications": 10, "ledger": 10, "wishlist": 5}
    measured = bench_erasure.measure(World(client=client, users=users, streams=streams, aws=tables), counts)
    assert measured["scans"] == 0
    own_writes = counts["posts"] + counts["comments"] + 2 * counts["answer_votes"]
    budget = 2 * math.ceil(measured["rows"] / 25) + own_writes + 2 * len(erasure.PHASES) + 12
    assert measured["job_calls"] <= budget, measured
    assert measured["rows"] >= sum(counts.values())


def test_the_tombstone_refuses_writes_and_me_but_other_reads_go_on(client, users, monkeypatch):
    """The tombstone rides on the write-limit counter every write already updates: no extra call on an
    ordinary write; the rare refusal reads the window once to tell a deleted account from a full window."""
    from chalicelib.config import reset_settings
    from chalicelib.services import rate_limits

    monkeypatch.setenv("WRITE_LIMIT_PER_MINUTE", "2")
    reset_settings()
    a, b = users("alice"), users("bob")
    with_profiles(client, a, b)
    assert call(client, "PUT", f"/users/{b.user_id}/follow", a).status_code == 200
    assert call(client, "DELETE", "/me", a).status_code == 202  # DELETE /me counts no write of its own
    for method, path, body in (("POST", "/posts", {"text": "hi"}), ("PUT", f"/users/{b.user_id}/follow", None),
                               ("POST", "/uploads", {"purpose": "post", "content_type": "image/png",
                                                     "size_bytes": 10}), ("GET", "/me", None)):
        refused = call(client, method, path, a, body)
        assert (refused.status_code, refused.data["Code"]) == (401, "AccountDeleted"), (path, refused.data)
    assert call(client, "GET", f"/users/{b.user_id}", a).status_code == 200  # other reads may succeed
    assert call(client, "DELETE", "/me", a).status_code == 202  # asked again: the same job
    # the tombstone outlasts every token the account holds (an hour), then expires by itself
    import time

    now = time.time()
    assert rate_limits.tombstone("someone", now) == 1
    from chalicelib.models.effects import RateBucket

    assert RateBucket.get(rate_limits.writes_bucket("someone")).expires_at >= now + 3600
    monkeypatch.delenv("WRITE_LIMIT_PER_MINUTE")
    reset_settings()


def test_an_erasure_cancels_a_running_export_and_leaves_no_export_file(client, users, streams):
    from chalicelib.config import get_settings
    from chalicelib.services.uploads import s3_client

    a = users("alice")
    with_profiles(client, a)
    publish(client, a, "mine")
    streams.drain()
    export_id = call(client, "POST", "/me/export", a).data["export_id"]
    assert call(client, "DELETE", "/me", a).status_code == 202
    streams.drain()
    assert call(client, "GET", f"/me/export/{export_id}", a).data["status"] == "failed"
    left = s3_client().list_objects_v2(Bucket=get_settings().media_bucket, Prefix=f"exports/{a.user_id}/")
    assert left.get("Contents", []) == []


def test_a_row_missing_from_its_index_at_the_first_pass_goes_in_the_second(client, users, streams, monkeypatch):
    from chalicelib.models.social import Like
    from chalicelib.services import erasure

    a, b = users("alice"), users("bob")
    with_profiles(client, a, b)
    post = publish(client, b, "b's bag")
    assert call(client, "PUT", f"/posts/{post}/like", a).status_code == 200
    streams.drain()
    # the first pass over Likes.by_user finds nothing, as when the index has not caught up yet
    monkeypatch.setitem(erasure.PHASES, "likes", lambda user_id, job, cursor: erasure.Progress(0, None))
    erase(client, streams, a)
    assert list(Like.by_user.query(a.user_id)) == []
    assert call(client, "GET", f"/posts/{post}", b).data["like_count"] == 0

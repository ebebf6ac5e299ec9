"""A client generated from /openapi.json by a real generator (openapi-python-client) drives a shopper's
journey on the local stack through its own models: if the document and the service disagree (a
field missing or mistyped, a timestamp that is not a date-time, an undeclared status or Code), the
generated code refuses the answer and this test fails.

The client is generated into a temporary directory for each run and never committed.
"""

from __future__ import annotations

import importlib
import json
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

PACKAGE = "jianghu_client"


@pytest.fixture(scope="module")
def generated(stack, tmp_path_factory):
    """The generated package, imported from a temporary directory."""
    workdir = tmp_path_factory.mktemp("client")
    document = stack.http.get(f"{stack.api_url}/openapi.json", timeout=30)
    assert document.status_code == 200
    (workdir / "openapi.json").write_text(json.dumps(document.json()))
    (workdir / "config.yaml").write_text("post_hooks: []\n")  # no formatter run: the code is only imported
    generator = Path(sys.executable).with_name("openapi-python-client")
    result = subprocess.run(
        [str(generator), "generate", "--path", "openapi.json", "--meta", "none", "--config", "config.yaml",
         "--output-path", str(workdir / PACKAGE)],
        capture_output=True, text=True, timeout=300, cwd=workdir,
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    assert "Warning" not in result.stdout, result.stdout[-4000:]  # every schema became a model
    sys.path.insert(0, str(workdir))
    try:
        yield importlib.import_module(PACKAGE)
    finally:
        sys.path.remove(str(workdir))
        for name in [name for name in sys.modules if name == PACKAGE or name.startswith(f"{PACKAGE}.")]:
            del sys.modules[name]


def _module(package, name: str):
    return importlib.import_module(f"{package.__name__}.{name}")


def test_a_generated_client_walks_the_shopper_journey_with_its_models(stack, generated):
    api = lambda name: _module(generated, f"api.{name}")  # noqa: E731
    models = _module(generated, "models")
    client_for = lambda user: generated.AuthenticatedClient(  # noqa: E731
        base_url=stack.api_url, token=user.token, raise_on_unexpected_status=True)

    # Given three people who signed in with Cognito, as real clients do, and a store
    asker, helper, voter = (stack.sign_up(name) for name in ("asker", "helper", "voter"))
    merchant = stack.sign_up("store", groups=("merchants",))
    alice, bob, carol, shop = (client_for(user) for user in (asker, helper, voter, merchant))

    me = api("profiles.put_me").sync(client=alice, body=models.UpdateMe(display_name="Alice"))
    assert isinstance(me, models.ProfileOut) and me.display_name == "Alice"
    assert isinstance(api("profiles.get_me").sync(client=bob), models.ProfileOut)
    follow = api("profiles.follow_user").sync(asker.user_id, client=bob)
    assert isinstance(follow, models.FollowState) and follow.following is True

    # When Alice posts a poll, Bob sees it in his feed and votes
    post = api("feed.create_post").sync(client=alice, body=models.CreatePost(
        text="Red or blue kettle?", labels=[models.Label.COOKING],
        poll=models.PollIn(options=[models.PollOptionIn(text="red"), models.PollOptionIn(text="blue")])))
    assert isinstance(post, models.PostOut) and isinstance(post.created_at, datetime)
    feed = stack.eventually(lambda: _feed_with(api, bob, post.post_id), timeout=10)
    assert isinstance(feed, models.FeedItemOutPage)
    assert all(isinstance(item, models.PostOut) and item.kind == "post" for item in feed.items)
    voted = api("feed.vote").sync(post.post_id, client=bob, body=models.VoteIn(option=1))
    assert isinstance(voted, models.PostOut) and voted.poll.my_vote == 1
    again = api("feed.vote").sync(post.post_id, client=bob, body=models.VoteIn(option=0))
    assert isinstance(again, models.ErrorAlreadyVotedOrPollClosed)
    assert again.code == models.ErrorAlreadyVotedOrPollClosedCode.ALREADYVOTED

    # And she asks; Bob answers, Carol upvotes the answer and Alice accepts it
    question = api("questions.ask_question").sync(client=alice, body=models.AskQuestion(
        title="Which kettle boils fastest?", body="For two cups of tea", labels=[models.Label.COOKING]))
    assert isinstance(question, models.QuestionOut)
    answer = api("questions.post_answer").sync(question.question_id, client=bob,
                                               body=models.PostAnswer(body="The 2 kW steel one"))
    assert isinstance(answer, models.AnswerOut)
    vote = api("questions.vote_on_answer").sync(answer.answer_id, client=carol,
                                                body=models.CastVote(value=models.CastVoteValue.VALUE_1))
    assert isinstance(vote, models.VoteOut) and vote.value == 1
    accepted = api("questions.accept_answer").sync(question.question_id, client=alice,
                                                   body=models.AcceptAnswer(answer_id=answer.answer_id))
    assert isinstance(accepted, models.AcceptanceOut) and accepted.accepted_answer_id == answer.answer_id

    # Then the notifications arrive typed by kind, with their data
    bob_notices = stack.eventually(lambda: _notices_of(api, bob, models.AnswerAcceptedNotification), timeout=10)
    assert bob_notices[0].data.question_id == question.question_id
    alice_notices = stack.eventually(lambda: _notices_of(api, alice, models.NewAnswerNotification), timeout=10)
    assert alice_notices[0].data.answer_id == answer.answer_id
    assert _notices_of(api, alice, models.NewFollowerNotification)[0].data.follower_id == helper.user_id

    # And Bob's 25 points (10 for the upvote, 15 for the acceptance) buy the store's coupon, once
    api("merchants.put_my_store").sync(client=shop, body=models.UpdateMerchant(store_name="Kettle House"))
    campaign = api("coupons.create_campaign").sync(client=shop, body=models.CreateCampaign(
        title="5 off", discount_cents=500, min_spend_cents=2000, points_cost=20, total_quantity=10,
        per_user_limit=1, expires_at=datetime.now(UTC) + timedelta(days=7)))
    assert isinstance(campaign, models.CampaignOut) and isinstance(campaign.expires_at, datetime)
    points = stack.eventually(lambda: _points_at_least(api, bob, 25), timeout=10)
    assert isinstance(points, models.PointsOut)
    coupon = api("coupons.redeem_coupon").sync(campaign.campaign_id, client=bob)
    assert isinstance(coupon, models.CouponOut) and coupon.status == "issued"
    refused = api("coupons.redeem_coupon").sync(campaign.campaign_id, client=bob)
    assert isinstance(refused, models.ErrorEndedOrExpiredOrInsufficientPointsOrLimitReachedOrSoldOut)
    assert refused.code == models.ErrorEndedOrExpiredOrInsufficientPointsOrLimitReachedOrSoldOutCode.LIMITREACHED
    mine = api("coupons.list_my_coupons").sync(client=bob)
    assert [c.coupon_code for c in mine.items] == [coupon.coupon_code]
    ledger = api("points.list_my_ledger").sync(client=bob)
    assert all(isinstance(entry.created_at, datetime) for entry in ledger.items)
    assert sum(entry.amount for entry in ledger.items) == 25 - 20


def _feed_with(api, client, post_id):
    page = api("feed.get_feed").sync(client=client)
    return page if any(item.post_id == post_id for item in page.items) else None


def _notices_of(api, client, kind):
    page = api("notifications.get_notifications").sync(client=client)
    return [item for item in page.items if isinstance(item, kind)] or None


def _points_at_least(api, client, amount):
    points = api("points.get_my_points").sync(client=client)
    return points if points.balance >= amount else None


def test_a_generated_client_reports_moderates_and_meets_a_suspension(stack, generated):
    api = lambda name: _module(generated, f"api.{name}")  # noqa: E731
    models = _module(generated, "models")
    client_for = lambda user: generated.AuthenticatedClient(  # noqa: E731
        base_url=stack.api_url, token=user.token, raise_on_unexpected_status=True)
    author, reporter = stack.sign_up("author"), stack.sign_up("reporter")
    moderator = stack.sign_up("moderator", groups=("admins",))
    alice, bob, admin = (client_for(user) for user in (author, reporter, moderator))
    assert isinstance(api("profiles.get_me").sync(client=alice), models.ProfileOut)

    # Given alice's post, reported once by bob (a second report is the typed AlreadyReported)
    post = api("feed.create_post").sync(client=alice, body=models.CreatePost(text="Cheap watches, click here"))
    body = models.ReportIn(target_type=models.ReportInTargetType.POST, target_id=post.post_id, reason="spam")
    report = api("moderation.report").sync(client=bob, body=body)
    assert isinstance(report, models.ReportOut) and isinstance(report.created_at, datetime)
    again = api("moderation.report").sync(client=bob, body=body)
    assert isinstance(again, models.ErrorAlreadyReported)
    assert again.code == models.ErrorAlreadyReportedCode.ALREADYREPORTED
    queue = stack.eventually(lambda: api("moderation.open_reports").sync(client=admin).items or None, timeout=10)
    assert isinstance(queue[0], models.ReportedTargetOut) and queue[0].report_count == 1

    # When an admin suspends alice, her next write is the typed Suspended refusal
    entry = api("moderation.moderate").sync(client=admin, body=models.UserModeration(
        target_type="user", target_id=author.user_id, action=models.UserModerationAction.SUSPEND,
        reason="spam wave"))
    assert isinstance(entry, models.ModerationOut) and isinstance(entry.created_at, datetime)
    refused = api("feed.create_post").sync(client=alice, body=models.CreatePost(text="more"))
    assert isinstance(refused, models.ErrorForbiddenOrSuspended)
    assert refused.code == models.ErrorForbiddenOrSuspendedCode.SUSPENDED
    # Then she gets the typed moderation notice and the audit log holds the action
    notices = stack.eventually(lambda: _notices_of(api, alice, models.ModerationNotification), timeout=10)
    assert notices[0].data.action == "suspend" and notices[0].data.target_id == author.user_id
    log = api("moderation.audit_log").sync(client=admin)
    assert log.items[0].action_id == entry.action_id

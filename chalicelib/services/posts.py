"""Posts and polls: create (one write), read, delete, list an author's posts, vote."""

from __future__ import annotations

from datetime import UTC, datetime

from chalicelib.auth import Caller
from chalicelib.domain import polls
from chalicelib.domain.ids import iso, new_id, now_iso
from chalicelib.errors import BadRequest, Conflict, Forbidden, NotFound
from chalicelib.models.advice import Product
from chalicelib.models.base import batch_get, delete_if
from chalicelib.models.groups import Group, GroupMember
from chalicelib.models.merchants import Merchant
from chalicelib.models.posts import Poll, PollOption, PollVote, Post
from chalicelib.models.transactions import Transaction, TransactionFailed, retry_on_conflict
from chalicelib.models.users import UserProfile
from chalicelib.pagination import Page, PageRequest
from chalicelib.schemas.cards import ProductCard, UserCard
from chalicelib.schemas.posts import PollOut, PostOut
from chalicelib.services.cards import CardRead, cards_of_products, user_card


# -- presentation -----------------------------------------------------------------------------------
def post_view(post: Post, author: UserCard, my_vote: PollVote | None, now: str,
              products: dict[str, ProductCard] | None = None) -> PostOut:
    poll = None
    if post.poll is not None:
        tally = polls.tally(((option.text, option.product_id, option.votes) for option in post.poll.options),
                            post.poll.closes_at, now, int(my_vote.option) if my_vote is not None else None)
        poll = PollOut.from_tally(tally, products)
    return PostOut.from_item(post, author, poll, products)


def named_products(post: Post) -> list[str]:
    """The products a post shows a card of: its `product_ids`, then its poll options'."""
    options = [option.product_id for option in post.poll.options if option.product_id] if post.poll else []
    return list(dict.fromkeys([*(post.product_ids or []), *options]))


def product_card_read(posts: list[Post]) -> CardRead:
    """The product cards of these posts, their stores known from the posts (one call)."""
    merchant_of: dict[str, str] = {}
    for post in posts:
        kept = post.product_merchants
        merchant_of.update(kept.as_dict() if kept is not None else {})
    return CardRead(product_ids=[pid for post in posts for pid in named_products(post)], merchant_of=merchant_of)


def present_posts(posts: list[Post], viewer_id: str) -> list[PostOut]:
    """Posts as the API shows them: the authors' and products' cards and the viewer's poll votes,
    in ONE batched read."""
    if not posts:
        return []
    products = product_card_read(posts)
    cards = CardRead(user_ids=sorted({post.author_id for post in posts}), product_ids=products.product_ids,
                     merchant_of=products.merchant_of)
    poll_ids = [post.post_id for post in posts if post.poll is not None]
    card_keys = cards.keys()
    found = batch_get(card_keys + [(PollVote, post_id, viewer_id) for post_id in poll_ids])
    read = cards.build(found[:len(card_keys)])
    votes = dict(zip(poll_ids, found[len(card_keys):], strict=True))
    now = now_iso()
    return [post_view(post, read.users[post.author_id], votes.get(post.post_id), now, read.products)
            for post in posts]


def present_read_posts(posts: list[Post], authors: dict[str, UserCard], votes: dict[str, PollVote | None]
                       ) -> list[PostOut]:
    """Posts whose authors' cards and viewer's votes a page read with the posts themselves (the
    feed): their product cards cost one more BatchGetItem, none when no post names a product."""
    products = product_card_read(posts)
    keys = products.keys()
    product_cards = products.build(batch_get(keys) if keys else []).products
    now = now_iso()
    return [post_view(post, authors[post.author_id], votes.get(post.post_id), now, product_cards) for post in posts]


# -- posts ------------------------------------------------------------------------------------------
def create_post(caller: Caller, text: str, image_urls: list[str], product_ids: list[str], labels: list[str],
                group_id: str | None, poll: dict | None) -> PostOut:
    """At most one batched read (checks, and the author block when the token cannot give it), then ONE write.

    The author's display name comes from the token's `name` claim; the profile is read only when the
    token has none (issued before the name was set). A merchant's store block needs their Merchant
    item, so it is read for callers in the merchants group only. The Posts stream does the fan-out.
    """
    poll_products = [option["product_id"] for option in (poll or {}).get("options", []) if option.get("product_id")]
    wanted_products = list(dict.fromkeys(product_ids + poll_products))
    keys: list[tuple] = []
    if not caller.display_name:
        keys.append((UserProfile, caller.user_id, None))
    if caller.in_group("merchants"):
        keys.append((Merchant, caller.user_id, None))
    if group_id:
        keys += [(Group, group_id, None), (GroupMember, group_id, caller.user_id)]
    keys += [(Product, product_id, None) for product_id in wanted_products]
    found = iter(batch_get(keys) if keys else [])
    profile = next(found) if not caller.display_name else UserProfile(caller.user_id, display_name=caller.display_name)
    store = next(found) if caller.in_group("merchants") else None
    if group_id:
        group, membership = next(found), next(found)
        if group is None:
            raise NotFound(f"No circle {group_id}")
        if membership is None:
            raise Forbidden("Only members of this circle may post in it")
    products: dict[str, Product | None] = dict(zip(wanted_products, found, strict=True))
    for index, product_id in enumerate(product_ids):
        if products[product_id] is None:
            raise BadRequest(f"product_ids.{index}: unknown product {product_id}")
    for index, option in enumerate((poll or {}).get("options", [])):
        if option.get("product_id") and products[option["product_id"]] is None:
            raise BadRequest(f"poll.options.{index}.product_id: unknown product {option['product_id']}")

    at_ms = int(datetime.now(UTC).timestamp() * 1000)
    created = datetime.fromtimestamp(at_ms / 1000, tz=UTC)
    post = Post(
        new_id(at_ms),
        author_id=caller.user_id,
        home_author_id=None if group_id else caller.user_id,
        group_id=group_id,
        text=text,
        image_urls=image_urls,
        product_ids=product_ids,
        product_merchants={pid: product.merchant_id for pid, product in products.items() if product is not None},
        labels=labels,
        created_at=iso(created),
    )
    if poll is not None:
        post.poll = Poll(
            options=[PollOption(text=o["text"], product_id=o.get("product_id"), votes=0) for o in poll["options"]],
            closes_at=iso(polls.closes_at(created, poll["closes_in_hours"])),
        )
    post.save(condition=Post.post_id.does_not_exist())
    # the author's card from the token's name when the profile was not read (no expert levels then)
    author = user_card(caller.user_id, profile, store)
    return post_view(post, author, None, now_iso(), cards_of_products(products))


def _get(post_id: str) -> Post:
    try:
        return Post.get(post_id)
    except Post.DoesNotExist:
        raise NotFound(f"No post {post_id}") from None


def get_post(viewer_id: str, post_id: str, consistent: bool = False) -> PostOut:
    try:
        post = Post.get(post_id, consistent_read=consistent)
    except Post.DoesNotExist:
        raise NotFound(f"No post {post_id}") from None
    return present_posts([post], viewer_id)[0]


def delete_post(caller: Caller, post_id: str) -> None:
    """Author only. The Posts stream removes it from every feed."""
    post = _get(post_id)
    if post.author_id != caller.user_id:
        raise Forbidden("Only the author may delete a post")
    if not delete_if(post, Post.author_id == caller.user_id):
        raise NotFound(f"No post {post_id}")


def list_author_posts(viewer_id: str, author_id: str, page: PageRequest) -> Page:
    """The author's posts outside circles, newest first: one Query on the sparse by_author index."""
    results = Post.by_author.query(author_id, scan_index_forward=False, limit=page.limit,
                                   last_evaluated_key=page.start_key(Post.by_author, author_id))
    posts = list(results)
    if not posts and page.position is None and batch_get([(UserProfile, author_id, None)])[0] is None:
        raise NotFound(f"No user {author_id}")
    return Page(items=present_posts(posts, viewer_id), next_cursor=page.next_cursor(results.last_evaluated_key))


def list_group_posts(viewer_id: str, group_id: str, page: PageRequest) -> Page:
    results = Post.by_group.query(group_id, scan_index_forward=False, limit=page.limit,
                                  last_evaluated_key=page.start_key(Post.by_group, group_id))
    posts = list(results)
    if not posts and page.position is None and batch_get([(Group, group_id, None)])[0] is None:
        raise NotFound(f"No circle {group_id}")  # read only when the first page is empty
    return Page(items=present_posts(posts, viewer_id), next_cursor=page.next_cursor(results.last_evaluated_key))


# -- polls ------------------------------------------------------------------------------------------
def vote(caller: Caller, post_id: str, option: int) -> PostOut:
    """One transaction: the voter's PollVote (put if absent) and +1 on the option's count.

    Both conditions are checked by DynamoDB inside the transaction, so concurrent votes are
    counted exactly and a vote racing the poll's close is refused; a vote that loses a race with
    another voter's transaction is tried again under the one conflict rule (then 503 `Busy`).
    """
    from pynamodb.expressions.operand import Path

    post = _get(post_id)
    if post.poll is None:
        raise NotFound(f"Post {post_id} has no poll")
    count = len(post.poll.options)
    if not polls.option_in_range(option, count):
        raise BadRequest(f"option: must be from 0 to {count - 1}")
    now = now_iso()
    if polls.is_closed(post.poll.closes_at, now):
        raise Conflict("This poll has closed", code="PollClosed")
    votes = Path(["poll", "options"])[option]["votes"]

    def attempt() -> None:
        transaction = Transaction()
        transaction.put("vote", PollVote(post_id, caller.user_id, option=option, created_at=now),
                        condition=PollVote.user_id.does_not_exist())
        transaction.update("tally", Post(post_id), actions=[votes.set(votes + 1)],
                           condition=Post.post_id.exists() & (Path(["poll", "closes_at"]) > now))
        try:
            transaction.commit()
        except TransactionFailed as exc:
            if exc.failed_on("vote"):
                raise Conflict("You have already voted in this poll", code="AlreadyVoted") from None
            if exc.failed_on("tally"):
                if batch_get([(Post, post_id, None)])[0] is None:
                    raise NotFound(f"No post {post_id}") from None
                raise Conflict("This poll has closed", code="PollClosed") from None
            raise

    retry_on_conflict(attempt, what="this poll")
    return get_post(caller.user_id, post_id, consistent=True)

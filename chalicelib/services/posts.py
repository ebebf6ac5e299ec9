"""Posts and polls: create (one write), read, delete, list an author's posts, vote (`services.polls`)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING

from chalicelib.auth import Caller
from chalicelib.domain import polls
from chalicelib.domain.ids import iso, new_id, now_iso
from chalicelib.domain.moderation import hides
from chalicelib.errors import BadRequest, Forbidden, NotFound
from chalicelib.models.advice import Product
from chalicelib.models.base import batch_get, delete_if, get_or_404, update_if
from chalicelib.models.groups import Group, GroupMember
from chalicelib.models.merchants import Merchant
from chalicelib.models.posts import Poll, PollOption, Post
from chalicelib.models.users import UserProfile
from chalicelib.pagination import Page, PageRequest
from chalicelib.schemas import lazy_models
from chalicelib.services import polls as poll_votes
from chalicelib.services.cards import CardRead, cards_of_products, user_card
from chalicelib.services.polls import PollReading, PollReads
from chalicelib.services.social import SocialReading, SocialReads

if TYPE_CHECKING:
    from chalicelib.schemas.cards import ProductCard, UserCard
    from chalicelib.schemas.posts import PollOut, PostOut
else:
    ProductCard, UserCard = lazy_models("chalicelib.schemas.cards", "ProductCard", "UserCard")
    PollOut, PostOut = lazy_models("chalicelib.schemas.posts", "PollOut", "PostOut")


# -- presentation -----------------------------------------------------------------------------------
def post_view(post: Post, author: UserCard, poll: PollReading | None, now: str,
              products: dict[str, ProductCard] | None = None, social: SocialReading | None = None) -> PostOut:
    """`poll`: the reader's view of the post's poll (tallies and their vote); None reads as no votes yet."""
    poll_out = None
    if post.poll is not None:
        reading = poll or PollReading()
        counts = reading.counts(len(post.poll.options))
        tally = polls.tally(((option.text, option.product_id, votes)
                             for option, votes in zip(post.poll.options, counts, strict=True)),
                            post.poll.closes_at, now, reading.my_vote)
        poll_out = PollOut.from_tally(tally, products)
    return PostOut.from_item(post, author, poll_out, products, social)


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


def present_posts(posts: list[Post], viewer_id: str, known_votes: dict[str, int | None] | None = None) -> list[PostOut]:
    """Posts as the API shows them: the authors' and products' cards, the polls' tallies and the
    viewer's votes, in ONE batched read. `known_votes`: the viewer's votes already known (not read)."""
    if not posts:
        return []
    products = product_card_read(posts)
    cards = CardRead(user_ids=sorted({post.author_id for post in posts}), product_ids=products.product_ids,
                     merchant_of=products.merchant_of)
    poll_reads = PollReads([post.post_id for post in posts if post.poll is not None], viewer_id, known_votes or {})
    social_reads = SocialReads([post.post_id for post in posts], viewer_id)
    card_keys = cards.keys()
    found = iter(batch_get(card_keys + poll_reads.keys() + social_reads.keys()))
    read = cards.build([next(found) for _ in card_keys])
    readings = poll_reads.take(found)
    socials = social_reads.take(found)
    now = now_iso()
    return [post_view(post, read.users[post.author_id], readings.get(post.post_id), now, read.products,
                      socials[post.post_id])
            for post in posts]


def present_read_posts(posts: list[Post], authors: dict[str, UserCard], readings: dict[str, PollReading],
                       socials: dict[str, SocialReading] | None = None) -> list[PostOut]:
    """Posts whose authors' cards and polls (tallies, the viewer's votes) a page read with the posts
    themselves (the feed): their product cards cost one more BatchGetItem, none when no post names a product."""
    products = product_card_read(posts)
    keys = products.keys()
    product_cards = products.build(batch_get(keys) if keys else []).products
    now = now_iso()
    return [post_view(post, authors[post.author_id], readings.get(post.post_id), now, product_cards,
                      (socials or {}).get(post.post_id))
            for post in posts]


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
        keys += [(Group, group_id, None), (GroupMember, *GroupMember.key(group_id, caller.user_id))]
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
            options=[PollOption(text=o["text"], product_id=o.get("product_id")) for o in poll["options"]],
            closes_at=iso(polls.closes_at(created, poll["closes_in_hours"])),
        )
    post.save(condition=Post.post_id.does_not_exist())
    # the author's card from the token's name when the profile was not read (no expert levels then)
    author = user_card(caller.user_id, profile, store)
    return post_view(post, author, None, now_iso(), cards_of_products(products))


def _get(post_id: str) -> Post:
    return get_or_404(Post, post_id, what="post")


def get_post(viewer_id: str, post_id: str, consistent: bool = False, *, admin: bool = False) -> PostOut:
    """A removed post is 404 but to its author and admins (who see `removed_at`)."""
    post = get_or_404(Post, post_id, what="post", consistent_read=consistent)
    if hides(post.removed_at, viewer_is_owner=post.author_id == viewer_id, viewer_is_admin=admin):
        raise NotFound(f"No post {post_id}")
    return present_posts([post], viewer_id)[0]


def delete_post(caller: Caller, post_id: str) -> None:
    """Author only. The Posts stream removes it from every feed."""
    post = _get(post_id)
    if post.author_id != caller.user_id:
        raise Forbidden("Only the author may delete a post")
    if not delete_if(post, Post.author_id == caller.user_id):
        raise NotFound(f"No post {post_id}")


def edit_post(caller: Caller, post_id: str, changes: dict) -> PostOut:
    """PATCH, author only: one conditional update of the fields given, and `edited_at`."""
    post = _get(post_id)
    if post.author_id != caller.user_id:
        raise Forbidden("Only the author may edit a post")
    actions = [getattr(Post, name).set(value) for name, value in changes.items()]
    if not update_if(post, [*actions, Post.edited_at.set(now_iso())], Post.author_id == caller.user_id):
        raise NotFound(f"No post {post_id}")
    return present_posts([post], caller.user_id)[0]


def list_author_posts(viewer_id: str, author_id: str, page: PageRequest) -> Page:
    """The author's posts outside circles, newest first: one Query on the sparse by_author index."""
    results = Post.by_author.query(author_id, scan_index_forward=False, limit=page.limit,
                                   filter_condition=Post.live_room_id.does_not_exist(),  # live rooms' feed items
                                   last_evaluated_key=page.start_key(Post.by_author, author_id))
    posts = [post for post in results if not post.removed_at]  # moderation: out of every list
    if not posts and page.position is None and batch_get([(UserProfile, author_id, None)])[0] is None:
        raise NotFound(f"No user {author_id}")
    return Page(items=present_posts(posts, viewer_id), next_cursor=page.next_cursor(results.last_evaluated_key))


def list_group_posts(viewer_id: str, group_id: str, page: PageRequest) -> Page:
    results = Post.by_group.query(group_id, scan_index_forward=False, limit=page.limit,
                                  last_evaluated_key=page.start_key(Post.by_group, group_id))
    posts = [post for post in results if not post.removed_at]  # moderation: out of every list
    if not posts and page.position is None and batch_get([(Group, group_id, None)])[0] is None:
        raise NotFound(f"No circle {group_id}")  # read only when the first page is empty
    return Page(items=present_posts(posts, viewer_id), next_cursor=page.next_cursor(results.last_evaluated_key))


# -- polls ------------------------------------------------------------------------------------------
def vote(caller: Caller, post_id: str, option: int) -> PostOut:
    """POST: the caller's one vote (`services.polls.cast_vote`); the post as they now see it. The
    counts trail the votes by the stream's delay; their own vote is exact."""
    post = poll_votes.cast_vote(caller, post_id, option)
    return present_posts([post], caller.user_id, {post_id: option})[0]


def set_vote(caller: Caller, post_id: str, option: int) -> PostOut:
    """PUT: cast or change the caller's vote (`services.polls.set_vote`)."""
    post = poll_votes.set_vote(caller, post_id, option)
    return present_posts([post], caller.user_id, {post_id: option})[0]


def withdraw_vote(caller: Caller, post_id: str) -> None:
    poll_votes.withdraw_vote(caller, post_id)

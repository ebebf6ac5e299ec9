"""Likes, comments and edits of posts: idempotent likes counted exactly from their stream, the
reader's own like, comments oldest first with their delete rights and notice, blocks, PATCH."""

from __future__ import annotations

from chalicelib.models.social import Like, LikedPosts, PostCounts
from chalicelib.services.social import LIKED_WINDOW_MS, SocialReads, like_key, liked_key
from tests.support.api import call
from tests.support.posts import feed_of, follow, publish, with_profiles


def post_of(client, viewer, post_id) -> dict:
    response = call(client, "GET", f"/posts/{post_id}", viewer)
    assert response.status_code == 200, response.data
    return response.data


# -- likes --------------------------------------------------------------------------------------------
def test_liking_and_unliking_are_idempotent_and_the_count_follows_the_stream(client, users, streams):
    alice, bob = users("alice"), users("bob")
    with_profiles(client, alice, bob)
    post_id = publish(client, alice)
    # When bob likes twice
    first = call(client, "PUT", f"/posts/{post_id}/like", bob)
    second = call(client, "PUT", f"/posts/{post_id}/like", bob)
    # Then both answer liked, one like stands, and the count is 1 once the stream is handled
    assert first.status_code == second.status_code == 200
    assert first.data == {"post_id": post_id, "liked": True, "like_count": 1}
    assert second.data["liked"] is True
    assert [like.user_id for like in Like.query(like_key(post_id, bob.user_id))] == [bob.user_id]
    streams.drain()
    assert call(client, "PUT", f"/posts/{post_id}/like", bob).data["like_count"] == 1
    seen = post_of(client, bob, post_id)
    assert (seen["like_count"], seen["liked_by_me"]) == (1, True)
    assert post_of(client, alice, post_id)["liked_by_me"] is False
    # When bob takes it back twice
    for _ in range(2):
        response = call(client, "DELETE", f"/posts/{post_id}/like", bob)
        assert response.status_code == 200 and response.data["liked"] is False
    streams.drain()
    seen = post_of(client, bob, post_id)
    assert (seen["like_count"], seen["liked_by_me"]) == (0, False)


def test_likes_are_counted_exactly_under_chaos(client, users, chaos_streams):
    alice = users("alice")
    likers = [users(f"liker{n}") for n in range(10)]
    post_id = publish(client, alice)
    for n, liker in enumerate(likers):
        assert call(client, "PUT", f"/posts/{post_id}/like", liker).status_code == 200
        if n % 3 == 1:
            chaos_streams.drain()
    for liker in likers[:4:2]:
        assert call(client, "DELETE", f"/posts/{post_id}/like", liker).status_code == 200
    chaos_streams.drain()
    assert post_of(client, alice, post_id)["like_count"] == 8


def test_the_feed_shows_counts_and_the_readers_own_likes(client, users, streams):
    alice, bob = users("alice"), users("bob")
    with_profiles(client, alice, bob)
    follow(client, bob, alice)
    streams.drain()
    liked, other = publish(client, alice, "one"), publish(client, alice, "two")
    streams.drain()
    assert call(client, "PUT", f"/posts/{liked}/like", bob).status_code == 200
    assert call(client, "POST", f"/posts/{other}/comments", bob, {"text": "nice"}).status_code == 201
    streams.drain()
    assert feed_of(client, bob) == [other, liked]
    items = {item["post_id"]: item for item in call(client, "GET", "/feed", bob).data["items"]}
    assert (items[liked]["like_count"], items[liked]["liked_by_me"], items[liked]["comment_count"]) == (1, True, 0)
    assert (items[other]["like_count"], items[other]["liked_by_me"], items[other]["comment_count"]) == (0, False, 1)


def test_a_page_reads_the_readers_likes_per_window_and_they_stay_exact_under_chaos(client, users, chaos_streams):
    alice, bob = users("alice"), users("bob")
    with_profiles(client, alice, bob)
    follow(client, bob, alice)
    chaos_streams.drain()
    posts = [publish(client, alice, f"post {n}") for n in range(6)]
    chaos_streams.drain()
    # liked, unliked, liked again, and likes withdrawn in the same batch or a later one
    for post_id in posts[:4]:
        assert call(client, "PUT", f"/posts/{post_id}/like", bob).status_code == 200
    chaos_streams.drain()
    for post_id in (posts[1], posts[2], posts[4]):
        assert call(client, "PUT", f"/posts/{post_id}/like", bob).status_code == 200
        assert call(client, "DELETE", f"/posts/{post_id}/like", bob).status_code == 200
    assert call(client, "PUT", f"/posts/{posts[2]}/like", bob).status_code == 200
    chaos_streams.drain()
    liked = {posts[0], posts[2], posts[3]}
    items = {item["post_id"]: item["liked_by_me"] for item in call(client, "GET", "/feed", bob).data["items"]}
    assert items == {post_id: post_id in liked for post_id in posts}
    # posts of one 8-hour window: one LikedPosts key for the page, not one Like key per post
    reads = SocialReads(posts, bob.user_id)
    assert [model for model, _, _ in reads.keys()].count(LikedPosts) == 1
    assert not any(model is Like for model, _, _ in reads.keys())
    assert LikedPosts.get(liked_key(bob.user_id, posts[0])).post_ids == liked
    # every like taken back: the liker's window item is gone, not left empty
    for post_id in liked:
        assert call(client, "DELETE", f"/posts/{post_id}/like", bob).status_code == 200
    chaos_streams.drain()
    assert LikedPosts.count(liked_key(bob.user_id, posts[0])) == 0
    # a single post reads its Like item (as fresh as the like)
    assert [model for model, _, _ in SocialReads(posts[:1], bob.user_id).keys()] == [PostCounts, Like]


def test_a_liker_past_the_window_cap_overflows_and_pages_still_know_every_like(client, users, streams,
                                                                                monkeypatch):
    from chalicelib.services import social

    monkeypatch.setattr(social, "LIKED_WINDOW_CAP", 3)
    alice, bob = users("alice"), users("bob")
    with_profiles(client, alice, bob)
    follow(client, bob, alice)
    streams.drain()
    posts = [publish(client, alice, f"post {n}") for n in range(6)]
    streams.drain()
    # When bob likes more posts of one window than its item holds (over two batches)
    for post_id in posts[:2]:
        assert call(client, "PUT", f"/posts/{post_id}/like", bob).status_code == 200
    streams.drain()
    for post_id in posts[2:5]:
        assert call(client, "PUT", f"/posts/{post_id}/like", bob).status_code == 200
    streams.drain()
    # Then the item stays within the cap and says it overflowed
    item = LikedPosts.get(liked_key(bob.user_id, posts[0]))
    assert item.overflow is True and len(item.post_ids) <= 3
    # And a page still shows every like, reading the window's Like items in one more call
    items = {item["post_id"]: item["liked_by_me"] for item in call(client, "GET", "/feed", bob).data["items"]}
    assert items == {post_id: post_id in posts[:5] for post_id in posts}
    # When every like is taken back, the overflowed item stays (it may stand for likes it does not list)
    for post_id in posts[:5]:
        assert call(client, "DELETE", f"/posts/{post_id}/like", bob).status_code == 200
    streams.drain()
    items = {item["post_id"]: item["liked_by_me"] for item in call(client, "GET", "/feed", bob).data["items"]}
    assert set(items.values()) == {False}
    assert LikedPosts.get(liked_key(bob.user_id, posts[0])).overflow is True


def test_posts_of_many_windows_read_the_fewer_keys():
    from chalicelib.domain.ids import new_id

    day = 24 * 3600 * 1000
    spread = [new_id(at_ms=1_700_000_000_000 + n * day) for n in range(3)]
    assert len({liked_key("bob", post_id) for post_id in spread}) == 3
    keys = SocialReads(spread, "bob").keys()
    assert sum(1 for model, _, _ in keys if model is Like) == 3  # 3 posts, 3 windows: their Like items
    close = [new_id(at_ms=1_700_000_000_000 + n * LIKED_WINDOW_MS // 10) for n in range(5)]
    keys = SocialReads(close, "bob").keys()
    assert sum(1 for model, _, _ in keys if model is LikedPosts) <= 2


def test_liking_an_unknown_post_is_404(client, users):
    assert call(client, "PUT", "/posts/nope/like", users("bob")).status_code == 404


# -- comments -----------------------------------------------------------------------------------------
def test_comments_read_oldest_first_with_their_authors_cards_and_are_counted(client, users, chaos_streams):
    alice, bob, carol = users("alice"), users("bob"), users("carol")
    with_profiles(client, alice, bob, carol)
    post_id = publish(client, alice)
    ids = []
    for author, text in ((bob, "first"), (carol, "second"), (alice, "third")):
        response = call(client, "POST", f"/posts/{post_id}/comments", author, {"text": text})
        assert response.status_code == 201, response.data
        assert response.data["author"]["user_id"] == author.user_id and response.data["post_id"] == post_id
        ids.append(response.data["comment_id"])
    listed = call(client, "GET", f"/posts/{post_id}/comments", bob)
    assert listed.status_code == 200
    assert [c["text"] for c in listed.data["items"]] == ["first", "second", "third"]
    assert [c["comment_id"] for c in listed.data["items"]] == ids
    chaos_streams.drain()
    assert post_of(client, bob, post_id)["comment_count"] == 3


def test_comment_text_is_bounded_and_an_unknown_post_is_404(client, users):
    alice, bob = users("alice"), users("bob")
    post_id = publish(client, alice)
    for text in ("", "   ", "x" * 1001):
        assert call(client, "POST", f"/posts/{post_id}/comments", bob, {"text": text}).status_code == 400
    assert call(client, "POST", f"/posts/{post_id}/comments", bob, {"text": "x" * 1000}).status_code == 201
    assert call(client, "GET", "/posts/nope/comments", bob).status_code == 404
    assert call(client, "POST", "/posts/nope/comments", bob, {"text": "hi"}).status_code == 404


def test_a_comment_is_deleted_by_its_author_or_the_posts_author_only(client, users, streams):
    alice, bob, carol = users("alice"), users("bob"), users("carol")
    with_profiles(client, alice, bob, carol)
    post_id = publish(client, alice)
    by_bob = call(client, "POST", f"/posts/{post_id}/comments", bob, {"text": "a"}).data["comment_id"]
    by_carol = call(client, "POST", f"/posts/{post_id}/comments", carol, {"text": "b"}).data["comment_id"]
    streams.drain()
    assert call(client, "DELETE", f"/comments/{by_bob}", carol).status_code == 403
    assert call(client, "DELETE", f"/comments/{by_bob}", bob).status_code == 204
    assert call(client, "DELETE", f"/comments/{by_carol}", alice).status_code == 204
    assert call(client, "DELETE", f"/comments/{by_carol}", alice).status_code == 404
    assert call(client, "GET", f"/posts/{post_id}/comments", bob).data["items"] == []
    streams.drain()
    assert post_of(client, bob, post_id)["comment_count"] == 0


def test_a_comment_notifies_the_posts_author_but_not_on_their_own_post(client, users, streams):
    alice, bob = users("alice"), users("bob")
    with_profiles(client, alice, bob)
    post_id = publish(client, alice)
    comment_id = call(client, "POST", f"/posts/{post_id}/comments", bob, {"text": "hi"}).data["comment_id"]
    call(client, "POST", f"/posts/{post_id}/comments", alice, {"text": "thanks"})
    streams.drain()
    notices = [n for n in call(client, "GET", "/me/notifications", alice).data["items"] if n["type"] == "new_comment"]
    assert len(notices) == 1
    assert notices[0]["data"] == {"post_id": post_id, "comment_id": comment_id, "author_id": bob.user_id,
                                  "excerpt": "hi"}
    assert notices[0]["actor"]["user_id"] == bob.user_id
    assert [n for n in call(client, "GET", "/me/notifications", bob).data["items"] if n["type"] == "new_comment"] == []


def test_someone_the_posts_author_blocks_can_neither_comment_nor_like(client, users, streams):
    alice, bob = users("alice"), users("bob")
    with_profiles(client, alice, bob)
    post_id = publish(client, alice)
    assert call(client, "PUT", f"/users/{bob.user_id}/block", alice).status_code == 200
    streams.drain()
    assert call(client, "POST", f"/posts/{post_id}/comments", bob, {"text": "hi"}).status_code == 403
    assert call(client, "PUT", f"/posts/{post_id}/like", bob).status_code == 403


# -- edits --------------------------------------------------------------------------------------------
def test_the_author_edits_text_images_and_labels_and_edited_at_is_set(client, users):
    alice, bob = users("alice"), users("bob")
    with_profiles(client, alice, bob)
    post_id = publish(client, alice, "draft", poll={"options": [{"text": "a"}, {"text": "b"}]})
    assert post_of(client, alice, post_id)["edited_at"] is None
    assert call(client, "PATCH", f"/posts/{post_id}", bob, {"text": "mine"}).status_code == 403
    response = call(client, "PATCH", f"/posts/{post_id}", alice,
                    {"text": "final", "image_urls": ["https://example.com/a.jpg"]})
    assert response.status_code == 200, response.data
    seen = post_of(client, bob, post_id)
    assert seen["text"] == "final" and seen["image_urls"] == ["https://example.com/a.jpg"]
    assert seen["edited_at"] is not None
    assert [o["text"] for o in seen["poll"]["options"]] == ["a", "b"]


def test_an_edit_with_an_unknown_field_or_a_poll_is_400(client, users):
    alice = users("alice")
    post_id = publish(client, alice, poll={"options": [{"text": "a"}, {"text": "b"}]})
    for body in ({"poll": {"options": [{"text": "c"}, {"text": "d"}]}}, {"colour": "red"}, {"text": ""}):
        assert call(client, "PATCH", f"/posts/{post_id}", alice, body).status_code == 400
    assert call(client, "PATCH", "/posts/nope", alice, {"text": "x"}).status_code == 404

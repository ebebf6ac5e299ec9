"""Posts, feeds and polls on the real local stack: streams within seconds, exact counts under races."""

from concurrent.futures import ThreadPoolExecutor


def test_a_post_reaches_a_followers_feed_within_2_seconds(stack):
    # Given alice, who has posted before (so the stream handlers' table clients are warm: the first
    # use of each in a process is a cold start, as in Lambda), and bob, who then follows her
    alice, bob = stack.sign_up("alice"), stack.sign_up("bob")
    assert stack.call("GET", "/me", alice).status_code == 200
    assert stack.call("GET", "/me", bob).status_code == 200
    earlier = stack.call("POST", "/posts", alice, {"text": "an earlier post"}).json()["post_id"]
    stack.eventually(lambda: stack.call("GET", "/feed", alice).json()["items"], timeout=10.0)
    assert stack.call("PUT", f"/users/{alice.user_id}/follow", bob).status_code == 200
    # (following backfills her earlier post)
    backfilled = stack.eventually(lambda: stack.call("GET", "/feed", bob).json()["items"], timeout=5.0)
    assert [item["post_id"] for item in backfilled] == [earlier]
    # When alice posts
    created = stack.call("POST", "/posts", alice, {"text": "fresh from the stack"})
    assert created.status_code == 201, created.text
    post_id = created.json()["post_id"]
    # Then, through the Posts stream, it is in bob's feed within 2 s
    def bobs_feed():
        items = stack.call("GET", "/feed", bob).json()["items"]
        return items if len(items) == 2 else None

    items = stack.eventually(bobs_feed, timeout=2.0)
    assert [item["post_id"] for item in items] == [post_id, earlier]
    assert items[0]["author"]["user_id"] == alice.user_id
    # And when she deletes it, it leaves his feed just as fast
    assert stack.call("DELETE", f"/posts/{post_id}", alice).status_code == 204
    stack.eventually(lambda: [i["post_id"] for i in stack.call("GET", "/feed", bob).json()["items"]] == [earlier],
                     timeout=2.0)


def test_concurrent_votes_are_counted_exactly(stack):
    # Given a poll and 16 shoppers
    author = stack.sign_up("asker")
    poll = {"options": [{"text": "red"}, {"text": "blue"}, {"text": "green"}]}
    post_id = stack.call("POST", "/posts", author, {"text": "which colour?", "poll": poll}).json()["post_id"]
    voters = [stack.sign_up(f"voter{i}") for i in range(16)]

    # When they all vote at once, each twice (the second must be refused)
    def vote(args):
        index, voter = args
        option = index % 3
        first = stack.call("POST", f"/posts/{post_id}/poll/votes", voter, {"option": option}).status_code
        second = stack.call("POST", f"/posts/{post_id}/poll/votes", voter, {"option": option}).status_code
        return first, second

    with ThreadPoolExecutor(max_workers=16) as pool:
        results = list(pool.map(vote, enumerate(voters)))
    # Then every first vote counted, every second one was a 409, and the counts are exact once the
    # votes' stream has summed them into the tallies (poll reads may trail by seconds)
    assert results == [(200, 409)] * 16, results

    def counts(expected):
        poll = stack.call("GET", f"/posts/{post_id}", voters[0]).json()["poll"]
        return poll if [option["votes"] for option in poll["options"]] == expected else None

    shown = stack.eventually(lambda: counts([6, 5, 5]), timeout=5.0)
    assert shown["my_vote"] == 0

    # When, all at once, the even voters change their vote twice and the odd ones withdraw theirs twice
    def change(args):
        index, voter = args
        path = f"/posts/{post_id}/poll/votes/me"
        if index % 2:
            return [stack.call("DELETE", path, voter).status_code for _ in range(2)]
        return [stack.call("PUT", path, voter, {"option": option}).status_code for option in (2, (index + 1) % 3)]

    with ThreadPoolExecutor(max_workers=16) as pool:
        changed = list(pool.map(change, enumerate(voters)))
    # Then every request went through and the counts are the votes that stand: 8 votes, (i + 1) % 3
    assert all(statuses in ([200, 200], [204, 204]) for statuses in changed), changed
    standing = [(index + 1) % 3 for index in range(0, 16, 2)]
    shown = stack.eventually(lambda: counts([standing.count(option) for option in range(3)]), timeout=5.0)
    assert shown["my_vote"] == 1

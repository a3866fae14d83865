"""The engine's decision is a pure function of posts, ledger entries, time and rules."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from syncd.engine import Rules, due, plan
from syncd.ledger import ADOPTED, FAILED, IN_DOUBT, POSTED, POSTING, Entry
from syncd.model import Post, PostError, SiteScan

NOW = dt.datetime(2026, 11, 23, 12, 0, tzinfo=dt.UTC)


def post(name: str, day: str = "2026-01-02", **kw: object) -> Post:
    values: dict[str, object] = {
        "source": f"_posts/{day}-{name}.md",
        "path": Path(f"/site/_posts/{day}-{name}.md"),
        "canonical_url": f"https://example.com/{day.replace('-', '/')}/{name}.html",
        "title": name.title(),
        "date": dt.datetime.fromisoformat(day).replace(tzinfo=dt.UTC),
        "body": "text",
    }
    values.update(kw)
    return Post(**values)  # type: ignore[arg-type]


def entry(p: Post, state: str) -> Entry:
    assert p.canonical_url
    return Entry(canonical_url=p.canonical_url, source=p.source, state=state)


def decide(posts: list[Post], entries: tuple[Entry, ...] | list[Entry] = (),
           errors: tuple[PostError, ...] | list[PostError] = (),
           rules: Rules | None = None) -> dict[str, tuple[str, str]]:
    rules = rules or Rules()
    scan = SiteScan(posts=tuple(posts), errors=tuple(errors))
    items = plan(scan, {e.canonical_url: e for e in entries}, NOW, rules)
    return {item.source: (item.action, item.reason) for item in items}


def test_new_post_is_posted_and_known_ones_are_not() -> None:
    new, synced, adopted = post("new"), post("synced"), post("adopted")
    result = decide([new, synced, adopted], [entry(synced, POSTED), entry(adopted, ADOPTED)])
    assert result == {
        new.source: ("post", "new"),
        synced.source: ("skip", "synced"),
        adopted.source: ("skip", "adopted"),
    }


def test_in_doubt_is_never_posted_again() -> None:
    a, b = post("a"), post("b")
    result = decide([a, b], [entry(a, POSTING), entry(b, IN_DOUBT)])
    assert result == {a.source: ("skip", "in-doubt"), b.source: ("skip", "in-doubt")}


def test_failed_post_is_tried_again() -> None:
    a = post("a")
    assert decide([a], [entry(a, FAILED)]) == {a.source: ("post", "new")}


def test_unpublished_draft_future_since_and_opt_out() -> None:
    hidden = post("hidden", published=False, canonical_url=None)
    draft = Post(source="_drafts/idea.md", path=Path("/site/_drafts/idea.md"),
                 canonical_url=None, title="Idea", date=NOW, body="", draft=True,
                 published=False)
    future = post("soon", day="2027-02-01")
    old = post("old", day="2020-05-05")
    opted = post("opted", front_matter={"syndicate": False})
    result = decide([hidden, draft, future, old, opted], rules=Rules(since=dt.date(2021, 1, 1)))
    assert result == {
        hidden.source: ("skip", "unpublished"),
        draft.source: ("skip", "draft"),
        future.source: ("defer", "future"),
        old.source: ("skip", "before-since"),
        opted.source: ("skip", "opted-out"),
    }


def test_unreadable_file_is_an_error_item_and_others_still_post() -> None:
    good = post("good")
    bad = PostError(source="_posts/2026-01-01-bad.md", path=Path("/x"), reason="bad YAML")
    assert decide([good], errors=[bad]) == {
        bad.source: ("error", "bad YAML"),
        good.source: ("post", "new"),
    }


def test_plan_order_is_stable_and_due_is_oldest_first() -> None:
    late, early = post("zeta", day="2026-03-01"), post("alpha", day="2025-01-01")
    middle = post("beta", day="2025-06-01")
    scan = SiteScan(posts=(late, middle, early))
    items = plan(scan, {}, NOW, Rules())
    assert [i.source for i in items] == sorted(i.source for i in items)
    assert [i.source for i in due(items)] == [early.source, middle.source, late.source]


def test_plan_json_matches_contract() -> None:
    item = plan(SiteScan(posts=(post("hello"),)), {}, NOW, Rules())[0]
    assert item.to_json() == {
        "source": "_posts/2026-01-02-hello.md",
        "canonical_url": "https://example.com/2026/01/02/hello.html",
        "title": "Hello",
        "date": "2026-01-02T00:00:00+00:00",
        "action": "post",
        "reason": "new",
    }

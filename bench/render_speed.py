"""Render speed: posts per second through syncd's renderer and through plain mistune.html.

Reads a site with syncd's own reader, then renders the posts' bodies, in alternating rounds,
with ``syncd.render.render_post`` (what a pass sends to Medium) and with ``mistune.html``
(mistune's ready-made renderer), and prints both rates as JSON. Where the renderer takes a
per-pass context (``syncd.render_context.RenderContext``), one is built once for all posts,
as a pass does, and its cost is reported apart. Rounds cover as many posts as syncd renders in
about 3 s (all of them when it can), the same posts for both renderers.
Usage: python bench/render_speed.py jekyll|gatsby SITE_ROOT [ROUNDS]
"""

from __future__ import annotations

import inspect
import json
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import mistune

from syncd.config import SiteConfig
from syncd.render import render_post
from syncd.sites import read_site

ROUND_BUDGET_S = 3.0


def one_round(function: Callable[[Any], Any], items: Sequence[Any]) -> float:
    start = time.perf_counter()
    for item in items:
        function(item)
    return time.perf_counter() - start


def pass_renderer(posts: Sequence[Any], root: Path,
                  generator: str) -> tuple[Callable[[Any], Any], float | None, str]:
    """render_post as a pass calls it, the context build time, and how it was called."""
    if len(inspect.signature(render_post).parameters) < 2:
        return render_post, None, "render_post(post)"
    try:
        from syncd.render_context import RenderContext

        start = time.perf_counter()
        context = RenderContext.build(posts, site_root=root, generator=generator)
        built = time.perf_counter() - start
    except (ImportError, AttributeError, TypeError) as exc:
        return render_post, None, f"render_post(post) (no pass context: {exc})"
    return (lambda post: render_post(post, context)), built, \
        "render_post(post, RenderContext.build(all posts)), as a pass does"


def main() -> None:
    generator, root = sys.argv[1], Path(sys.argv[2])
    rounds = int(sys.argv[3]) if len(sys.argv) > 3 else 3
    posts = list(read_site(SiteConfig(generator=generator, root=root)).posts)
    render, context_s, how = pass_renderer(posts, root, generator)
    one_round(render, posts[:20])
    one_round(mistune.html, [post.body for post in posts[:20]])
    sample = posts[20:40] or posts[:20]
    warm = one_round(render, sample) / max(1, len(sample))
    count = len(posts) if warm * len(posts) <= ROUND_BUDGET_S else max(50, int(ROUND_BUDGET_S
                                                                               / warm))
    chosen = posts[:: max(1, len(posts) // count)][:count]
    bodies = [post.body for post in chosen]
    plain, ours = [], []
    for _ in range(rounds):
        plain.append(one_round(mistune.html, bodies))
        ours.append(one_round(render, chosen))
    print(json.dumps({
        "posts": len(chosen),
        "site_posts": len(posts),
        "bytes": sum(len(body.encode("utf-8")) for body in bodies),
        "called_as": how,
        "context_build_s": context_s,
        "mistune_s": plain,
        "syncd_s": ours,
        "mistune_posts_per_s": len(chosen) / statistics.median(plain),
        "syncd_posts_per_s": len(chosen) / statistics.median(ours),
    }))


if __name__ == "__main__":
    main()

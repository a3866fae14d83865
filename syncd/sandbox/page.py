"""The emulator's front page: what was sent to "Medium", shown the way Medium would show it.

A person running ``syncd sandbox`` or ``syncd demo`` opens ``/`` to look at the posts, newest
first: title, status, tags, the canonical link back to their site, the Medium URL, and the
content after Medium's own clean-up (see :mod:`syncd.sandbox.content`). Everything taken from a
request is escaped or sanitized, and the page is served with a Content-Security-Policy that
forbids scripts, so opening it is safe whatever a client posted.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from html import escape
from typing import Any

from syncd.sandbox.content import sanitize, to_html
from syncd.sandbox.store import SandboxUser

CONTENT_SECURITY_POLICY = (
    "default-src 'none'; img-src * data:; style-src 'unsafe-inline'; "
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)

_STYLE = """
body { font: 16px/1.5 Georgia, serif; color: #242424; max-width: 46rem; margin: 2rem auto;
       padding: 0 1rem; }
header { font-family: system-ui, sans-serif; border-bottom: 1px solid #ddd; margin-bottom: 2rem; }
header h1 { font-size: 1.3rem; margin: 0 0 .3rem; }
header p, .meta { font: 13px/1.5 system-ui, sans-serif; color: #6b6b6b; }
article { border-bottom: 1px solid #eee; padding-bottom: 2rem; margin-bottom: 2rem; }
article > h2 { font-family: system-ui, sans-serif; font-size: 1.6rem; margin: 0 0 .3rem; }
.meta span { margin-right: 1rem; }
.status { font-weight: bold; text-transform: uppercase; }
.tag { background: #f2f2f2; border-radius: 1rem; padding: 0 .5rem; margin-right: .3rem; }
.content img { max-width: 100%; }
.content pre { background: #f2f2f2; padding: 1rem; overflow-x: auto; }
.content blockquote { border-left: 3px solid #242424; margin-left: 0; padding-left: 1rem; }
.empty { color: #6b6b6b; font-style: italic; }
"""


def render_index(records: Sequence[dict[str, Any]], users: Iterable[SandboxUser]) -> str:
    """The whole page for ``GET /``; ``records`` as :meth:`Store.records` returns them."""
    user_lines = ", ".join(
        f"{escape(user.name)} (@{escape(user.username)}, id {escape(user.id)})" for user in users
    )
    articles = [_article(record) for record in reversed(records)]
    count = f"{len(records)} post{'s' if len(records) != 1 else ''}"
    body = "\n".join(articles) if articles else '<p class="empty">No posts yet.</p>'
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>syncd sandbox: {count}</title>
<style>{_STYLE}</style>
</head>
<body>
<header>
<h1>syncd sandbox: a local Medium</h1>
<p>{count}, newest first. Users: {user_lines}.</p>
</header>
{body}
</body>
</html>
"""


def _article(record: dict[str, Any]) -> str:
    post = record["post"]
    request = record["request"] if isinstance(record["request"], dict) else {}
    content = request.get("content")
    content_format = request.get("contentFormat")
    rendered = (
        sanitize(to_html(content, content_format))
        if isinstance(content, str) and isinstance(content_format, str)
        else ""
    )
    meta = [
        f'<span class="status">{escape(str(post.get("publishStatus", "")))}</span>',
        f"<span>received {escape(str(record['received_at']))}</span>",
    ]
    if post.get("publicationId"):
        meta.append(f"<span>publication {escape(str(post['publicationId']))}</span>")
    tags = "".join(f'<span class="tag">{escape(str(tag))}</span>' for tag in post.get("tags", []))
    links = [f"Medium: {_link(str(post.get('url', '')))}"]
    if post.get("canonicalUrl"):
        links.append(f"canonical: {_link(str(post['canonicalUrl']))}")
    return f"""<article id="post-{escape(str(post.get("id", "")))}">
<h2>{escape(str(post.get("title", "")))}</h2>
<p class="meta">{"".join(meta)}</p>
<p class="meta">{tags or "no tags"}</p>
<p class="meta">{" · ".join(links)}</p>
<div class="content">
{rendered}
</div>
</article>"""


def _link(url: str) -> str:
    """A link for http(s) URLs, plain escaped text for anything else."""
    if url.startswith(("http://", "https://")):
        return f'<a href="{escape(url)}" rel="nofollow noopener noreferrer">{escape(url)}</a>'
    return escape(url)

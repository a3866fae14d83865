"""The floor: the least a fresh process can do to know a site's posts.

Finds every post file the generator publishes from (Jekyll: dated files in every ``_posts``
folder; Gatsby: Markdown under ``content/blog``), reads it and parses its front matter with
python-frontmatter, and prints how many it read. Nothing else: no URLs, no ledger, no output
per post. The suite runs it as a fresh process, like ``syncd plan``, and divides syncd's
times by its time. Usage: python bench/floor.py jekyll|gatsby SITE_ROOT
"""

from __future__ import annotations

import sys
from pathlib import Path

import frontmatter

SKIP = {"_site", ".jekyll-cache", "node_modules", ".git", "vendor", "public", ".cache"}


def post_files(generator: str, root: Path) -> list[Path]:
    if generator == "jekyll":
        folders = [f for f in root.rglob("_posts") if not SKIP.intersection(f.parts)]
        found = [p for folder in folders for p in folder.rglob("*")
                 if p.suffix in (".md", ".markdown") and p.is_file()]
    else:
        found = [p for p in (root / "content" / "blog").rglob("*.md") if p.is_file()]
    return sorted(found)


def main() -> None:
    generator, root = sys.argv[1], Path(sys.argv[2])
    count = 0
    for path in post_files(generator, root):
        post = frontmatter.load(path)
        count += bool(post.metadata)
    print(count)


if __name__ == "__main__":
    main()

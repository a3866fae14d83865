"""Site readers: one module per generator, each turning a site folder into a SiteScan.

A reader computes every post's canonical URL exactly as its generator publishes it, and
reports unreadable post files instead of failing the whole site. ``jekyll`` follows Jekyll
4.3's code, with the Ruby behaviour it relies on in ``ruby``; ``gatsby`` follows Gatsby 5
sites built like gatsby-starter-blog; ``postfile`` reads one post file safely;
``parsecache`` lets a reader skip the files that did not change since it last read them.
"""

from __future__ import annotations

from syncd.config import SiteConfig
from syncd.model import SiteScan
from syncd.sites.parsecache import ParseCache


def read_site(site: SiteConfig, cache: ParseCache | None = None) -> SiteScan:
    """Read the configured site with its generator's reader (through ``cache`` if given)."""
    if site.generator == "gatsby":
        from syncd.sites import gatsby

        return gatsby.read_site(
            site.root,
            site.url,
            url_template=site.url_template,
            content=tuple(str(path) for path in site.content) if site.content else None,
            cache=cache,
        )
    from syncd.sites import jekyll

    return jekyll.read_site(
        site.root,
        site.url,
        config_files=tuple(str(path) for path in site.jekyll_config)
        if site.jekyll_config else None,
        cache=cache,
    )

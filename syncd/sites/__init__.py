"""Site readers: one module per generator, each turning a site folder into a SiteScan.

A reader computes every post's canonical URL exactly as its generator publishes it, and
reports unreadable post files instead of failing the whole site.
"""

from __future__ import annotations

from syncd.config import SiteConfig
from syncd.errors import SyncdError
from syncd.model import SiteScan


def read_site(site: SiteConfig) -> SiteScan:
    """Read the configured site with its generator's reader."""
    if site.generator == "jekyll":
        from syncd.sites import jekyll

        return jekyll.read_site(site.root, site.url)
    raise SyncdError(
        f"site.generator = {site.generator!r} is not supported by this version of syncd yet; "
        "only \"jekyll\" sites can be read"
    )

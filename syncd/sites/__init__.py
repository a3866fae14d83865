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
    from syncd.sites.live import open_reading, scan_of

    reading = open_reading(site)
    return scan_of(reading.scan(cache), reading.clash_advice)

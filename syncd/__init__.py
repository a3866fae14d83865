"""syncd: Publish on your Own Site, Syndicate Elsewhere.

syncd watches a Jekyll or Gatsby site and creates each new post on Medium once, with its
``canonicalUrl`` pointing back to the author's site.
"""

from __future__ import annotations

__version__ = "0.1.0"

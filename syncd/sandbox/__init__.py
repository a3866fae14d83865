"""``syncd sandbox``: a faithful local Medium API, for tests, the demo and dry runs.

Nothing here reaches medium.com. :class:`Sandbox` serves Medium's endpoints under ``/v1/``
with Medium's status codes, envelope, validation, daily limit and OAuth, plus inspection and
fault injection under ``/_sandbox/`` and a page at ``/`` showing what was posted.
:func:`run_sandbox` is the command. See ``medium-api.md`` for the contract; the modules are:

- :mod:`~syncd.sandbox.store`: state and Medium's rules (users, posts, OAuth, limit, faults);
- :mod:`~syncd.sandbox.api`: requests to responses (routes, envelope, multipart, OAuth page);
- :mod:`~syncd.sandbox.server`: the socket, faults that touch the connection, the command;
- :mod:`~syncd.sandbox.content` and :mod:`~syncd.sandbox.page`: content as Medium shows it.

Extensions beyond Medium (a real client never sends them):

- ``GET /_sandbox/posts``: every created post, oldest first, with the request as sent;
- ``GET /_sandbox/images/<name>``: an uploaded image (``/v1/images`` answers this URL);
- ``GET|POST|DELETE /_sandbox/faults``: list, queue or clear faults (see ``server``);
- ``GET /``: the posts as a page;
- on ``/m/oauth/authorize``: ``sandbox_deny=1`` answers ``error=access_denied`` instead of a
  code, and ``sandbox_user=<id or username>`` picks who authorizes (default: the first user).
"""

from __future__ import annotations

from syncd.sandbox.server import Sandbox, run_sandbox
from syncd.sandbox.store import SandboxUser

__all__ = ["Sandbox", "SandboxUser", "run_sandbox"]

"""Jekyll's Liquid, run on a post's body before Markdown, so no raw tag reaches Medium.

Jekyll renders Liquid first and Markdown second; syncd does the same with ``python-liquid``
(a Shopify-compatible engine), with Jekyll's own tags and filters added:

- ``{% highlight lang %}…{% endhighlight %}`` becomes a fenced code block (the language is
  dropped: Medium keeps none);
- ``{% raw %}…{% endraw %}`` is literal text;
- ``{% post_url name %}`` and ``{% link path %}`` become the absolute URL of that post or page;
- ``{% gist id %}``, ``{% youtube id %}`` and ``{% vimeo id %}`` become bare URLs, which
  Medium turns into embeds;
- ``{% include … %}``, ``{% include_relative … %}`` and every tag syncd does not know are
  removed, each with a warning naming its line;
- ``{{ site.* }}`` (from ``_config.yml``) and ``{{ page.* }}`` (from the front matter) are
  expanded; one that is undefined shows nothing, as in Jekyll, and is warned about.

Control flow (``if``, ``for``, ``assign``, ``capture``…) is real Liquid, evaluated as Jekyll
would. Warnings carry the line in the body where the tag stands.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol, TextIO
from urllib.parse import quote, quote_plus, urlsplit
from xml.sax.saxutils import escape as xml_escape

from liquid import Environment, Tag, Undefined
from liquid.ast import BlockNode, Node
from liquid.exceptions import LiquidError
from liquid.parser import get_parser
from liquid.stream import TokenStream
from liquid.token import TOKEN_EOF, TOKEN_EXPRESSION, TOKEN_TAG, Token

_LIQUID_MARKUP = re.compile(r"\{%.*?%\}|\{\{.*?\}\}|\{[{%]|[%}]\}", re.DOTALL)
_UNKNOWN_TAG = re.compile(r"unexpected tag '([^']*)'")
_BACKTICKS = re.compile(r"`+")
# Brackets a URL from post_url or link until the template is rendered (see _place_urls).
_URL_MARK = "\x00"


class SiteLinks(Protocol):
    """Absolute URLs of the site's posts and pages, for ``post_url`` and ``link``."""

    def post_url(self, name: str) -> str | None: ...

    def link(self, path: str) -> str | None: ...


@dataclass
class LiquidResult:
    """The body after Liquid, and what could not be rendered as Jekyll would."""

    text: str
    warnings: list[tuple[int | None, str]] = field(default_factory=list)


def render_liquid(
    body: str,
    *,
    site: Mapping[str, Any],
    page: Mapping[str, Any],
    links: SiteLinks,
    site_url: str,
    base_path: str,
) -> LiquidResult:
    """Render ``body``'s Liquid; ``site_url`` and ``base_path`` feed the URL filters."""
    if "{%" not in body and "{{" not in body:
        return LiquidResult(body)
    env = _JekyllEnvironment(body, links, site_url, base_path)
    try:
        template = env.from_string(body)
        text = template.render(site=dict(site), page=dict(page),
                               jekyll={"environment": "production"})
        text = _place_urls(text, site_url, base_path)
    except LiquidError as exc:
        stripped = _LIQUID_MARKUP.sub("", body)
        message = exc.args[0] if exc.args else str(exc)
        return LiquidResult(stripped, [(_line_of(exc.token, body), f"Liquid cannot be read "
                                        f"({message}); every Liquid tag was removed")])
    return LiquidResult(text, _dedupe(env.problems))


def _place_urls(text: str, site_url: str, base_path: str) -> str:
    """Put the URLs of ``post_url`` and ``link`` in place, absorbing a written-out prefix.

    Jekyll 3 posts write ``{{ site.baseurl }}{% post_url … %}`` (or with ``site.url`` too);
    the tags give absolute URLs here, so such a prefix in front of one is dropped.
    """
    base = base_path.rstrip("/")
    origin = site_url[: len(site_url) - len(base)] if base and site_url.endswith(base) \
        else site_url
    prefix = f"(?:{re.escape(origin)})?(?:{re.escape(base)})?" if origin or base else ""
    placed = re.sub(prefix + _URL_MARK + "([^" + _URL_MARK + "]*)" + _URL_MARK, r"\1", text)
    return placed.replace(_URL_MARK, "")


def _dedupe(problems: list[tuple[int | None, str]]) -> list[tuple[int | None, str]]:
    return list(dict.fromkeys(problems))


def _line_of(token: Token | None, body: str) -> int | None:
    if token is None or token.start_index < 0 or token.source is not body:
        return None
    return body.count("\n", 0, token.start_index) + 1


class _JekyllEnvironment(Environment):
    """A Liquid environment with Jekyll's tags and filters that records, never raises."""

    def __init__(self, body: str, links: SiteLinks, site_url: str, base_path: str) -> None:
        self.body = body
        self.links = links
        self.site_url = site_url.rstrip("/")
        self.base_path = base_path.rstrip("/")
        self.problems: list[tuple[int | None, str]] = []
        super().__init__(undefined=_recording_undefined(self), strict_filters=True)
        for tag in (HighlightTag, PostUrlTag, LinkTag, GistTag, VideoTag, VimeoTag, RemovedTag,
                    RemovedRelativeTag, RemovedRenderTag):
            self.add_tag(tag)
        for name, function in self._filters().items():
            self.add_filter(name, function)

    def warn(self, token: Token | None, message: str) -> None:
        self.problems.append((_line_of(token, self.body), message))

    def error(self, exc: Any, msg: str | None = None, token: Token | None = None) -> None:
        if not isinstance(exc, LiquidError):
            exc = exc(msg, token=token)
        where = exc.token or token
        message = exc.args[0] if exc.args else str(exc)
        unknown = _UNKNOWN_TAG.match(str(message))
        if unknown:
            self.warn(where, f"{{% {unknown.group(1)} %}} is a Liquid tag syncd does not "
                             "render; removed")
        else:
            self.warn(where, f"Liquid: {message}; that part was left out")

    def _filters(self) -> dict[str, Callable[..., Any]]:
        return {
            "relative_url": self.relative_url,
            "absolute_url": self.absolute_url,
            "xml_escape": lambda value: xml_escape(_text(value)),
            "cgi_escape": lambda value: quote_plus(_text(value)),
            "uri_escape": lambda value: quote(_text(value), safe="!#$&'()*+,/:;=?@[]~"),
            "jsonify": lambda value: json.dumps(value, default=str, ensure_ascii=False),
            "number_of_words": lambda value: len(_text(value).split()),
            "markdownify": _text,
            "smartify": _text,
            "slugify": _slugify,
            "date_to_xmlschema": lambda value: _date(value, "%Y-%m-%dT%H:%M:%S%z"),
            "date_to_rfc822": lambda value: _date(value, "%a, %d %b %Y %H:%M:%S %z"),
            "date_to_string": lambda value, *_: _date(value, "%d %b %Y"),
            "date_to_long_string": lambda value, *_: _date(value, "%d %B %Y"),
            "array_to_sentence_string": _sentence,
        }

    def relative_url(self, value: Any) -> str:
        """Jekyll's ``relative_url``: the site's base path prefixed, absolute URLs as they are."""
        text = _text(value)
        if urlsplit(text).scheme:
            return text
        return self.base_path + "/" + text.lstrip("/")

    def absolute_url(self, value: Any) -> str:
        text = _text(value)
        if urlsplit(text).scheme:
            return text
        origin = self.site_url[: len(self.site_url) - len(self.base_path)] \
            if self.base_path and self.site_url.endswith(self.base_path) else self.site_url
        return origin + self.relative_url(text)


def _recording_undefined(env: _JekyllEnvironment) -> type[Undefined]:
    """An Undefined that shows nothing, as Jekyll does, and tells ``env`` it was shown."""

    class RecordingUndefined(Undefined):
        __slots__ = ()

        def __str__(self) -> str:
            label = _path_at(self.token) or str(self.name)
            env.warn(self.token, f"{{{{ {label} }}}} is not defined; nothing is shown there")
            return ""

    return RecordingUndefined


_PATH = re.compile(r"[\w.\-]+(?:\[[^\]]*\][\w.\-]*)*")


def _path_at(token: Token | None) -> str | None:
    """The variable path as written (``page.hero.image``), where ``token`` starts it."""
    if token is None or token.start_index < 0:
        return None
    found = _PATH.match(token.source, token.start_index)
    return found.group(0).rstrip(".") if found else None


def _text(value: Any) -> str:
    return "" if value is None or isinstance(value, Undefined) else str(value)


def _slugify(value: Any, mode: str = "default") -> str:
    from syncd.sites.jekyll import slugify

    return slugify(_text(value), mode=mode if mode in ("default", "pretty") else "default")


def _date(value: Any, pattern: str) -> str:
    if isinstance(value, dt.datetime):
        moment = value
    elif isinstance(value, dt.date):
        moment = dt.datetime(value.year, value.month, value.day)
    else:
        try:
            moment = dt.datetime.fromisoformat(_text(value).strip())
        except ValueError:
            return _text(value)
    return moment.strftime(pattern)


def _sentence(value: Any, connector: str = "and") -> str:
    items = [_text(item) for item in value] if isinstance(value, list) else [_text(value)]
    if len(items) <= 2:
        return f" {connector} ".join(items)
    return ", ".join(items[:-1]) + f", {connector} " + items[-1]


def _expression(stream: TokenStream) -> str:
    """The raw text after a tag's name, leaving the stream on the tag's last token."""
    if stream.peek.kind == TOKEN_EXPRESSION:
        next(stream)
        return stream.current.value.strip()
    return ""


def _environment(tag: Tag) -> _JekyllEnvironment:
    assert isinstance(tag.env, _JekyllEnvironment)
    return tag.env


class _TextNode(Node):
    """A node whose output is decided when the template is parsed."""

    __slots__ = ("text",)

    def __init__(self, token: Token, text: str) -> None:
        super().__init__(token)
        self.text = text

    def __str__(self) -> str:
        return self.text

    def render_to_output(self, context: Any, buffer: TextIO) -> int:
        return buffer.write(self.text)


class HighlightNode(Node):
    """``{% highlight %}``: its rendered body as a fenced code block, text kept exactly."""

    __slots__ = ("block",)

    def __init__(self, token: Token, block: BlockNode) -> None:
        super().__init__(token)
        self.block = block

    def __str__(self) -> str:
        return f"{{% highlight %}}{self.block}{{% endhighlight %}}"

    def render_to_output(self, context: Any, buffer: TextIO) -> int:
        inner = context.get_buffer(buffer)
        self.block.render(context, inner)
        # Jekyll strips the line breaks around the code, and nothing else.
        code = inner.getvalue().strip("\r\n")
        longest = max((len(run) for run in _BACKTICKS.findall(code)), default=0)
        fence = "`" * max(3, longest + 1)
        return buffer.write(f"{fence}\n{code}\n{fence}")


class HighlightTag(Tag):
    name = "highlight"
    end = "endhighlight"

    def parse(self, stream: TokenStream) -> Node:
        token = stream.eat(TOKEN_TAG)
        if stream.current.kind == TOKEN_EXPRESSION:
            next(stream)
        block = get_parser(self.env).parse_block(stream, frozenset((self.end, TOKEN_EOF)))
        stream.expect(TOKEN_TAG, value=self.end)
        return HighlightNode(token, block)


class _UrlTag(Tag):
    """A tag that names a file of the site and becomes that page's absolute URL."""

    block = False
    missing = ""

    def lookup(self, links: SiteLinks, argument: str) -> str | None:
        raise NotImplementedError

    def parse(self, stream: TokenStream) -> Node:
        token = stream.current
        argument = _expression(stream)
        env = _environment(self)
        url = self.lookup(env.links, argument)
        if url is None:
            env.warn(token, f"{{% {self.name} {argument} %}}: {self.missing}; the link is left "
                            "empty")
            url = ""
        return _TextNode(token, _URL_MARK + url + _URL_MARK)


class PostUrlTag(_UrlTag):
    """``{% post_url 2020-01-02-name %}``: the absolute URL of that post."""

    name = "post_url"
    missing = "no such published post"

    def lookup(self, links: SiteLinks, argument: str) -> str | None:
        return links.post_url(argument)


class LinkTag(_UrlTag):
    """``{% link path %}``: the absolute URL of the post or page made from that file."""

    name = "link"
    missing = "no such file in the site"

    def lookup(self, links: SiteLinks, argument: str) -> str | None:
        return links.link(argument)


class GistTag(Tag):
    """``{% gist user/id [file] %}``: a bare Gist URL, which Medium shows as the Gist."""

    name = "gist"
    block = False

    def parse(self, stream: TokenStream) -> Node:
        token = stream.current
        words = _expression(stream).split()
        if not words:
            _environment(self).warn(token, "{% gist %} without a Gist id; removed")
            return _TextNode(token, "")
        return _TextNode(token, "https://gist.github.com/" + words[0].strip("\"'"))


class VideoTag(Tag):
    """``{% youtube id %}`` (a common plugin's tag): a bare video URL, which Medium embeds."""

    name = "youtube"
    block = False
    address = "https://www.youtube.com/watch?v="

    def parse(self, stream: TokenStream) -> Node:
        token = stream.current
        words = _expression(stream).split()
        if not words:
            _environment(self).warn(token, f"{{% {self.name} %}} without a video id; removed")
            return _TextNode(token, "")
        return _TextNode(token, self.address + words[0].strip("\"'"))


class VimeoTag(VideoTag):
    name = "vimeo"
    address = "https://vimeo.com/"


class RemovedTag(Tag):
    """``{% include %}``: syncd does not render the site's includes, so it goes, loudly."""

    name = "include"
    block = False

    def parse(self, stream: TokenStream) -> Node:
        token = stream.current
        argument = _expression(stream)
        _environment(self).warn(
            token, f"{{% {self.name} {argument} %}} removed: syncd does not render includes; "
                   "what it would show is not on Medium")
        return _TextNode(token, "")


class RemovedRelativeTag(RemovedTag):
    name = "include_relative"


class RemovedRenderTag(RemovedTag):
    name = "render"

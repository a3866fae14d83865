"""What Ruby, Psych and Addressable do, where Jekyll leans on them for a post's URL and date.

Jekyll's own code is short; much of what decides a URL byte for byte lives in the libraries
it calls. This module reproduces the parts that matter, each named after the Ruby it
mirrors, so :mod:`syncd.sites.jekyll` can read like Jekyll's source:

- :func:`load_yaml`: Psych's ``safe_load`` typing of plain scalars (``no``/``off`` are false,
  ``2020-01-02`` a Date, ``:x`` a refused Symbol, ``1:30`` a sexagesimal number).
- :func:`to_s`, :func:`truthy`, :func:`downcase`, :func:`split_words`, :func:`extname`,
  :func:`fnmatch`: Ruby's conversions, truthiness and string and path helpers.
- ``Time.parse`` (a front matter ``date``) is ported in :mod:`syncd.sites.ruby_time`.
- :func:`uri_encode` and :func:`uri_normalize`: ``Addressable::URI.encode`` and
  ``Addressable::URI.parse(...).normalize.to_s``, including Addressable's own NFKC tables.

Every function here is checked against the real Ruby libraries by
``tests/test_urls_differential.py``.
"""

from __future__ import annotations

import datetime as dt
import functools
import math
import re
from collections.abc import Callable
from typing import Any

import yaml

from syncd.sites import addressable_tables


class RubyError(ValueError):
    """Ruby would raise here (Jekyll stops reading the post, or the whole build)."""


# Psych ----------------------------------------------------------------------------------


class PsychSymbolError(yaml.YAMLError):
    """A plain scalar starting with ':' is a Ruby Symbol, which ``safe_load`` refuses."""


_PLAIN = "tag:syncd:psych-plain"
_TIME = re.compile(
    r"^-?\d{4}-\d{1,2}-\d{1,2}(?:[Tt]|[ \t\n\v\f\r]+)\d{1,2}:\d\d:\d\d(?:\.\d*)?"
    r"(?:[ \t\n\v\f\r]*(?:Z|[-+]\d{1,2}:?(?:\d\d)?))?$"
)
_DATE = re.compile(r"^\d{4}-(?:1[012]|0\d|\d)-(?:[12]\d|3[01]|0\d|\d)$")
_FLOAT = re.compile(r"^(?:[-+]?([0-9][0-9_,]*)?\.[0-9]*([eE][-+][0-9]+)?)$")
_INTEGER_LEGACY = re.compile(
    r"^(?:[-+]?0b[0-1_,]+|[-+]?0[0-7_,]+|[-+]?(?:0|[1-9](?:[0-9]|,[0-9]|_[0-9])*)"
    r"|[-+]?0x[0-9a-fA-F_,]+)$"
)
# Psych's "looks like a word" test; [[:alpha:]] is any letter.
_WORDISH = re.compile(r"^[^\d.:-]?(?:[^\W\d_]|[_ \t\n\v\f\r!@#$%^&*(){}<>|/\\~;=])+")


class PsychTime(dt.datetime):
    """A YAML timestamp as Psych makes it; ``zone`` is how Ruby's ``Time#to_s`` shows it.

    ``"UTC"`` (written with ``Z``), ``"local"`` (written without a zone: a UTC instant shown
    in the local zone) or ``"offset"`` (written with ``+hh:mm``).
    """

    zone: str = "offset"


class _PsychLoader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # type: ignore[misc]
    """PyYAML's safe loader (libyaml's when present), every plain scalar typed as Psych does."""

    def resolve(self, kind: Any, value: Any, implicit: Any) -> Any:
        if kind is yaml.ScalarNode and implicit[0] and value != "<<":
            return _PLAIN
        return super().resolve(kind, value, implicit)


def _construct_plain(loader: yaml.SafeLoader, node: yaml.Node) -> Any:
    return psych_tokenize(str(loader.construct_scalar(node)))  # type: ignore[arg-type]


_PsychLoader.add_constructor(_PLAIN, _construct_plain)
# "<<" is resolved as a merge key so mappings can merge; as a plain value it is text.
_PsychLoader.add_constructor("tag:yaml.org,2002:merge", lambda _loader, _node: "<<")


def load_yaml(text: str) -> Any:
    """``Psych.safe_load(text, permitted_classes: [Date, Time], aliases: true)``."""
    return yaml.load(text, Loader=_PsychLoader)  # noqa: S506 (a safe loader subclass)


@functools.lru_cache(maxsize=4096)
def psych_tokenize(string: str) -> Any:
    """Psych::ScalarScanner#tokenize: the Ruby value of one plain scalar.

    Memoised: every value it returns is immutable, and tags, categories, layouts and dates
    repeat from post to post.
    """
    if string == "":
        return None
    if _WORDISH.match(string) or "\n" in string:
        if len(string) > 5:
            return string
        if re.match(r"^[^ytonf~]", string, re.IGNORECASE):
            return string
        if string == "~" or string.lower() == "null":
            return None
        if string.lower() in ("yes", "true", "on"):
            return True
        if string.lower() in ("no", "false", "off"):
            return False
        return string
    if _TIME.match(string):
        parsed = _psych_time(string)
        return string if parsed is None else parsed
    if _DATE.match(string):
        year, month, day = (int(part) for part in string.split("-"))
        try:
            return dt.date(year, month, day)
        except ValueError:
            return string
    if re.match(r"^\+?\.inf$", string, re.IGNORECASE):
        return math.inf
    if re.match(r"^-\.inf$", string, re.IGNORECASE):
        return -math.inf
    if re.match(r"^\.nan$", string, re.IGNORECASE):
        return math.nan
    if re.match(r"^:.", string, re.DOTALL):
        raise PsychSymbolError(
            f"{string!r} is a Ruby symbol (a plain value starting with ':'), which Jekyll "
            "refuses to read; put it in quotes"
        )
    if re.match(r"^[-+]?[0-9][0-9_]*(:[0-5]?[0-9]){1,2}$", string):
        return sum(_ruby_to_i(part) * 60 ** abs(i - 2) for i, part in enumerate(string.split(":")))
    if re.match(r"^[-+]?[0-9][0-9_]*(:[0-5]?[0-9]){1,2}\.[0-9_]*$", string):
        return float(
            sum(_ruby_to_f(part) * 60 ** abs(i - 2) for i, part in enumerate(string.split(":")))
        )
    if _FLOAT.match(string):
        if re.match(r"^[-+]?\.$", string):
            return string
        cleaned = re.sub(r"\.([Ee]|$)", r"\1", string.replace(",", "").replace("_", ""))
        return float(cleaned)
    if _INTEGER_LEGACY.match(string):
        return _ruby_integer(string.replace(",", "").replace("_", ""))
    return string


def _ruby_to_i(text: str) -> int:
    found = re.match(r"^[ \t\n\v\f\r]*([-+]?\d+(?:_\d+)*)", text)
    return int(found.group(1).replace("_", "")) if found else 0


def _ruby_to_f(text: str) -> float:
    found = re.match(r"^[ \t\n\v\f\r]*([-+]?\d+(?:_\d+)*(?:\.\d+(?:_\d+)*)?)", text)
    return float(found.group(1).replace("_", "")) if found else 0.0


def _ruby_integer(text: str) -> int:
    sign = -1 if text.startswith("-") else 1
    digits = text.lstrip("+-")
    if digits.startswith("0b"):
        return sign * int(digits[2:], 2)
    if digits.startswith("0x"):
        return sign * int(digits[2:], 16)
    if digits.startswith("0") and len(digits) > 1:
        return sign * int(digits[1:], 8)
    return sign * int(digits)


def _psych_time(string: str) -> PsychTime | None:
    """Psych::ScalarScanner#parse_time; ``None`` where Ruby's Time would roll the date over."""
    date_part, time_part = re.split(r"[ tT]", string, maxsplit=1)
    found_date = re.match(r"^(-?\d{4})-(\d{1,2})-(\d{1,2})", date_part)
    found_time = re.search(r"(\d+:\d+:\d+)(?:\.(\d*))?\s*(Z|[-+]\d+(:\d\d)?)?", time_part)
    if not found_date or not found_time:
        return None
    year, month, day = (int(x) for x in found_date.groups())
    hour, minute, second = (int(x) for x in found_time.group(1).split(":"))
    micro = int((found_time.group(2) or "").ljust(6, "0")[:6] or 0)
    zone = found_time.group(3)
    try:
        if zone is None or zone == "Z":
            value = PsychTime(year, month, day, hour, minute, second, micro, tzinfo=dt.UTC)
            value.zone = "UTC" if zone == "Z" else "local"
            return value
        parts = re.match(r"^([+\-]?\d{1,2}):?(\d{1,2})?$", zone)
        if parts is None:
            return None
        hours = int(parts.group(1))
        minutes = int(parts.group(2) or 0)
        # As Psych: "-00:30" has no negative hours, so its minutes count forward.
        offset = hours * 3600 + (-minutes if hours < 0 else minutes) * 60
        tz = dt.timezone(dt.timedelta(seconds=offset))
        value = PsychTime(year, month, day, hour, minute, second, micro, tzinfo=tz)
        value.zone = "offset"
        return value
    except (ValueError, OverflowError):
        return None


# Conversions ----------------------------------------------------------------------------


def truthy(value: Any) -> bool:
    """Ruby's truth: only nil and false are false (so 0, "" and [] are true)."""
    return value is not None and value is not False


def to_s(value: Any, local_zone: dt.tzinfo = dt.UTC) -> str:
    """Ruby's ``to_s`` of a value Psych produced; lists and maps are refused (``RubyError``)."""
    if isinstance(value, str):
        return value
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return float_to_s(value)
    if isinstance(value, PsychTime):
        if value.zone == "UTC":
            return value.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
        shown = value.astimezone(local_zone) if value.zone == "local" else value
        return shown.strftime("%Y-%m-%d %H:%M:%S ") + _offset_text(shown)
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S ") + _offset_text(value)
    if isinstance(value, dt.date):
        return f"{value.year:04d}-{value.month:02d}-{value.day:02d}"
    raise RubyError(f"a {type(value).__name__} where Jekyll expects text")


def _offset_text(value: dt.datetime) -> str:
    offset = value.utcoffset() or dt.timedelta(0)
    minutes = int(offset.total_seconds()) // 60
    sign = "-" if minutes < 0 else "+"
    return f"{sign}{abs(minutes) // 60:02d}{abs(minutes) % 60:02d}"


def float_to_s(value: float) -> str:
    """``Float#to_s``: ``1.0``, ``1.0e+20``, ``Infinity``."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    text = repr(value)
    if "e" in text:
        mantissa, exponent = text.split("e")
        if "." not in mantissa:
            mantissa += ".0"
        sign = exponent[0] if exponent[0] in "+-" else "+"
        digits = exponent.lstrip("+-").rjust(2, "0")
        return f"{mantissa}e{sign}{digits}"
    return text if "." in text else text + ".0"


def downcase(text: str) -> str:
    """``String#downcase``: full Unicode lowercasing, one character at a time (no final-sigma
    rule, which Python's ``str.lower`` applies and Ruby does not)."""
    if text.isascii():
        return text.lower()
    return "".join(ch.lower() for ch in text)


_RUBY_SPACE = " \t\n\v\f\r"


def split_words(text: str) -> list[str]:
    """``String#split`` with no argument: on ASCII whitespace only (not on U+00A0)."""
    return [word for word in re.split(r"[ \t\n\v\f\r\x00]+", text) if word]


def extname(path: str) -> str:
    """``File.extname`` on Linux: ``.md``; ``.`` for ``foo.``; nothing for ``.bashrc``."""
    base = path.rstrip("/").rsplit("/", 1)[-1]
    name = base.lstrip(".")
    if "." not in name:
        return ""
    return name[name.rindex("."):]


def basename_without_ext(path: str) -> str:
    """``File.basename(path, ".*")``."""
    if path and not path.strip("/"):
        return "/"
    base = path.rstrip("/").rsplit("/", 1)[-1]
    ext = extname(base)
    return base[: -len(ext)] if ext else base


def fnmatch(pattern: str, path: str) -> bool:
    """``File.fnmatch?(pattern, path)`` with no flags: ``*`` crosses ``/``; no braces."""
    return _fnmatch_regex(pattern).fullmatch(path) is not None


@functools.lru_cache(maxsize=512)
def _fnmatch_regex(pattern: str) -> re.Pattern[str]:
    out: list[str] = []
    i = 0
    if pattern.startswith(("*", "?")):
        # Without FNM_DOTMATCH a wildcard never matches a leading period.
        out.append(r"(?!\.)")
    while i < len(pattern):
        ch = pattern[i]
        if ch == "*":
            out.append(".*")
        elif ch == "?":
            out.append(".")
        elif ch == "\\":
            # A backslash escapes the next character; a last, lone one ends the pattern.
            i += 1
            if i < len(pattern):
                out.append(re.escape(pattern[i]))
        elif ch == "[":
            end, klass = _bracket(pattern, i)
            if klass is None:
                out.append(re.escape(ch))
            else:
                out.append(klass)
                i = end
        else:
            out.append(re.escape(ch))
        i += 1
    return re.compile("".join(out), re.DOTALL)


def _bracket(pattern: str, start: int) -> tuple[int, str | None]:
    i = start + 1
    negate = i < len(pattern) and pattern[i] in "!^"
    if negate:
        i += 1
    items: list[str] = []
    first = True
    while i < len(pattern) and (pattern[i] != "]" or first):
        first = False
        ch = pattern[i]
        if ch == "\\" and i + 1 < len(pattern):
            i += 1
            ch = pattern[i]
        if i + 2 < len(pattern) and pattern[i + 1] == "-" and pattern[i + 2] != "]":
            high = pattern[i + 2]
            items.append(f"{re.escape(ch)}-{re.escape(high)}")
            i += 3
            continue
        items.append(re.escape(ch))
        i += 1
    if i >= len(pattern):
        return start, None
    return i, "[" + ("^" if negate else "") + "".join(items) + "]"


# Addressable ----------------------------------------------------------------------------

_ALPHA = "a-zA-Z"
_DIGIT = "0-9"
_SUB_DELIMS = "!$&'()*+,;="
_UNRESERVED = _ALPHA + _DIGIT + "-._~"
_PCHAR = _UNRESERVED + _SUB_DELIMS + ":@"
_GEN_DELIMS = ":/?#[]@"


def _char_class(chars: str) -> frozenset[int]:
    """Bytes in a character class written like Addressable's (``a-z`` ranges)."""
    allowed: set[int] = set()
    i = 0
    while i < len(chars):
        if i + 2 < len(chars) and chars[i + 1] == "-":
            allowed.update(range(ord(chars[i]), ord(chars[i + 2]) + 1))
            i += 3
        else:
            allowed.add(ord(chars[i]))
            i += 1
    return frozenset(allowed)


SCHEME_CHARS = _char_class(_ALPHA + _DIGIT + "-+.")
AUTHORITY_CHARS = _char_class(_PCHAR + "[:]")
PATH_CHARS = _char_class(_PCHAR + "/")
QUERY_CHARS = _char_class(_PCHAR + "/?")
FRAGMENT_CHARS = QUERY_CHARS
PCHAR_CHARS = _char_class(_PCHAR)
UNRESERVED_CHARS = _char_class(_UNRESERVED)
HOST_CHARS = _char_class(_UNRESERVED + _SUB_DELIMS + "[:]")
RESERVED_UNRESERVED_CHARS = _char_class(_GEN_DELIMS + _SUB_DELIMS + _UNRESERVED)
_NORMALIZE_QUERY_CHARS = _char_class(_ALPHA + _DIGIT + "-._~!$'()*+,=:@/?%")

# Ruby's ^ and $ are line anchors and its . stops at a newline: a fragment ends at one.
_URIREGEX = re.compile(r"^(([^:/?#]+):)?(//([^/?#]*))?([^?#]*)(\?([^#]*))?(#(.*))?$", re.M)
_NORMPATH = re.compile(r"^(?!/)[^/:]*:.*$", re.M)
_PORT_MAPPING = {"http": 80, "https": 443, "ftp": 21, "tftp": 69, "sftp": 22, "ssh": 22,
                 "svn+ssh": 22, "telnet": 23, "nntp": 119, "gopher": 70, "wais": 210,
                 "ldap": 389, "prospero": 1525}  # fmt: skip


class InvalidURIError(RubyError):
    """Addressable::URI::InvalidURIError: Jekyll's build stops on this URL."""


def encode_component(component: str | bytes, allowed: frozenset[int]) -> str:
    """``URI.encode_component``: every byte outside ``allowed`` as ``%XX``."""
    raw = component.encode("utf-8", "surrogateescape") if isinstance(component, str) \
        else component
    return "".join(chr(b) if b in allowed else f"%{b:02X}" for b in raw)


def _unencode(component: str, leave_encoded: str = "") -> bytes:
    """``URI.unencode``: ``%XX`` to bytes (except those listed in ``leave_encoded``)."""
    raw = component.encode("utf-8", "surrogateescape")

    def replace(found: re.Match[bytes]) -> bytes:
        byte = int(found.group(0)[1:], 16)
        return found.group(0) if chr(byte) in leave_encoded else bytes([byte])

    return re.sub(rb"%[0-9a-fA-F]{2}", replace, raw)


def normalize_component(component: str, allowed: frozenset[int], leave_encoded: str = "",
                        percent_ok: Callable[[bytes, int], bool] | None = None) -> str:
    """``URI.normalize_component`` with a Regexp character class: unencode, NFKC, re-encode.

    ``percent_ok(raw, i)`` says whether a ``%`` at ``raw[i]`` stays (the query class keeps
    ``%2B``).
    """
    unencoded = _unencode(component, leave_encoded)
    try:
        text = unencoded.decode("utf-8")
    except UnicodeDecodeError:
        # Addressable's NFKC raises on invalid UTF-8; it then encodes with its default class.
        return encode_component(unencoded, RESERVED_UNRESERVED_CHARS)
    normalized = addressable_nfkc(text).encode("utf-8")
    out: list[str] = []
    for i, byte in enumerate(normalized):
        if byte == 0x25 and percent_ok is not None:
            out.append("%" if percent_ok(normalized, i) else "%25")
        elif byte in allowed:
            out.append(chr(byte))
        else:
            out.append(f"%{byte:02X}")
    result = "".join(out)
    if leave_encoded:
        for ch in leave_encoded:
            code = f"{ord(ch):02x}"
            result = re.sub(f"%({code})", lambda m: m.group(0).upper(), result,
                            flags=re.IGNORECASE)
    return result


@functools.lru_cache(maxsize=1)
def _nfkc_tables() -> tuple[dict[int, int], dict[int, tuple[int, ...]], dict[tuple[int, int], int]]:
    def entries(text: str) -> list[tuple[str, str]]:
        return [tuple(item.split(":")) for item in text.split(";") if item]  # type: ignore[misc]

    combining = {int(k, 16): int(v, 16) for k, v in entries(addressable_tables.COMBINING_CLASS)}
    compat = {int(k, 16): tuple(int(c, 16) for c in v.split())
              for k, v in entries(addressable_tables.COMPATIBILITY)}
    pairs: dict[tuple[int, int], int] = {}
    for key, value in entries(addressable_tables.COMPOSITION):
        first, second = key.split()
        pairs[(int(first, 16), int(second, 16))] = int(value, 16)
    return combining, compat, pairs


_HANGUL_S, _HANGUL_L, _HANGUL_V, _HANGUL_T = 0xAC00, 0x1100, 0x1161, 0x11A7
_HANGUL_LCOUNT, _HANGUL_VCOUNT, _HANGUL_TCOUNT = 19, 21, 28
_HANGUL_NCOUNT = _HANGUL_VCOUNT * _HANGUL_TCOUNT
_HANGUL_SCOUNT = _HANGUL_LCOUNT * _HANGUL_NCOUNT


def addressable_nfkc(text: str) -> str:
    """``Addressable::IDNA.unicode_normalize_kc`` (pure Ruby), quirks and old tables included."""
    if text.isascii():
        return text
    combining, compat, pairs = _nfkc_tables()

    def decompose(codepoints: list[int]) -> list[int]:
        out: list[int] = []
        for cp in codepoints:
            if _HANGUL_S <= cp < _HANGUL_S + _HANGUL_SCOUNT:
                index = cp - _HANGUL_S
                out.append(_HANGUL_L + index // _HANGUL_NCOUNT)
                out.append(_HANGUL_V + (index % _HANGUL_NCOUNT) // _HANGUL_TCOUNT)
                trailing = _HANGUL_T + index % _HANGUL_TCOUNT
                if trailing != _HANGUL_T:
                    out.append(trailing)
            elif cp in compat:
                out.extend(decompose(list(compat[cp])))
            else:
                out.append(cp)
        return out

    points = decompose([ord(ch) for ch in text])
    i = 1
    while i < len(points):
        last_cc = combining.get(points[i - 1], 0)
        cc = combining.get(points[i], 0)
        if cc != 0 and last_cc != 0 and last_cc > cc:
            points[i - 1], points[i] = points[i], points[i - 1]
            if i > 1:
                i -= 1
        else:
            i += 1
    if not points:
        return ""
    result: list[int] = []
    starter = points[0]
    # Addressable never updates this after the first code point: a string that starts with
    # a combining mark is never composed at all.
    starter_cc = 256 if combining.get(starter, 0) != 0 else 0
    for cp in points[1:]:
        composite = _compose_pair(starter, cp, pairs) if starter_cc == 0 else None
        if composite is not None:
            starter = composite
        else:
            result.append(starter)
            starter = cp
    result.append(starter)
    return "".join(chr(cp) for cp in result)


def _compose_pair(first: int, second: int, pairs: dict[tuple[int, int], int]) -> int | None:
    if _HANGUL_L <= first < _HANGUL_L + _HANGUL_LCOUNT and \
            _HANGUL_V <= second < _HANGUL_V + _HANGUL_VCOUNT:
        return _HANGUL_S + ((first - _HANGUL_L) * _HANGUL_VCOUNT
                            + (second - _HANGUL_V)) * _HANGUL_TCOUNT
    if _HANGUL_S <= first < _HANGUL_S + _HANGUL_SCOUNT and \
            (first - _HANGUL_S) % _HANGUL_TCOUNT == 0 and \
            _HANGUL_T <= second < _HANGUL_T + _HANGUL_TCOUNT:
        return first + (second - _HANGUL_T)
    return pairs.get((first, second))


class URI:
    """The parts of an Addressable::URI, as ``URI.parse`` splits a string."""

    def __init__(self, scheme: str | None, authority: str | None, path: str,
                 query: str | None, fragment: str | None) -> None:
        self.scheme = scheme
        self.authority = authority
        self.path = path
        self.query = query
        self.fragment = fragment

    @classmethod
    def parse(cls, text: str) -> URI:
        found = _URIREGEX.match(text)
        assert found is not None  # the expression matches every string
        return cls(found.group(2), found.group(4), found.group(5) or "", found.group(7),
                   found.group(9))

    def split_authority(self) -> tuple[str | None, str | None, str | None, str | None]:
        """User, password, host and port, as ``URI.parse`` finds them."""
        if self.authority is None:
            return None, None, None, None
        authority = self.authority
        user = password = None
        userinfo = re.match(r"^([^\[\]]*)@", authority)
        if userinfo:
            info = userinfo.group(1).strip(_RUBY_SPACE)
            user = re.match(r"^([^:]*):?", info).group(1)  # type: ignore[union-attr]
            found_password = re.search(r":(.*)$", info)
            password = found_password.group(1) if found_password else None
        host = re.sub(r"^([^\[\]]*)@", "", authority, count=1)
        host = re.sub(r":([^:@\[\]]*?)$", "", host, count=1)
        found_port = re.search(r":([^:@\[\]]*?)$", authority)
        port = found_port.group(1) if found_port else None
        if port == "":
            port = None
        return user, password, host, port

    def validate(self) -> None:
        """``URI#validate``, for the errors a post URL can run into."""
        if self.scheme is not None and not re.match(r"^[a-z][a-z0-9.+\-]*$", self.scheme,
                                                    re.IGNORECASE):
            raise InvalidURIError(f"Invalid scheme format: {self.scheme!r}")
        _user, _password, host, port = self.split_authority()
        _port_number(port)
        if self.path and not self.path.startswith("/") and self.authority is not None:
            raise InvalidURIError("Cannot have a relative path with an authority set")
        if self.path.startswith("//") and self.authority is None:
            raise InvalidURIError("Cannot have a path with two leading slashes without an "
                                  "authority set")
        if host is not None and re.search(r"[<>{}/\\?#@\"\s]", host):
            raise InvalidURIError(f"Invalid character in host: {host!r}")
        if self.scheme is None and self.path and _NORMPATH.search(self.path):
            raise InvalidURIError(f"Cannot assemble URI string with ambiguous path: "
                                  f"{self.path!r}")

    def to_s(self) -> str:
        self.validate()
        out = ""
        if self.scheme is not None:
            out += self.scheme + ":"
        if self.authority is not None:
            out += "//" + self.authority
        out += self.path
        if self.query is not None:
            out += "?" + self.query
        if self.fragment is not None:
            out += "#" + self.fragment
        return out


def _rebuild_authority(authority: str | None) -> str | None:
    """What ``URI.new(authority: ...)`` prints back: the port as a number."""
    if authority is None:
        return None
    user, password, host, port = URI(None, authority, "", None, None).split_authority()
    out = ""
    if user is not None or password is not None:
        out += (user or "") + (f":{password}" if password is not None else "") + "@"
    out += host or ""
    number = _port_number(port)
    if number is not None:
        out += f":{number}"
    return out


def _port_number(port: str | None) -> int | None:
    """``URI#port=``: digits only (else the URI is invalid); 0 means no port."""
    if port is None:
        return None
    text = _unencode(port).decode("latin-1")
    if not re.fullmatch(r"\d+", text):
        raise InvalidURIError(f"Invalid port number: {port!r}")
    return int(text) or None


def uri_encode(text: str) -> str:
    """``Addressable::URI.encode(text)``: parse, percent-encode each part, print."""
    parsed = uri_parse(text)
    encoded = URI(
        None if parsed.scheme is None else encode_component(parsed.scheme, SCHEME_CHARS),
        None if parsed.authority is None else encode_component(parsed.authority,
                                                               AUTHORITY_CHARS),
        encode_component(parsed.path, PATH_CHARS),
        None if parsed.query is None else encode_component(parsed.query, QUERY_CHARS),
        None if parsed.fragment is None else encode_component(parsed.fragment, FRAGMENT_CHARS),
    )
    encoded.validate()
    encoded.authority = _rebuild_authority(encoded.authority)
    if encoded.path and not encoded.path.startswith("/") and encoded.authority is not None:
        encoded.path = "/" + encoded.path
    return encoded.to_s()


def uri_parse(text: str) -> URI:
    """``Addressable::URI.parse(text)``, which raises on what it cannot represent."""
    parsed = URI.parse(text)
    parsed.validate()
    return parsed


def uri_normalize(text: str) -> str:
    """``Addressable::URI.parse(text).normalize.to_s``."""
    parsed = URI.parse(text)
    parsed.validate()
    scheme = None
    if parsed.scheme is not None:
        scheme = normalize_component(parsed.scheme.strip(_RUBY_SPACE).lower(), SCHEME_CHARS)
    authority = _normalized_authority(parsed, scheme)
    path = _normalized_path(parsed.path, scheme)
    query = None
    if parsed.query is not None:
        pairs = [
            normalize_component(pair, _NORMALIZE_QUERY_CHARS, "+", _keep_plus_escape)
            for pair in parsed.query.split("&")
        ]
        query = "&".join(pairs) or None
    fragment = None
    if parsed.fragment is not None:
        fragment = normalize_component(parsed.fragment, FRAGMENT_CHARS) or None
    if path and not path.startswith("/") and authority is not None:
        path = "/" + path
    return URI(scheme, authority, path, query, fragment).to_s()


def _keep_plus_escape(raw: bytes, i: int) -> bool:
    return raw[i + 1: i + 3] in (b"2B", b"2b")


def _normalized_authority(parsed: URI, scheme: str | None) -> str | None:
    if parsed.authority is None:
        return None
    user, password, host, port = parsed.split_authority()
    out = ""
    if user is not None:
        if scheme in ("http", "https") and not user.strip(_RUBY_SPACE) and \
                (password is None or not password.strip(_RUBY_SPACE)):
            normal_user = None
        else:
            normal_user = normalize_component(user.strip(_RUBY_SPACE), UNRESERVED_CHARS)
        normal_password = None
        if password is not None:
            if scheme in ("http", "https") and not password.strip(_RUBY_SPACE) and \
                    (normal_user is None or not user.strip(_RUBY_SPACE)):
                normal_password = None
            else:
                normal_password = normalize_component(password.strip(_RUBY_SPACE),
                                                      UNRESERVED_CHARS)
        if normal_user is not None and normal_password is not None:
            out += f"{normal_user}:{normal_password}@"
        elif normal_user is not None:
            out += f"{normal_user}@"
    out += _normalized_host(host or "")
    number = _port_number(port)
    if number is not None and _PORT_MAPPING.get(scheme or "") != number:
        out += f":{number}"
    return out


def _normalized_host(host: str) -> str:
    stripped = host.strip(_RUBY_SPACE)
    if not stripped:
        return ""
    text = _unencode(downcase(stripped)).decode("utf-8", "surrogateescape")
    result = _idna_to_ascii(text)
    if re.search(r"[^.]\.$", result):
        result = result[:-1]
    return normalize_component(result, HOST_CHARS)


@functools.lru_cache(maxsize=1)
def _lowercase_table() -> dict[int, int]:
    return {int(k, 16): int(v, 16)
            for k, v in (item.split(":") for item in addressable_tables.LOWERCASE.split(";")
                         if item)}


def _idna_to_ascii(host: str) -> str:
    """Addressable's pure ``IDNA.to_ascii``: each label with non-ASCII letters becomes
    ``xn--`` and the punycode of its NFKC form; labels are split as Ruby splits (a trailing
    empty one is dropped)."""
    if host.isascii() or re.search(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]", host):
        return host
    lowercase = _lowercase_table()
    labels = "".join(chr(lowercase.get(ord(ch), ord(ch))) for ch in host).split(".")
    while labels and labels[-1] == "":
        labels.pop()
    return ".".join(
        label if label.isascii()
        else "xn--" + addressable_nfkc(label).encode("punycode").decode("ascii")
        for label in labels
    )


def _normalized_path(path: str, scheme: str | None) -> str:
    if scheme is None and _NORMPATH.search(path):
        path = path.replace(":", "%2F", 1)
    segments = path.strip(_RUBY_SPACE + "\x00").split("/")
    result = "/".join(normalize_component(segment, PCHAR_CHARS) for segment in segments)
    result = remove_dot_segments(result)
    if result == "" and scheme in ("http", "https", "ftp", "tftp"):
        result = "/"
    return result


_RULE_2A = re.compile(r"/\./|/\.$")
_RULE_2B_2C = re.compile(r"/([^/]*)/\.\./|/([^/]*)/\.\.$")
_RULE_2D = re.compile(r"^\.\.?/?")
_RULE_PREFIXED_PARENT = re.compile(r"^/\.\.?/|^(/\.\.?)+/?$")


def remove_dot_segments(path: str) -> str:
    """``URI.normalize_path``: RFC 3986 5.2.4 as Addressable loops it."""
    normalized = path
    while True:
        changed, normalized = _sub_changed(_RULE_2A, "/", normalized)
        pair = _RULE_2B_2C.search(normalized)
        parent = pair.group(1) if pair else None
        current = pair.group(2) if pair else None
        if not changed and pair and (
            (parent not in (".", "..")) or (current not in (".", ".."))
        ):
            pattern = re.compile(
                "/" + re.escape(parent or "") + r"/\.\./|(/" + re.escape(current or "")
                + r"/\.\.$)"
            )
            changed, normalized = _sub_changed(pattern, "/", normalized)
        if not changed:
            changed, normalized = _sub_changed(_RULE_2D, "", normalized)
        if not changed:
            changed, normalized = _sub_changed(_RULE_PREFIXED_PARENT, "/", normalized)
        if not changed:
            return normalized


def _sub_changed(pattern: re.Pattern[str], replacement: str, text: str) -> tuple[bool, str]:
    """Ruby's ``gsub!``: whether anything matched, and the result."""
    result, count = pattern.subn(replacement, text)
    return count > 0, result

"""Ruby's ``Time.parse``, as Jekyll reads a post's ``date`` (``Utils.parse_date``).

Jekyll turns every front matter ``date`` into text and hands it to ``Time.parse(text)`` with
no ``now``, then ``.localtime`` in the site's ``timezone``. ``Time.parse`` (Ruby 3.1's
lib/time.rb) asks ``Date._parse`` for the parts it can find, fills the missing ones from the
current time, applies the zone and builds a Time. ``Date._parse`` (ext/date/date_parse.c of
the date gem 3.2.2, which Ruby 3.1 ships) is a fixed series of regular expressions run over
the text, each blanking what it matched so the next ones see the rest: weekday names, a
clock time with its zone, then the first date layout that matches (``5 Jan 2020``,
``Jan 5 2020``, ``2020-01-05``, ``H31.01.05``, ``05-Jan-2020``, ``2020/01/05``,
``05.01.2020``, ISO week and ordinal dates, ``'20``, a lone month, ``5th``, digit runs such
as ``20200105T1000``), then ``BC`` and a lone number that completes the day or the hour.

The functions are named after the C and Ruby they port, and follow them line by line;
``tests/test_ruby_time.py`` compares them with the installed Ruby on thousands of strings.

Where Ruby answers but syncd deliberately does not, :class:`DateRefused` says why: a date
without a year (Ruby would take the missing parts from the day the site is built, so the
URL would move), a day the month does not have (Ruby rolls ``02-30`` into March), and an
instant outside the years 1 to 9999 that Python's datetime can hold.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import re
import unicodedata
from collections.abc import Callable
from fractions import Fraction
from typing import Any

# Date._parse refuses longer strings (its ``limit:`` keyword, 128 by default).
PARSE_LIMIT = 128


class TimeParseError(ValueError):
    """Ruby's ``Time.parse`` raises here (Jekyll stops with "Invalid date")."""


class DateRefused(ValueError):
    """Ruby reads a time here but syncd will not: ``kind`` is ``now``, ``rollover`` or
    ``range``; ``missing`` names the parts Ruby would take from the current time."""

    def __init__(self, kind: str, message: str, missing: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.kind = kind
        self.missing = missing


# Date._parse ----------------------------------------------------------------------------

_ABBR_DAYS = "sun|mon|tue|wed|thu|fri|sat"
_ABBR_MONTHS = "jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec"
_ERA = r"(c(?:e|\.e\.)|b(?:ce|\.c\.e\.)|a(?:d|\.d\.)|b(?:c|\.c\.))?"
# Onigmo's \d, \s, \w and \b are ASCII-only, as are Python's under re.ASCII; the text is
# ASCII by the time these run (see _ascii_text).
_I = re.ASCII | re.IGNORECASE
_C = re.ASCII

_SQUEEZE = re.compile(r"[^-+',./:@a-zA-Z0-9\[\]]+", _C)
_DAY = re.compile(rf"\b({_ABBR_DAYS})[^-/\d\s]*", _I)
_TIME = re.compile(
    r"((?:\d+\s*:\s*\d+(?:\s*:\s*\d+(?:[,.]\d*)?)?|\d+\s*h(?:\s*\d+m?(?:\s*\d+s?)?)?)"
    r"(?:\s*[ap](?:m\b|\.m\.))?|\d+\s*[ap](?:m\b|\.m\.))"
    r"(?:\s*((?:gmt|utc?)?[-+]\d+(?:[,.:]\d+(?::\d+)?)?"
    r"|(?-i:[a-zA-Z.\s]+)(?:standard|daylight)\stime\b"
    r"|(?-i:[a-zA-Z]+)(?:\sdst)?\b))?",
    _I,
)
_TIME_PARTS = re.compile(
    r"\A(\d+)h?(?:\s*:?\s*(\d+)m?(?:\s*:?\s*(\d+)(?:[,.](\d+))?s?)?)?(?:\s*([ap])(?:m\b|\.m\.))?",
    _I,
)
_EU = re.compile(
    rf"('?\d+)[^-\d\s]*\s*({_ABBR_MONTHS})[^-\d\s']*(?:\s*{_ERA}\s*('?-?\d+(?:(?:st|nd|rd|th)\b)?))?",
    _I,
)
_US = re.compile(
    rf"\b({_ABBR_MONTHS})[^-\d\s']*\s*('?\d+)[^-\d\s']*(?:\s*,?\s*{_ERA}\s*('?-?\d+))?", _I
)
_ISO = re.compile(r"('?[-+]?\d+)-(\d+)-('?-?\d+)", _C)
_ISO21 = re.compile(r"\b(\d{2}|\d{4})?-?w(\d{2})(?:-?(\d))?\b", _I)
_ISO22 = re.compile(r"-w-(\d)\b", _I)
_ISO23 = re.compile(r"--(\d{2})?-(\d{2})\b", _C)
_ISO24 = re.compile(r"--(\d{2})(\d{2})?\b", _C)
_ISO25_GUARD = re.compile(r"[,.](\d{2}|\d{4})-\d{3}\b", _C)
_ISO25 = re.compile(r"\b(\d{2}|\d{4})-(\d{3})\b", _C)
_ISO26_GUARD = re.compile(r"\d-\d{3}\b", _C)
_ISO26 = re.compile(r"\b-(\d{3})\b", _C)
_JIS = re.compile(r"\b([mtshr])(\d+)\.(\d+)\.(\d+)", _I)
_VMS11 = re.compile(rf"('?-?\d+)-({_ABBR_MONTHS})[^-/.]*-('?-?\d+)", _I)
_VMS12 = re.compile(rf"\b({_ABBR_MONTHS})[^-/.]*-('?-?\d+)(?:-('?-?\d+))?", _I)
_SLA = re.compile(r"('?-?\d+)/\s*('?\d+)(?:\D\s*('?-?\d+))?", _I)
_DOT = re.compile(r"('?-?\d+)\.\s*('?\d+)\.\s*('?-?\d+)", _I)
_YEAR = re.compile(r"'(\d+)\b", _C)
_MON = re.compile(rf"\b({_ABBR_MONTHS})\S*", _I)
_MDAY = re.compile(r"(\d+)(st|nd|rd|th)\b", _I)
_DDD = re.compile(
    r"([-+]?)(\d{2,14})(?:\s*t?\s*(\d{2,6})?(?:[,.](\d*))?)?"
    r"(?:\s*(z\b|[-+]\d{1,4}\b|\[[-+]?\d[^\]]*\]))?",
    _I,
)
_BC = re.compile(r"\b(bc\b|bce\b|b\.c\.|b\.c\.e\.)", _I)
_FRAG = re.compile(r"\A\s*(\d{1,2})\s*\Z", _C)
_HAS_ALPHA = re.compile(r"[A-Za-z]")
_HAS_DIGIT = re.compile(r"[0-9]")
# What the file name and a YAML date give: only parse_iso matches it, so its parts are plain.
_PLAIN_DATE = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})", _C)

# Non-ASCII characters that Onigmo's [[:alnum:]] does not hold, so Date._parse blanks them
# like any punctuation: spaces, punctuation, symbols other than So, controls and formats.
_BLANKED_CATEGORIES = frozenset(("Zs", "Zl", "Zp", "Pc", "Pd", "Ps", "Pe", "Pi", "Pf", "Po",
                                 "Sm", "Sc", "Sk", "Cc", "Cf"))

Hash = dict[str, Any]


class _Text:
    """The string Date._parse works on: each parser blanks what it matched (``subx``)."""

    def __init__(self, text: str) -> None:
        self.text = text

    def sub(self, pattern: re.Pattern[str], hash_: Hash,
            callback: Callable[[re.Match[str], Hash], None]) -> bool:
        found = pattern.search(self.text)
        if found is None:
            return False
        self.text = self.text[:found.start()] + " " + self.text[found.end():]
        callback(found, hash_)
        return True

    def has(self, kinds: str) -> bool:
        """``HAVE_ELEM_P`` on the text as it is now: ``a`` a letter, ``1`` a digit, or
        the character itself (``-``, ``.``, ``/``)."""
        for kind in kinds:
            if kind == "a":
                if _HAS_ALPHA.search(self.text) is None:
                    return False
            elif kind == "1":
                if _HAS_DIGIT.search(self.text) is None:
                    return False
            elif kind not in self.text:
                return False
        return True


def _ascii_text(text: str) -> str:
    """The text with every non-ASCII character blanked, as Date._parse's first gsub does; a
    non-ASCII letter, digit or mark (which Ruby keeps and may match case-insensitively) is
    refused rather than guessed."""
    if text.isascii():
        return text
    for ch in text:
        if not ch.isascii() and unicodedata.category(ch) not in _BLANKED_CATEGORIES:
            raise DateRefused("unicode", f"it holds {ch!r}, a non-ASCII letter, digit or "
                                         "symbol, which syncd does not read in dates")
    return "".join(ch if ch.isascii() else " " for ch in text)


def _digits(text: str) -> int:
    """``cstr2num``: an optional sign and the digits after it (``"-"`` alone is 0)."""
    found = re.match(r"[-+]?\d+", text)
    return int(found.group(0)) if found else 0


def _first(text: str, accept: Callable[[str], bool]) -> int:
    index = 0
    while index < len(text) and not accept(text[index]):
        index += 1
    return index


def _digit_span(text: str, start: int) -> int:
    end = start
    while end < len(text) and text[end].isdigit():
        end += 1
    return end


def _is_sign_or_digit(ch: str) -> bool:
    return ch in "+-" or ch.isdigit()


def s3e(hash_: Hash, y: str | None, m: str | int | None, d: str | None, bc: bool) -> None:
    """``s3e``: which of three numbers is the year, the month and the day."""
    comp: bool | None = None
    ms: str | None = m if isinstance(m, str) or m is None else str(m)
    if y is not None and ms is not None and d is None:
        y, ms, d = d, y, ms
    if y is None:
        if d is not None and len(d) > 2:
            y, d = d, None
        if d is not None and d[:1] == "'":
            y, d = d, None
    if y is not None:
        start = _first(y, _is_sign_or_digit)
        if start < len(y):
            digits_from = start + 1 if y[start] in "+-" else start
            end = _digit_span(y, digits_from)
            if end < len(y):
                number = y[start:end]
                y, d = d, number
    if ms is not None and (ms[:1] == "'" or len(ms) > 2):
        y, ms, d = ms, d, y
    if d is not None and (d[:1] == "'" or len(d) > 2):
        y, d = d, y
    if y is not None:
        start = _first(y, _is_sign_or_digit)
        if start < len(y):
            signed = y[start] in "+-"
            digits_from = start + 1 if signed else start
            end = _digit_span(y, digits_from)
            if signed or end - digits_from > 2:
                comp = False
            hash_["year"] = _digits(y[start:end])
    if bc:
        hash_["_bc"] = True
    for key, value in (("mon", ms), ("mday", d)):
        if value is not None:
            start = _first(value, str.isdigit)
            if start < len(value):
                hash_[key] = int(value[start:_digit_span(value, start)])
    if comp is not None:
        hash_["_comp"] = comp


def _mon_num(name: str) -> int:
    return _ABBR_MONTHS.split("|").index(name[:3].lower()) + 1


def _is_bc(era: str | None) -> bool:
    return era is not None and era[:1] in "Bb"


def _parse_day_cb(found: re.Match[str], hash_: Hash) -> None:
    hash_["wday"] = _ABBR_DAYS.split("|").index(found.group(1)[:3].lower())


def _parse_time_cb(found: re.Match[str], hash_: Hash) -> None:
    if found.group(2) is not None:
        hash_["zone"] = found.group(2)
    parts = _TIME_PARTS.search(found.group(1))
    if parts is None:
        return
    hour = int(parts.group(1))
    if parts.group(5) is not None:
        if hour >= 2**31:
            raise TimeParseError("integer too big to convert to `int'")  # NUM2INT
        hour %= 12
        if parts.group(5) in "Pp":
            hour += 12
    hash_["hour"] = hour
    if parts.group(2) is not None:
        hash_["min"] = int(parts.group(2))
    if parts.group(3) is not None:
        hash_["sec"] = int(parts.group(3))
    if parts.group(4) is not None:
        hash_["sec_fraction"] = Fraction(int(parts.group(4)), 10 ** len(parts.group(4)))


def _parse_eu_cb(found: re.Match[str], hash_: Hash) -> None:
    day, mon, era, year = found.groups()
    s3e(hash_, year, _mon_num(mon), day, _is_bc(era))


def _parse_us_cb(found: re.Match[str], hash_: Hash) -> None:
    mon, day, era, year = found.groups()
    s3e(hash_, year, _mon_num(mon), day, _is_bc(era))


def _parse_iso_cb(found: re.Match[str], hash_: Hash) -> None:
    year, mon, day = found.groups()
    s3e(hash_, year, mon, day, False)


def _parse_iso21_cb(found: re.Match[str], hash_: Hash) -> None:
    year, week, day = found.groups()
    if year is not None:
        hash_["cwyear"] = int(year)
    hash_["cweek"] = int(week)
    if day is not None:
        hash_["cwday"] = int(day)


def _parse_iso22_cb(found: re.Match[str], hash_: Hash) -> None:
    hash_["cwday"] = int(found.group(1))


def _parse_iso23_cb(found: re.Match[str], hash_: Hash) -> None:
    if found.group(1) is not None:
        hash_["mon"] = int(found.group(1))
    hash_["mday"] = int(found.group(2))


def _parse_iso24_cb(found: re.Match[str], hash_: Hash) -> None:
    hash_["mon"] = int(found.group(1))
    if found.group(2) is not None:
        hash_["mday"] = int(found.group(2))


def _parse_iso25_cb(found: re.Match[str], hash_: Hash) -> None:
    hash_["year"] = int(found.group(1))
    hash_["yday"] = int(found.group(2))


def _parse_iso26_cb(found: re.Match[str], hash_: Hash) -> None:
    hash_["yday"] = int(found.group(1))


_GENGO = {"m": 1867, "t": 1911, "s": 1925, "h": 1988, "r": 2018}


def _parse_jis_cb(found: re.Match[str], hash_: Hash) -> None:
    era, year, mon, day = found.groups()
    hash_["year"] = int(year) + _GENGO[era.lower()]
    hash_["mon"] = int(mon)
    hash_["mday"] = int(day)


def _parse_vms11_cb(found: re.Match[str], hash_: Hash) -> None:
    day, mon, year = found.groups()
    s3e(hash_, year, _mon_num(mon), day, False)


def _parse_vms12_cb(found: re.Match[str], hash_: Hash) -> None:
    mon, day, year = found.groups()
    s3e(hash_, year, _mon_num(mon), day, False)


def _parse_sla_cb(found: re.Match[str], hash_: Hash) -> None:
    year, mon, day = found.groups()
    s3e(hash_, year, mon, day, False)


def _parse_year_cb(found: re.Match[str], hash_: Hash) -> None:
    hash_["year"] = int(found.group(1))


def _parse_mon_cb(found: re.Match[str], hash_: Hash) -> None:
    hash_["mon"] = _mon_num(found.group(1))


def _parse_mday_cb(found: re.Match[str], hash_: Hash) -> None:
    hash_["mday"] = int(found.group(1))


def _parse_ddd_cb(found: re.Match[str], hash_: Hash) -> None:
    """``parse_ddd_cb``: a run of digits read by its length (``20200105``, ``1000``)."""
    s1, s2, s3, s4, s5 = found.groups()
    negative = s1 == "-"
    time_only = s3 is None and s4 is not None

    def n2i(start: int, width: int) -> int:
        return int(s2[start:start + width])

    def year(value: int) -> int:
        return -value if negative else value

    size = len(s2)
    if size == 2:
        hash_["sec" if time_only else "mday"] = n2i(0, 2)
    elif size == 4:
        if time_only:
            hash_["sec"], hash_["min"] = n2i(2, 2), n2i(0, 2)
        else:
            hash_["mon"], hash_["mday"] = n2i(0, 2), n2i(2, 2)
    elif size == 6:
        if time_only:
            hash_["sec"], hash_["min"], hash_["hour"] = n2i(4, 2), n2i(2, 2), n2i(0, 2)
        else:
            hash_["year"], hash_["mon"], hash_["mday"] = year(n2i(0, 2)), n2i(2, 2), n2i(4, 2)
    elif size in (8, 10, 12, 14):
        if time_only:
            hash_["sec"] = n2i(size - 2, 2)
            hash_["min"] = n2i(size - 4, 2)
            hash_["hour"] = n2i(size - 6, 2)
            hash_["mday"] = n2i(size - 8, 2)
            if size >= 10:
                hash_["mon"] = n2i(size - 10, 2)
            if size == 12:
                hash_["year"] = year(n2i(0, 2))
            if size == 14:
                hash_["year"] = year(n2i(0, 4))
                hash_["_comp"] = False
        else:
            hash_["year"], hash_["mon"], hash_["mday"] = year(n2i(0, 4)), n2i(4, 2), n2i(6, 2)
            if size >= 10:
                hash_["hour"] = n2i(8, 2)
            if size >= 12:
                hash_["min"] = n2i(10, 2)
            if size >= 14:
                hash_["sec"] = n2i(12, 2)
            hash_["_comp"] = False
    elif size == 3:
        if time_only:
            hash_["sec"], hash_["min"] = n2i(1, 2), n2i(0, 1)
        else:
            hash_["yday"] = n2i(0, 3)
    elif size == 5:
        if time_only:
            hash_["sec"], hash_["min"], hash_["hour"] = n2i(3, 2), n2i(1, 2), n2i(0, 1)
        else:
            hash_["year"], hash_["yday"] = year(n2i(0, 2)), n2i(2, 3)
    elif size == 7:
        if time_only:
            hash_["sec"], hash_["min"] = n2i(5, 2), n2i(3, 2)
            hash_["hour"], hash_["mday"] = n2i(1, 2), n2i(0, 1)
        else:
            hash_["year"], hash_["yday"] = year(n2i(0, 4)), n2i(4, 3)
    if s3 is not None:
        size3 = len(s3)
        if size3 in (2, 4, 6):
            if s4 is not None:
                hash_["sec"] = int(s3[size3 - 2:])
                if size3 >= 4:
                    hash_["min"] = int(s3[size3 - 4:size3 - 2])
                if size3 >= 6:
                    hash_["hour"] = int(s3[:2])
            else:
                hash_["hour"] = int(s3[:2])
                if size3 >= 4:
                    hash_["min"] = int(s3[2:4])
                if size3 >= 6:
                    hash_["sec"] = int(s3[4:6])
    if s4 is not None:
        hash_["sec_fraction"] = Fraction(int(s4 or "0"), 10 ** len(s4))
    if s5 is not None:
        hash_["zone"] = s5
        if s5.startswith("["):
            inner = s5[1:-1]
            hash_["zone"] = inner[inner.index(":") + 1:] if ":" in inner else inner


def _parse_bc_cb(found: re.Match[str], hash_: Hash) -> None:
    hash_["_bc"] = True


def _parse_frag_cb(found: re.Match[str], hash_: Hash) -> None:
    number = int(found.group(1))
    if "hour" in hash_ and "mday" not in hash_ and 1 <= number <= 31:
        hash_["mday"] = number
    if "mday" in hash_ and "hour" not in hash_ and 0 <= number <= 24:
        hash_["hour"] = number


def date__parse(text: str) -> Hash:
    """``Date._parse(text)`` (``comp`` true, as Time.parse asks): the parts found, by name.

    Raises :class:`TimeParseError` where Ruby raises (a string over 128 bytes).
    """
    if len(text.encode("utf-8")) > PARSE_LIMIT:
        raise TimeParseError(f"string length ({len(text.encode('utf-8'))}) exceeds the limit "
                             f"{PARSE_LIMIT}")
    plain = _PLAIN_DATE.fullmatch(text)
    if plain:
        return {"year": int(plain.group(1)), "mon": int(plain.group(2)),
                "mday": int(plain.group(3))}
    work = _Text(_SQUEEZE.sub(" ", _ascii_text(text)))
    hash_: Hash = {"_comp": True}
    if work.has("a"):
        work.sub(_DAY, hash_, _parse_day_cb)
    if work.has("1"):
        work.sub(_TIME, hash_, _parse_time_cb)
    _find_date(work, hash_)
    if work.has("a"):
        work.sub(_BC, hash_, _parse_bc_cb)
    if work.has("1"):
        work.sub(_FRAG, hash_, _parse_frag_cb)

    if hash_.pop("_bc", False):
        for key in ("cwyear", "year"):
            if key in hash_:
                hash_[key] = -hash_[key] + 1
    if hash_.pop("_comp", False):
        for key in ("cwyear", "year"):
            if key in hash_ and 0 <= hash_[key] <= 99:
                hash_[key] += 1900 if hash_[key] >= 69 else 2000
    return hash_


def _find_date(work: _Text, hash_: Hash) -> None:
    """The date layouts, in Date._parse's order; the first that matches wins. Each is tried
    only when the text left has the kinds of characters it needs (``HAVE_ELEM_P``)."""
    if work.has("a1") and (work.sub(_EU, hash_, _parse_eu_cb)
                           or work.sub(_US, hash_, _parse_us_cb)):
        return
    if work.has("1-") and work.sub(_ISO, hash_, _parse_iso_cb):
        return
    if work.has("1.") and work.sub(_JIS, hash_, _parse_jis_cb):
        return
    if work.has("a1-") and (work.sub(_VMS11, hash_, _parse_vms11_cb)
                            or work.sub(_VMS12, hash_, _parse_vms12_cb)):
        return
    if work.has("1/") and work.sub(_SLA, hash_, _parse_sla_cb):
        return
    if work.has("1.") and work.sub(_DOT, hash_, _parse_sla_cb):
        return
    if work.has("1") and _parse_iso2(work, hash_):
        return
    if work.has("1") and work.sub(_YEAR, hash_, _parse_year_cb):
        return
    if work.has("a") and work.sub(_MON, hash_, _parse_mon_cb):
        return
    if work.has("1") and work.sub(_MDAY, hash_, _parse_mday_cb):
        return
    if work.has("1"):
        work.sub(_DDD, hash_, _parse_ddd_cb)


def _parse_iso2(work: _Text, hash_: Hash) -> bool:
    if work.sub(_ISO21, hash_, _parse_iso21_cb) or work.sub(_ISO22, hash_, _parse_iso22_cb):
        return True
    if work.sub(_ISO23, hash_, _parse_iso23_cb) or work.sub(_ISO24, hash_, _parse_iso24_cb):
        return True
    if _ISO25_GUARD.search(work.text) is None and work.sub(_ISO25, hash_, _parse_iso25_cb):
        return True
    return _ISO26_GUARD.search(work.text) is None and work.sub(_ISO26, hash_, _parse_iso26_cb)


# Time.parse -----------------------------------------------------------------------------

# Time::ZoneOffset in Ruby's time.rb (hours).
ZONE_OFFSET = {
    "UTC": 0, "Z": 0, "UT": 0, "GMT": 0,
    "EST": -5, "EDT": -4, "CST": -6, "CDT": -5, "MST": -7, "MDT": -6, "PST": -8, "PDT": -7,
    "A": 1, "B": 2, "C": 3, "D": 4, "E": 5, "F": 6, "G": 7, "H": 8, "I": 9, "K": 10,
    "L": 11, "M": 12, "N": -1, "O": -2, "P": -3, "Q": -4, "R": -5, "S": -6, "T": -7,
    "U": -8, "V": -9, "W": -10, "X": -11, "Y": -12,
}  # fmt: skip

_COMMON_YEAR_DAYS = (31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)
_LEAP_YEAR_DAYS = (31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)
_MISSING_ORDER = ("year", "month", "day", "hour", "minute", "second")


def month_days(year: int, mon: int) -> int | None:
    """``Time.month_days``: Ruby indexes its table with ``mon - 1`` (so 0 is December)."""
    leap = (year % 4 == 0 and year % 100 != 0) or year % 400 == 0
    index = mon - 1
    if not -12 <= index < 12:
        return None
    return (_LEAP_YEAR_DAYS if leap else _COMMON_YEAR_DAYS)[index]


def time_parse(text: str, local_zone: dt.tzinfo,
               now: dt.datetime | None = None) -> dt.datetime:
    """``Time.parse(text).localtime`` where ``local_zone`` is Ruby's local zone.

    :class:`TimeParseError` where Ruby raises; :class:`DateRefused` where Ruby answers but
    syncd does not (no year: Ruby fills it from ``now``; a rolled-over day; out of range).
    ``now`` (default: the current time) only decides which of those two a date without a
    year gets.
    """
    parts = date__parse(text)
    year = parts.get("year")
    values = (parts.get("yday"), parts.get("mon"), parts.get("mday"), parts.get("hour"),
              parts.get("min"), parts.get("sec"), parts.get("sec_fraction"))
    zone = parts.get("zone")
    if year is None and any(value is not None for value in values):
        # Ruby takes the year, and every part before the first one written, from now.
        present = (parts.get("mon"), parts.get("mday"), parts.get("hour"), parts.get("min"),
                   parts.get("sec"))
        count = 1 + next((i for i, value in enumerate(present) if value is not None),
                         len(present))
        missing = ("year",) if parts.get("yday") is not None else _MISSING_ORDER[:count]
        # Only Ruby's own errors count here: a rolled-over day or a year out of range are
        # the current year's business, and the missing year is the reason given.
        with contextlib.suppress(DateRefused):
            _make_time(text, None, *values, zone,
                       (now or dt.datetime.now(dt.UTC)).astimezone(local_zone), local_zone,
                       roll=True)
        raise DateRefused("now", f"it has no {_listed(missing)}", missing)
    found = _make_time(text, year, *values, zone, None, local_zone)
    if found.tzinfo is local_zone:
        return found
    try:
        return found.astimezone(local_zone)
    except OverflowError:
        raise _out_of_range() from None


def _listed(names: tuple[str, ...]) -> str:
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " or " + names[-1]


def _out_of_range() -> DateRefused:
    return DateRefused("range", "it is outside the years 1 to 9999 that syncd can handle")


def _make_time(text: str, year: int | None, yday: int | None, mon: int | None,
               day: int | None, hour: int | None, minute: int | None, sec: int | None,
               fraction: Fraction | None, zone: str | None, now: dt.datetime | None,
               local_zone: dt.tzinfo, roll: bool = False) -> dt.datetime:
    """``Time.make_time``: the Time, shown in its own zone (fixed offset or local). With
    ``roll``, a day the month lacks rolls over as in Ruby (its ``yday`` search needs that)."""
    if all(v is None for v in (year, yday, mon, day, hour, minute, sec, fraction)):
        raise TimeParseError(f"no time information in {text!r}")
    off: int | None = None
    off_year: int | None = None
    if year is not None or now is not None:
        off_year = year if year is not None else now.year  # type: ignore[union-attr]
        if zone is not None:
            off = zone_offset(zone, off_year, local_zone)
    if yday is not None:
        if not 1 <= yday <= 366:
            raise TimeParseError(f"yday {yday} out of range")
        mon, day = divmod(yday - 1, 31)
        mon, day = mon + 1, day + 1
        shown = _make_time(text, year, None, mon, day, hour, minute, sec, fraction, zone, now,
                           local_zone, roll=True)
        diff = yday - shown.timetuple().tm_yday
        if diff == 0:
            return shown
        day += diff
        mday = month_days(off_year, mon) or 0  # type: ignore[arg-type]
        if day > 28 and day > mday:
            mon += 1
            if mon > 12:
                raise TimeParseError(f"yday {yday} out of range")
            day -= mday
        return _make_time(text, year, None, mon, day, hour, minute, sec, fraction, zone, now,
                          local_zone)
    # Ruby keeps the fraction exactly; a datetime holds whole microseconds (rounded down).
    usec = fraction.numerator * 1000000 // fraction.denominator if fraction is not None \
        else None
    if now is not None:
        now = now.astimezone(dt.timezone(dt.timedelta(seconds=off))) \
            if off is not None and abs(off) < 86400 else now.astimezone(local_zone)
        filled = [year, mon, day, hour, minute, sec]
        current = [now.year, now.month, now.day, now.hour, now.minute, now.second]
        for i, value in enumerate(filled):
            if value is not None:
                break
            filled[i] = current[i]
        else:
            if usec is None:
                usec = now.microsecond
        year, mon, day, hour, minute, sec = filled
    year = 1970 if year is None else year
    mon = 1 if mon is None else mon
    day = 1 if day is None else day
    hour = 0 if hour is None else hour
    minute = 0 if minute is None else minute
    sec = 0 if sec is None else sec
    usec = 0 if usec is None else usec
    if year != off_year:
        off = zone_offset(zone, year, local_zone) if zone is not None else None
    if off is None:
        return _time_local(year, mon, day, hour, minute, sec, usec, local_zone, roll)
    year, mon, day, hour, minute, sec = apply_offset(year, mon, day, hour, minute, sec, off)
    utc = _civil(year, mon, day, hour, minute, sec, usec, roll)
    return _force_zone(utc, zone, off, local_zone)  # type: ignore[arg-type]


def zone_offset(zone: str, year: int, local_zone: dt.tzinfo) -> int | None:
    """``Time.zone_offset``: seconds east of UTC, or ``None`` (the time is local time)."""
    zone = zone.upper()
    found = re.fullmatch(r"([+-])(\d\d)(:?)(\d\d)(?:\3(\d\d))?", zone, re.ASCII)
    if found:
        seconds = (int(found.group(2)) * 60 + int(found.group(4))) * 60 + int(found.group(5) or 0)
        return -seconds if found.group(1) == "-" else seconds
    if re.fullmatch(r"[+-]\d\d", zone, re.ASCII):
        return int(zone) * 3600
    if zone in ZONE_OFFSET:
        return ZONE_OFFSET[zone] * 3600
    if not 1 <= year <= 9999:
        return None
    for month in (1, 7):
        moment = dt.datetime(year, month, 1, tzinfo=local_zone)
        if (moment.tzname() or "").upper() == zone:
            offset = moment.utcoffset()
            return int(offset.total_seconds()) if offset is not None else None
    return None


def apply_offset(year: int, mon: int, day: int, hour: int, minute: int, sec: int,
                 off: int) -> tuple[int, int, int, int, int, int]:
    """``Time.apply_offset``: the wall time written with offset ``off``, as UTC fields."""
    if off < 0:
        off = -off
        off, rest = divmod(off, 60)
        if rest:
            carry, sec = divmod(sec + rest, 60)
            off += carry
        off, rest = divmod(off, 60)
        if rest:
            carry, minute = divmod(minute + rest, 60)
            off += carry
        off, rest = divmod(off, 24)
        if rest:
            carry, hour = divmod(hour + rest, 24)
            off += carry
        if off:
            day += off
            days = month_days(year, mon)
            if days is not None and days < day:
                mon += 1
                if mon > 12:
                    mon, year = 1, year + 1
                day = 1
    elif off > 0:
        off, rest = divmod(off, 60)
        if rest:
            carry, sec = divmod(sec - rest, 60)
            off -= carry
        off, rest = divmod(off, 60)
        if rest:
            carry, minute = divmod(minute - rest, 60)
            off -= carry
        off, rest = divmod(off, 24)
        if rest:
            carry, hour = divmod(hour - rest, 24)
            off -= carry
        if off:
            day -= off
            if day < 1:
                mon -= 1
                if mon < 1:
                    year, mon = year - 1, 12
                day = month_days(year, mon) or 0
    return year, mon, day, hour, minute, sec


def _civil(year: int, mon: int, day: int, hour: int, minute: int, sec: int,
           usec: int, roll: bool = False) -> dt.datetime:
    """The arguments of ``Time.utc``/``Time.local`` as a wall time: Ruby's range checks,
    ``24:00`` and a leap second ``:60`` carried forward; a day the month lacks refused."""
    if 1 <= year <= 9999 and 1 <= mon <= 12 and 1 <= day <= 28 and 0 <= hour < 24 \
            and 0 <= minute < 60 and 0 <= sec < 60:
        return dt.datetime(year, mon, day, hour, minute, sec, usec)  # the common case
    checks = (("mon", 1 <= mon <= 12), ("mday", 1 <= day <= 31), ("hour", 0 <= hour <= 24),
              ("min", 0 <= minute <= 59 and not (hour == 24 and minute)),
              ("sec", 0 <= sec <= 60 and not (hour == 24 and sec)))
    for name, ok in checks:
        if not ok:
            raise TimeParseError(f"{name} out of range")
    if not 1 <= year <= 9999:
        raise _out_of_range()
    if day > (month_days(year, mon) or 31) and not roll:
        raise DateRefused("rollover", f"{year:04d}-{mon:02d} has no day {day}; Ruby would "
                                      "roll it over into the next month")
    try:
        start = dt.datetime(year, mon, 1, hour % 24, minute)
        return start + dt.timedelta(days=day - 1 + hour // 24, seconds=sec,
                                    microseconds=usec)
    except OverflowError:
        raise _out_of_range() from None


def _time_local(year: int, mon: int, day: int, hour: int, minute: int, sec: int,
                usec: int, local_zone: dt.tzinfo, roll: bool = False) -> dt.datetime:
    try:
        return local_time(_civil(year, mon, day, hour, minute, sec, usec, roll), local_zone)
    except OverflowError:
        raise _out_of_range() from None


def _force_zone(utc: dt.datetime, zone: str, off: int, local_zone: dt.tzinfo) -> dt.datetime:
    """``Time.force_zone!``: the local zone when it has this offset then, else the offset
    itself (Ruby refuses one of a day or more)."""
    try:
        instant = utc.replace(tzinfo=dt.UTC)
        if re.fullmatch(r"-00:00|-0000|-00|UTC|Z|UT", zone, re.IGNORECASE):
            return instant
        local = instant.astimezone(local_zone)
        if local.utcoffset() == dt.timedelta(seconds=off):
            return local
        if abs(off) >= 86400:
            raise TimeParseError("utc_offset out of range")
        return instant.astimezone(dt.timezone(dt.timedelta(seconds=off)))
    except OverflowError:
        raise _out_of_range() from None


def local_time(naive: dt.datetime, zone: dt.tzinfo) -> dt.datetime:
    """``Time.local``: a wall time in a DST gap moves forward; an ambiguous one (the hour
    repeated in autumn) is read as the later, standard-time one, as Ruby does."""
    earlier = naive.replace(tzinfo=zone)
    later = naive.replace(tzinfo=zone, fold=1)
    if earlier.utcoffset() == later.utcoffset():
        return earlier  # neither in a gap nor repeated: the common case
    if later.astimezone(dt.UTC).astimezone(zone).replace(tzinfo=None) == naive:
        return later.astimezone(dt.UTC).astimezone(zone)
    return naive.replace(tzinfo=zone, fold=0).astimezone(dt.UTC).astimezone(zone)

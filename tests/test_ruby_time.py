"""syncd reads a front matter ``date`` as Jekyll does: ``Time.parse(date).localtime``.

Differential: a seeded generator writes thousands of date strings in the forms blogs use
(and garbage near them); ONE ``ruby`` process (``tests/oracles/time_parse_oracle.rb``)
answers each through the installed Jekyll's ``Utils.parse_date`` in several ``TZ`` zones,
and with ``Date._parse``'s parts. syncd's port must find the same parts and the same
instant in the same zone; where Ruby raises, syncd reports an error. syncd may refuse what
Ruby reads only for the reasons it documents, each checked against Ruby's own answer: no
year (Ruby fills it from the build day), a day the month lacks (Ruby rolls it over), a year
outside 1..9999, or a non-ASCII letter or digit.

``SYNCD_DIFF_SEED`` and ``SYNCD_DIFF_SCALE`` give other seeds and bigger runs.
"""

from __future__ import annotations

import calendar
import datetime as dt
import json
import os
import random
import shutil
import subprocess
from collections import Counter
from collections.abc import Callable
from fractions import Fraction
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from syncd.sites.ruby_time import DateRefused, TimeParseError, date__parse, time_parse

SEED = int(os.environ.get("SYNCD_DIFF_SEED", "20261202"))
SCALE = float(os.environ.get("SYNCD_DIFF_SCALE", "1"))
ORACLE = Path(__file__).parent / "oracles" / "time_parse_oracle.rb"
ZONES = ("Europe/Berlin", "America/New_York", "Asia/Kolkata")

MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August",
          "September", "October", "November", "December")
DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
ZONE_WORDS = ("UTC", "GMT", "Z", "EST", "EDT", "PST", "PDT", "CET", "CEST", "IST", "JST",
              "BST", "MSK", "AEST", "Eastern Standard Time", "Pacific Daylight Time",
              "GMT+1", "UTC-05:00", "CETX", "pst dst", "+0100", "-0800", "+05:30", "+0545",
              "-00:00", "+01", "+5", "+23:59", "+24:00", "-2400", "+99", "+01:00:30")
RFC_ZONES = ("+0100", "-0500", "GMT", "+0000", "EST", "-0000")
ISO_OFFSETS = ("+01:00", "-05:00", "+0530", "+00:00", "-03:30", "+14:00")


def _ordinal(day: int) -> str:
    suffix = "th" if 11 <= day % 100 <= 13 else {1: "st", 2: "nd", 3: "rd"}.get(day % 10, "th")
    return f"{day}{suffix}"


def _clock(rng: random.Random, when: dt.datetime) -> str:
    """A time of day as posts write it."""
    hour12 = when.hour % 12 or 12
    ampm = rng.choice(["am", "pm", "AM", "PM", "a.m.", "p.m.", " pm", " AM"])
    return rng.choice([
        f"{when:%H:%M}", f"{when:%H:%M:%S}", f"{when:%H:%M:%S}.{rng.randint(0, 999):03d}",
        f"{hour12}:{when:%M} {ampm.strip()}", f"{hour12}:{when:%M}{ampm}", f"{hour12}{ampm}",
        f"{hour12} {ampm.strip()}", f"{when.hour}h{when:%M}", f"{when:%H:%M:%S},{when:%f}",
    ])


def _zone(rng: random.Random) -> str:
    return rng.choice(ZONE_WORDS)


def _year(rng: random.Random, when: dt.datetime) -> str:
    return rng.choice([str(when.year)] * 4 + [f"{when.year % 100:02d}", f"'{when.year % 100:02d}"])


FORMS: dict[str, Callable[[random.Random, dt.datetime], str]] = {
    "month-day-year": lambda r, w: f"{MONTHS[w.month - 1]} {w.day}, {w.year}",
    "mon-day-year": lambda r, w: f"{MONTHS[w.month - 1][:3]} {w.day} {_year(r, w)}",
    "mon.-day-year": lambda r, w: f"{MONTHS[w.month - 1][:3]}. {w.day}, {w.year}",
    "day-month-year": lambda r, w: f"{w.day} {MONTHS[w.month - 1]} {w.year}",
    "day-mon-year": lambda r, w: f"{w.day:02d} {MONTHS[w.month - 1][:3]} {_year(r, w)}",
    "ordinal-month-year": lambda r, w: f"{_ordinal(w.day)} {MONTHS[w.month - 1]} {w.year}",
    "month-ordinal-year": lambda r, w: f"{MONTHS[w.month - 1]} {_ordinal(w.day)}, {w.year}",
    "month-ordinal-at": lambda r, w: (f"{MONTHS[w.month - 1][:3]} {_ordinal(w.day)}, {w.year} "
                                      f"at {_clock(r, w)}"),
    "month-day-year-time": lambda r, w: (f"{MONTHS[w.month - 1][:3]} {w.day} {w.year} "
                                         f"{_clock(r, w)}"),
    "weekday-month-day-year": lambda r, w: (f"{DAYS[w.weekday()]}, {MONTHS[w.month - 1]} "
                                            f"{w.day}, {w.year}"),
    "rfc2822": lambda r, w: (f"{DAYS[w.weekday()][:3]}, {w.day:02d} {MONTHS[w.month - 1][:3]} "
                             f"{w.year} {w:%H:%M:%S} {r.choice(RFC_ZONES)}"),
    "ctime": lambda r, w: (f"{DAYS[w.weekday()][:3]} {MONTHS[w.month - 1][:3]} {w.day:2d} "
                           f"{w:%H:%M:%S} {r.choice(['', 'UTC ', 'PST '])}{w.year}"),
    "month-year": lambda r, w: f"{MONTHS[w.month - 1]} {w.year}",
    "year-month-day-words": lambda r, w: f"{w.year} {MONTHS[w.month - 1]} {w.day}",
    "slash-ymd": lambda r, w: f"{w.year}/{w.month:02d}/{w.day:02d}",
    "slash-ymd-time": lambda r, w: f"{w.year}/{w.month}/{w.day} {_clock(r, w)}",
    "slash-mdy": lambda r, w: f"{w.month:02d}/{w.day:02d}/{_year(r, w)}",
    "slash-dmy": lambda r, w: f"{w.day}/{w.month}/{w.year}",
    "dot-dmy": lambda r, w: f"{w.day:02d}.{w.month:02d}.{_year(r, w)}",
    "dot-ymd": lambda r, w: f"{w.year}.{w.month:02d}.{w.day:02d}",
    "iso-date": lambda r, w: f"{w.year}-{w.month:02d}-{w.day:02d}",
    "iso-short": lambda r, w: f"{w.year}-{w.month}-{w.day}",
    "iso-two-digit-year": lambda r, w: f"{w.year % 100:02d}-{w.month:02d}-{w.day:02d}",
    "iso-space-time": lambda r, w: f"{w:%Y-%m-%d} {_clock(r, w)}",
    "iso-space-time-zone": lambda r, w: f"{w:%Y-%m-%d} {w:%H:%M:%S} {_zone(r)}",
    "iso-t": lambda r, w: f"{w:%Y-%m-%dT%H:%M:%S}",
    "iso-t-z": lambda r, w: f"{w:%Y-%m-%dT%H:%M:%S}Z",
    "iso-t-frac-z": lambda r, w: f"{w:%Y-%m-%dT%H:%M:%S}.{r.randint(0, 10 ** r.randint(1, 9))}Z",
    "iso-t-offset": lambda r, w: f"{w:%Y-%m-%dT%H:%M:%S}{r.choice(ISO_OFFSETS)}",
    "iso-t-minutes": lambda r, w: f"{w:%Y-%m-%dT%H:%M}{r.choice(['', 'Z', '+02:00'])}",
    "iso-basic": lambda r, w: w.strftime("%Y%m%d" + r.choice(["", "T%H%M%S", "T%H%M%SZ",
                                                              "T%H%M", " %H%M%S"])),
    "iso-ordinal": lambda r, w: f"{w.year}-{w.timetuple().tm_yday:03d}",
    "iso-week": lambda r, w: f"{w.isocalendar()[0]}-W{w.isocalendar()[1]:02d}-{w.isocalendar()[2]}",
    "vms": lambda r, w: f"{w.day:02d}-{MONTHS[w.month - 1][:3].upper()}-{w.year}",
    "mon-dash": lambda r, w: f"{MONTHS[w.month - 1][:3]}-{w.day:02d}-{w.year}",
    "jis": lambda r, w: f"{r.choice('HRS')}{r.randint(1, 40)}.{w.month:02d}.{w.day:02d}",
    "bc": lambda r, w: (f"{w.day} {MONTHS[w.month - 1][:3]} {r.randint(1, 800)} "
                        f"{r.choice(['BC', 'B.C.', 'AD', 'BCE'])}"),
    "time-only": lambda r, w: _clock(r, w),
    "month-day-only": lambda r, w: f"{MONTHS[w.month - 1]} {w.day}",
    "weekday-only": lambda r, w: r.choice(DAYS),
    "ordinal-only": lambda r, w: _ordinal(w.day),
    "words": lambda r, w: r.choice(["TBD", "today", "yesterday", "next tuesday", "now", "draft",
                                    "soon", "", " ", "true", "null", "2020", "1:30", "90"]),
    "edge": lambda r, w: r.choice([
        "9999-12-31 23:00:00 -05:00", "9999-12-31 23:59:59", "0001-01-01 00:30:00 +01:00",
        "0001-01-01", "10000-01-01", "0000-01-01", "-0001-01-01", "99999999999999-01-01",
        "2020-01-01 24:00", "2020-01-01 24:30", "2020-01-01 24:00 +01:00",
        "2020-01-01 23:59:60", "2020-01-01 23:60", "2020-01-01 25:00", "2020-02-30",
        "2021-02-29", "2020-13-01", "2020-00-10", "2020-01-00", "Jan 32, 2020", "2021-366",
        "2020-366", "2020-000", "2020-02-30 00:30 +01:00", "2020-13-01 00:30 +01:00",
        "2021-03-28 02:30", "2021-10-31 02:30", "2021-03-14 02:30", "2021-11-07 01:30",
        "12:00 am", "12:00 pm", "0 pm", "13 pm", "99999999999 pm", "2020-01-05 10",
        "20200105T1000[-5:EST]", "20200105T1000[+9]", "2020-01-05 \x01", "H31.02.30",
        "5 Jan 44 BC", "Jan 5 2020 " + "x" * 120,
    ]),
    "non-ascii": lambda r, w: r.choice([
        f"{w.year}\u2010{w.month:02d}\u201001", f"{w.day}\u00a0{MONTHS[w.month - 1]} {w.year}",
        f"{w.day} März {w.year}", f"{w:%Y-%m-%d} — updated", f"{w:%Y-%m-%d}\u200b",
        f"{w.year}年{w.month}月{w.day}日", f"{w:%Y-%m-%d} ⓐ", f"{w:%Y-%m-%d} ſt",
        f"{w:%Y-%m-%d} ٣", f"{w.day}ᵗʰ {MONTHS[w.month - 1]} {w.year}",
    ]),
}

_NOISE = list("  ,.-/:'+T@[]aApPmZ0159x\t")


def _near(rng: random.Random, text: str) -> str:
    """Garbage near a good date: a character dropped, doubled, swapped, changed or added."""
    if not text:
        return rng.choice(_NOISE)
    i = rng.randrange(len(text))
    edit = rng.randrange(5)
    if edit == 0:
        return text[:i] + text[i + 1:]
    if edit == 1:
        return text[:i] + text[i] + text[i:]
    if edit == 2 and i + 1 < len(text):
        return text[:i] + text[i + 1] + text[i] + text[i + 2:]
    if edit == 3:
        return text[:i] + rng.choice(_NOISE) + text[i + 1:]
    return text[:i] + rng.choice(_NOISE) + text[i:]


def _when(rng: random.Random) -> dt.datetime:
    day = dt.date(1995, 1, 1) + dt.timedelta(days=rng.randint(0, 12000))
    hour = rng.choice([0, 0, 1, 2, 11, 12, 12, 13, 22, 23, rng.randint(0, 23)])
    return dt.datetime(day.year, day.month, day.day, hour, rng.randint(0, 59),
                       rng.randint(0, 59), rng.randint(0, 999999))


def generate(rng: random.Random, count: int) -> list[tuple[str, str]]:
    """(form, date string) pairs: every form in turn, a quarter of them then mangled."""
    cases: list[tuple[str, str]] = []
    names = list(FORMS)
    while len(cases) < count:
        for name in names:
            text = FORMS[name](rng, _when(rng))
            if rng.random() < 0.1:
                text = text.upper() if rng.random() < 0.5 else text.lower()
            if rng.random() < 0.25:
                cases.append(("near " + name, _near(rng, text)))
            else:
                cases.append((name, text))
    return cases


def ask_ruby(dates: list[str]) -> list[dict[str, Any]]:
    if shutil.which("ruby") is None:
        pytest.skip("`ruby` is not installed (apt-get install jekyll brings it); "
                    "Jekyll's own date parsing is the oracle here")
    done = subprocess.run(["ruby", str(ORACLE)], input=json.dumps({"zones": ZONES, "dates": dates}),
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    answers = json.loads(done.stdout)
    assert len(answers) == len(dates)
    return answers


def _plain(parts: dict[str, Any]) -> dict[str, Any]:
    return {key: f"{value.numerator}/{value.denominator}" if isinstance(value, Fraction)
            else value for key, value in parts.items()}


def _time_text(value: dt.datetime) -> str:
    """As Ruby's ``strftime("%Y-%m-%dT%H:%M:%S.%6N%:z")``: %:z drops an offset's seconds."""
    offset = int((value.utcoffset() or dt.timedelta(0)).total_seconds())
    sign, minutes = ("-" if offset < 0 else "+"), abs(offset) // 60
    return (f"{value.year:04d}-{value:%m-%dT%H:%M:%S.%f}"
            f"{sign}{minutes // 60:02d}:{minutes % 60:02d}")


def _justified(refusal: DateRefused, text: str, parts: dict[str, Any], ruby_time: str) -> bool:
    """Whether Ruby's own answer bears out syncd's reason for refusing a date Ruby reads."""
    if refusal.kind == "now":
        return "year" not in parts
    if refusal.kind == "rollover":
        year, mon, day = parts.get("year"), parts.get("mon"), parts.get("mday")
        if year is None or mon is None or day is None:
            return False
        return not 1 <= mon <= 12 or not 1 <= year <= 9999 or \
            day > calendar.monthrange(year, mon)[1]
    if refusal.kind == "range":
        year = int(ruby_time[:ruby_time.index("-", 1)])
        return not 2 <= year <= 9998 or not 1 <= parts.get("year", 0) <= 9999
    return refusal.kind == "unicode" and not text.isascii()


def test_front_matter_dates_read_as_jekyll_reads_them() -> None:
    """Date._parse's parts and Time.parse's instant, in three zones, against the real Ruby."""
    rng = random.Random(SEED)
    cases = generate(rng, round(2400 * SCALE))
    answers = ask_ruby([text for _, text in cases])
    now = dt.datetime.now(dt.UTC)
    mismatches: list[tuple[Any, ...]] = []
    outcomes: Counter[str] = Counter()
    forms: set[str] = set()
    for (form, text), answer in zip(cases, answers, strict=True):
        forms.add(form.removeprefix("near "))
        try:
            ours: Any = _plain(date__parse(text))
        except TimeParseError as exc:
            ours = {"error": str(exc)}
        except DateRefused:
            ours = None
        want = {k: v for k, v in answer["parse"].items() if k != "offset"}
        if ours is not None and ("error" in ours) != ("error" in want) or \
                ours is not None and "error" not in ours and ours != want:
            mismatches.append(("Date._parse", text, want, ours))
        for zone, result in answer["zones"].items():
            try:
                got, refusal = _time_text(time_parse(text, ZoneInfo(zone), now)), None
            except TimeParseError as exc:
                got, refusal = f"error: {exc}", None
            except DateRefused as exc:
                got, refusal = None, exc
            if "error" in result:
                outcomes["both refuse"] += 1
                if got is not None and not got.startswith("error"):
                    mismatches.append((zone, text, result["error"], got))
            elif refusal is not None:
                outcomes[f"syncd refuses ({refusal.kind})"] += 1
                if not _justified(refusal, text, answer["parse"], result["ok"]):
                    mismatches.append((zone, text, result["ok"], f"refused: {refusal}"))
            else:
                outcomes["same instant"] += 1
                if got != result["ok"]:
                    mismatches.append((zone, text, result["ok"], got))
    assert not mismatches, "\n".join(repr(m) for m in mismatches[:25])
    total = sum(outcomes.values())
    print(f"{len(cases)} strings, {len(forms)} forms, {len(ZONES)} zones: "
          + ", ".join(f"{k} {v}" for k, v in sorted(outcomes.items())))
    assert len(cases) >= 2000 and len(forms) >= 40
    # The test means something only if most strings are dates Ruby reads.
    assert outcomes["same instant"] > total // 2

"""feeds.toml → typed, fully validated settings.

The whole file is checked at start-up. Every problem names the file, the key path (``feeds[3].interval``,
indexes from 0) and what is wrong, including the bad value. All problems in a file are collected and raised
as one ConfigError: its message lists them one per line, and ``.key``/``.problem`` describe the first, so a
user fixes everything in one pass.

Decisions worth knowing:

* Unknown keys and tables are errors (with a difflib "did you mean" suggestion): a typo must not silently
  fall back to a default.
* A missing ``feeds`` or ``feeds = []`` is an error (nothing to watch). Feeds that are all ``enabled = false``
  are allowed: that is a deliberate act, not a mistake.
* Secrets are never in the file: ``database_env = "VAR"`` names an environment variable holding the
  database URL. Nothing is read from the environment implicitly, and values read from it are never echoed
  in error messages.
* A relative SQLite path is relative to the directory of the configuration file, not the working directory.

A new section (``[classifier]``, ``[[channels]]``...) is one small function: open it with ``_Table.table`` or
``_Table.tables`` listing its keys, then ``read``/``require`` each key with a converter.
"""

from __future__ import annotations

import difflib
import ipaddress
import json
import math
import os
import re
import tomllib
from collections.abc import Callable, Collection, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import Decimal
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit, urlunsplit

from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError

from . import USER_AGENT
from .errors import ConfigError
from .fetch import is_public_address
from .models import ClassifierConfig, FetchLimits

__all__ = [
    "DEFAULT_DATABASE",
    "ClassifierConfig",
    "Config",
    "FeedConfig",
    "Settings",
    "describe_config",
    "format_duration",
    "format_size",
    "load_config",
    "parse_duration",
    "parse_size",
]

DEFAULT_DATABASE = "sqlite:///var/aggregator.db"
MIN_FEED_INTERVAL_S = 10.0  # polling faster than this is abuse of the publisher, never a real need

T = TypeVar("T")


# --- the typed result --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class FeedConfig:
    name: str
    url: str
    interval_s: float  # resolved: the feed's interval or settings.poll_interval_s
    enabled: bool = True


@dataclass(frozen=True, slots=True)
class Settings:
    database: str  # SQLAlchemy URL, resolved (relative SQLite paths anchored at the config file)
    poll_interval_s: float = 900.0
    allow_private_networks: bool = False
    fetch_timeout_s: float = 30.0
    connect_timeout_s: float = 10.0
    max_feed_bytes: int = 10 * 1024 * 1024
    workers: int = 16  # concurrent fetches
    per_host: int = 4  # concurrent fetches to one host
    item_retention_s: float | None = 90 * 86400  # None = keep for ever
    fetch_log_retention_s: float = 30 * 86400
    user_agent: str = USER_AGENT
    templates: Path | None = None  # a directory of templates overriding the shipped ones (by file name)
    http: str | None = None  # "127.0.0.1:8089": the daemon serves /healthz and /metrics there
    alert_retention_s: float | None = 90 * 86400  # sent alerts older than this are pruned (None: never)
    corroborate_weak: bool = True  # a weakly read new event alerts once a second outlet reports it

    def fetch_limits(self) -> FetchLimits:
        """The limits the fetch stage takes, from these settings."""
        return FetchLimits(
            timeout_s=self.fetch_timeout_s,
            connect_timeout_s=self.connect_timeout_s,
            max_bytes=self.max_feed_bytes,
            allow_private_networks=self.allow_private_networks,
            user_agent=self.user_agent,
        )


CHANNEL_TYPES = ("webhook", "slack", "discord", "teams", "mattermost", "email")
CHANNEL_MODES = ("immediate", "digest")
EMAIL_SECURITY = ("starttls", "ssl", "none")
ALERT_EVENT_TYPES = ("NEW_ROUND", "EXCHANGE", "DEADLINE")


@dataclass(frozen=True, slots=True)
class EmailConfig:
    smtp_host: str
    smtp_port: int
    security: str  # starttls | ssl | none
    sender: str
    recipients: tuple[str, ...]
    username: str | None = None
    password: str | None = field(default=None, repr=False)


@dataclass(frozen=True, slots=True)
class ChannelConfig:
    """Where alerts go. Secrets (URLs with tokens, signing secrets, passwords) come from the environment."""

    name: str
    type: str  # one of CHANNEL_TYPES
    events: tuple[str, ...] = ALERT_EVENT_TYPES
    mode: str = "immediate"  # immediate | digest
    url: str | None = field(default=None, repr=False)  # webhook targets; holds a token: never logged
    secret: str | None = field(default=None, repr=False)  # generic webhook: Standard Webhooks signing
    schedule: str | None = None  # digest: a crontab line ("0 7 * * *")
    timezone: str = "UTC"  # digest: the schedule's and the digest's time zone
    confirm: int = 1  # alert once this many independent outlets report the event
    max_attempts: int = 12  # then the alert is dead (visible, replayable)
    send_empty: bool = False  # digest: send even when nothing happened
    email: EmailConfig | None = None
    enabled: bool = True


@dataclass(frozen=True, slots=True)
class Config:
    path: Path  # absolute, so a later reload does not depend on the working directory
    settings: Settings
    feeds: tuple[FeedConfig, ...]
    classifier: ClassifierConfig = field(default_factory=ClassifierConfig)
    channels: tuple[ChannelConfig, ...] = ()
    warnings: tuple[str, ...] = ()  # not errors, but worth a line on stderr ("url holds a secret")

    def channel(self, name: str) -> ChannelConfig:
        """The channel called ``name``; a ConfigError naming it when there is none."""
        for channel in self.channels:
            if channel.name == name:
                return channel
        problem = f"no channel named {_quote(name)}" + _suggestion(name, [c.name for c in self.channels])
        raise ConfigError(str(self.path), "channels", problem)

    def feed(self, name: str) -> FeedConfig:
        """The feed called ``name``; a ConfigError (not KeyError) naming it when there is none."""
        for feed in self.feeds:
            if feed.name == name:
                return feed
        problem = f"no feed named {_quote(name)}" + _suggestion(name, [feed.name for feed in self.feeds])
        raise ConfigError(str(self.path), "feeds", problem)


# --- durations and sizes -----------------------------------------------------------------------------

DURATION_EXAMPLES = "use 30s, 15m, 2h"
_DURATION_UNITS = {"w": 7 * 86400, "d": 86400, "h": 3600, "m": 60, "s": 1}  # largest first
_FORMAT_UNITS = ("d", "h", "m", "s")  # weeks read worse than days in "90d"
_DURATION_PART = re.compile(r"\s*(\d+(?:\.\d+)?)\s*([A-Za-z]*)")
_PLAIN_NUMBER = re.compile(r"\d+(?:\.\d+)?")


def parse_duration(text: str) -> float:
    """Seconds in ``text``: "30s", "15m", "2h", "1d", "2w", "1h30m", "1.5h". A bare number is an error.

    Units go from largest to smallest, each at most once, so "30m1h" (likely a typo) is refused.
    Raises ValueError with a message that quotes ``text``.
    """
    cleaned = text.strip()
    if _PLAIN_NUMBER.fullmatch(cleaned):
        raise ValueError(f"{_quote(text)} needs a unit ({DURATION_EXAMPLES})")
    if not cleaned:
        raise ValueError(f"{_quote(text)} is not a duration ({DURATION_EXAMPLES})")
    total = Decimal(0)  # exact sum, rounded once: keeps parse(format(x)) == x
    position, previous_rank = 0, -1
    units = list(_DURATION_UNITS)
    while position < len(cleaned):
        match = _DURATION_PART.match(cleaned, position)
        if match is None:
            raise ValueError(f"{_quote(text)} is not a duration ({DURATION_EXAMPLES})")
        number, unit = match.groups()
        if unit not in _DURATION_UNITS:
            raise ValueError(f"{_quote(text)} is not a duration ({DURATION_EXAMPLES})")
        rank = units.index(unit)
        if rank <= previous_rank:
            raise ValueError(f"{_quote(text)} is not a duration (units largest first, each once: 1h30m)")
        total += Decimal(number) * _DURATION_UNITS[unit]
        position, previous_rank = match.end(), rank
    return float(total)


def format_duration(seconds: float) -> str:
    """The shortest readable form: 900 → "15m", 5400 → "1h30m", 0.5 → "0.5s". Inverse of parse_duration."""
    if not math.isfinite(seconds) or seconds < 0:
        raise ValueError(f"cannot format {seconds!r} as a duration")
    if seconds != int(seconds):
        return f"{Decimal(repr(float(seconds))):f}s"  # repr round-trips; :f avoids "1e-05"
    remaining = int(seconds)
    parts = []
    for unit in _FORMAT_UNITS:
        count, remaining = divmod(remaining, _DURATION_UNITS[unit])
        if count:
            parts.append(f"{count}{unit}")
    return "".join(parts) or "0s"


SIZE_EXAMPLES = "use 500KB, 10MiB, 1GiB or a number of bytes"
_SIZE_UNITS = {
    "": 1, "b": 1,
    "kb": 1000, "mb": 1000**2, "gb": 1000**3,
    "kib": 1024, "mib": 1024**2, "gib": 1024**3,
}  # fmt: skip
_SIZE = re.compile(r"(\d+(?:\.\d+)?)\s*([A-Za-z]*)")
_FORMAT_SIZE_UNITS = (("GiB", 1024**3), ("MiB", 1024**2), ("KiB", 1024), ("GB", 1000**3), ("MB", 1000**2),
                      ("KB", 1000))  # fmt: skip


def parse_size(text: str) -> int:
    """Bytes in ``text``: "10MiB", "500KB", "1GiB", "2048". Units are case-insensitive; KB = 1000, KiB = 1024.

    Raises ValueError with a message that quotes ``text``.
    """
    match = _SIZE.fullmatch(text.strip())
    if match is None or match.group(2).lower() not in _SIZE_UNITS:
        raise ValueError(f"{_quote(text)} is not a size ({SIZE_EXAMPLES})")
    number, unit = match.groups()
    size = Decimal(number) * _SIZE_UNITS[unit.lower()]
    if size != size.to_integral_value():
        raise ValueError(f"{_quote(text)} is not a whole number of bytes")
    return int(size)


def format_size(size: int) -> str:
    """The shortest exact form: 10485760 → "10MiB", 500000 → "500KB", 2049 → "2049B"."""
    if size < 0:
        raise ValueError(f"cannot format {size!r} as a size")
    for unit, factor in _FORMAT_SIZE_UNITS:
        if size and size % factor == 0:
            return f"{size // factor}{unit}"
    return f"{size}B"


# --- problems and values -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Problem:
    key: str
    text: str


class _Invalid(Exception):
    """Raised by a converter: the value is wrong; the message says how, quoting the value."""


class _Missing:
    """Marks a key that is absent (distinct from any TOML value)."""


_MISSING = _Missing()


def _quote(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)


def _show(value: object) -> str:
    """A value as the user wrote it in TOML, or what kind of thing it is when it is not a scalar."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return _quote(value)
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, datetime | date | time):
        return f"a date/time ({value.isoformat()})"
    return repr(value)


def _suggestion(word: str, choices: Collection[str]) -> str:
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f" (did you mean {close[0]}?)" if close else ""


def _expected(kind: str, value: object) -> _Invalid:
    return _Invalid(f"expected {kind}, got {_show(value)}")


# --- converters: raw TOML value → typed value, or _Invalid -------------------------------------------


def _boolean(value: object) -> bool:
    if not isinstance(value, bool):
        raise _expected("true or false", value)
    return value


def _integer(low: int, high: int) -> Callable[[object], int]:
    def convert(value: object) -> int:
        # TOML true is a Python int; it must not pass as 1
        if isinstance(value, bool) or not isinstance(value, int):
            raise _expected("an integer", value)
        if not low <= value <= high:
            raise _Invalid(f"{value} is out of range ({low} to {high})")
        return value

    return convert


def _duration(minimum: float = 0.0) -> Callable[[object], float]:
    """A duration string above zero and at least ``minimum`` seconds."""

    def convert(value: object) -> float:
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            raise _expected(f"a duration ({DURATION_EXAMPLES})", value)
        if not isinstance(value, str):
            raise _Invalid(f"{_show(value)} needs a unit: write it as a string ({DURATION_EXAMPLES})")
        try:
            seconds = parse_duration(value)
        except ValueError as error:
            raise _Invalid(str(error)) from None
        if seconds <= 0:
            raise _Invalid(f"{_show(value)} must be longer than zero")
        if seconds < minimum:
            raise _Invalid(f"{_show(value)} is shorter than the minimum of {format_duration(minimum)}")
        return seconds

    return convert


def _retention(value: object) -> float | None:
    """A duration, or "forever" (None: never prune)."""
    if value == "forever":
        return None
    if isinstance(value, str):
        try:
            parse_duration(value)
        except ValueError:
            raise _Invalid(f'{_show(value)} is not a duration or "forever" (use 90d, 12w)') from None
    return _duration()(value)


def _size(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise _expected(f"a size ({SIZE_EXAMPLES})", value)
    try:
        size = value if isinstance(value, int) else parse_size(value)
    except ValueError as error:
        raise _Invalid(str(error)) from None
    if size <= 0:
        raise _Invalid(f"{_show(value)} must be more than zero bytes")
    return size


def _has_control_characters(text: str) -> bool:
    return any(ord(character) < 0x20 or ord(character) == 0x7F for character in text)


def _text(value: object) -> str:
    """A non-empty single-line string (it may end up in an HTTP header or a log line)."""
    if not isinstance(value, str):
        raise _expected("a string", value)
    if not value.strip():
        raise _Invalid("must not be empty")
    if _has_control_characters(value):
        raise _Invalid(f"{_quote(value)} contains a control character (newline, tab...)")
    return value


def _user_agent(value: object) -> str:
    agent = _text(value)
    if not agent.isascii():  # HTTP header values are ASCII in practice; requests would fail on every fetch
        raise _Invalid(f"{_quote(agent)} contains non-ASCII characters")
    return agent


def _feed_name(value: object) -> str:
    name = _text(value)
    if name != name.strip():
        raise _Invalid(f"{_quote(name)} has leading or trailing spaces")
    return name


def _feed_url(value: object) -> str:
    url = _text(value)
    if any(character.isspace() for character in url):
        raise _Invalid(f"{_quote(url)} contains spaces (percent-encode them as %20)")
    try:
        parts = urlsplit(url)
        _ = parts.port  # raises ValueError on a port that is not a number in range
    except ValueError:
        raise _Invalid(f"{_quote(url)} is not a valid URL") from None
    if parts.scheme.lower() not in ("http", "https"):
        raise _Invalid(f"{_quote(url)} is not an http or https URL")
    if not parts.hostname:
        raise _Invalid(f"{_quote(url)} has no host")
    return url


_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def _env_name(value: object) -> str:
    if not isinstance(value, str):
        raise _expected("the name of an environment variable", value)
    if not _ENV_NAME.fullmatch(value):
        raise _Invalid(f"{_quote(value)} is not an environment variable name")
    return value


# --- the reusable table reader -----------------------------------------------------------------------


@dataclass(slots=True)
class _Table:
    """One TOML table with a known set of keys.

    Readers record problems (with the key path) instead of raising and fall back to a default, so validation
    carries on and every problem in the file is found in one pass.
    """

    problems: list[_Problem]
    path: str  # "" for the document, "settings", "feeds[2]"
    raw: Mapping[str, Any]
    keys: frozenset[str] = field(default_factory=frozenset)

    @classmethod
    def open(
        cls, problems: list[_Problem], path: str, raw: Mapping[str, Any], keys: Collection[str]
    ) -> _Table:
        """Wrap ``raw``, reporting at once every key not in ``keys`` (typos come first in the report)."""
        table = cls(problems, path, raw, frozenset(keys))
        table._report_unknown_keys(keys)
        return table

    def key_path(self, key: str) -> str:
        return f"{self.path}.{key}" if self.path else key

    def problem(self, key: str | None, text: str) -> None:
        self.problems.append(_Problem(self.key_path(key) if key else self.path, text))

    def has(self, key: str) -> bool:
        return key in self.raw

    def read(self, key: str, convert: Callable[[object], T], default: T) -> T:
        """The converted value of ``key``, or ``default`` when it is absent or wrong (wrong is recorded)."""
        assert key in self.keys, f"{key} is not declared for {self.path or 'the document'}"
        value = self.raw.get(key, _MISSING)
        if value is _MISSING:
            return default
        try:
            return convert(value)
        except _Invalid as error:
            self.problem(key, str(error))
            return default

    def require(self, key: str, convert: Callable[[object], T]) -> T | None:
        """Like ``read``, but a missing key is a problem. None when missing or wrong."""
        if key not in self.raw:
            self.problem(key, "missing (required)")
            return None
        return self.read(key, convert, None)

    def from_env(self, key: str, env: Mapping[str, str]) -> str | None:
        """The value of the environment variable that ``<key>_env`` names (never echoed in messages)."""
        env_key = f"{key}_env"
        variable = self.read(env_key, _env_name, None)
        if variable is None:
            return None
        value = env.get(variable)
        if value is None:
            self.problem(env_key, f"environment variable {variable} is not set")
        elif not value.strip():
            self.problem(env_key, f"environment variable {variable} is empty")
        else:
            return value
        return None

    def table(self, key: str, keys: Collection[str]) -> _Table:
        """The sub-table ``key`` (empty when absent; recorded and empty when it is not a table)."""
        value = self.raw.get(key, {})
        if not isinstance(value, dict):
            self.problem(key, f"expected a table ([{self.key_path(key)}]), got {_show(value)}")
            value = {}
        return _Table.open(self.problems, self.key_path(key), value, keys)

    def tables(self, key: str, keys: Collection[str]) -> Iterator[_Table]:
        """Each table of the array ``key`` (``[[key]]``), opened as it is reached so its problems stay
        together; nothing when absent. Elements that are not tables are recorded and skipped."""
        value = self.raw.get(key, [])
        if not isinstance(value, list):
            self.problem(key, f"expected an array of tables ([[{self.key_path(key)}]]), got {_show(value)}")
            return
        for index, element in enumerate(value):
            element_path = f"{self.key_path(key)}[{index}]"
            if isinstance(element, dict):
                yield _Table.open(self.problems, element_path, element, keys)
            else:
                self.problems.append(_Problem(element_path, f"expected a table, got {_show(element)}"))

    def _report_unknown_keys(self, known: Collection[str]) -> None:
        for key, value in self.raw.items():
            if key in known:
                continue
            kind = "table" if isinstance(value, dict) or _is_array_of_tables(value) else "key"
            self.problem(key, f"unknown {kind}" + _suggestion(key, known))


def _is_array_of_tables(value: object) -> bool:
    return isinstance(value, list) and bool(value) and all(isinstance(element, dict) for element in value)


# --- sections ----------------------------------------------------------------------------------------

_TOP_LEVEL_KEYS = ("settings", "feeds", "classifier", "channels")
_SETTINGS_KEYS = (
    "database", "database_env", "poll_interval", "allow_private_networks", "fetch_timeout", "connect_timeout",
    "max_feed_size", "workers", "per_host", "item_retention", "fetch_log_retention", "user_agent",
    "templates", "http", "alert_retention", "corroborate_weak",
)  # fmt: skip
_FEED_KEYS = ("name", "url", "interval", "enabled")


def _read_settings(table: _Table, env: Mapping[str, str], config_dir: Path) -> Settings:
    defaults = Settings(database=DEFAULT_DATABASE)
    return Settings(
        database=_read_database(table, env, config_dir),
        poll_interval_s=table.read("poll_interval", _duration(MIN_FEED_INTERVAL_S), defaults.poll_interval_s),
        allow_private_networks=table.read(
            "allow_private_networks", _boolean, defaults.allow_private_networks
        ),
        fetch_timeout_s=table.read("fetch_timeout", _duration(), defaults.fetch_timeout_s),
        connect_timeout_s=table.read("connect_timeout", _duration(), defaults.connect_timeout_s),
        max_feed_bytes=table.read("max_feed_size", _size, defaults.max_feed_bytes),
        workers=table.read("workers", _integer(1, 256), defaults.workers),
        per_host=table.read("per_host", _integer(1, 64), defaults.per_host),
        item_retention_s=table.read("item_retention", _retention, defaults.item_retention_s),
        fetch_log_retention_s=table.read("fetch_log_retention", _duration(), defaults.fetch_log_retention_s),
        user_agent=table.read("user_agent", _user_agent, defaults.user_agent),
        templates=_read_templates(table, config_dir),
        http=table.read("http", _listen_address, None),
        alert_retention_s=table.read("alert_retention", _retention, defaults.alert_retention_s),
        corroborate_weak=table.read("corroborate_weak", _boolean, defaults.corroborate_weak),
    )


def _listen_address(value: object) -> str:
    """host:port for the daemon's health and metrics listener; the host must be given (no wildcard by
    accident: binding 0.0.0.0 has to be written out)."""
    text = _text(value)
    host, _, port = text.rpartition(":")
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise _Invalid(f"{_quote(text)} is not host:port (like 127.0.0.1:8089)")
    return text


def _read_templates(table: _Table, config_dir: Path) -> Path | None:
    name = table.read("templates", _text, None)
    if name is None:
        return None
    directory = config_dir / name
    if not directory.is_dir():
        table.problem("templates", f"{_quote(name)} is not a directory (relative to the configuration file)")
        return None
    return directory


def _read_database(table: _Table, env: Mapping[str, str], config_dir: Path) -> str:
    if table.has("database") and table.has("database_env"):
        table.problem("database_env", "set either database or database_env, not both")
        return DEFAULT_DATABASE
    if table.has("database_env"):
        url = table.from_env("database", env)
        if url is None:
            return DEFAULT_DATABASE
        shown = f"the value of {table.raw['database_env']}"
        return _checked_database(table, "database_env", url, shown=shown, config_dir=config_dir)
    url = table.read("database", _text, DEFAULT_DATABASE)
    return _checked_database(table, "database", url, shown=None, config_dir=config_dir)


def _checked_database(table: _Table, key: str, url_text: str, *, shown: str | None, config_dir: Path) -> str:
    """The URL with a relative SQLite path anchored at ``config_dir``; problems quote ``shown`` (or the
    password-redacted URL) so a secret never reaches a log."""
    try:
        url = make_url(url_text)
    except ArgumentError:
        table.problem(key, f"{shown or _quote(url_text)} is not a database URL (e.g. {DEFAULT_DATABASE})")
        return DEFAULT_DATABASE
    try:
        url.get_dialect()
    except NoSuchModuleError:
        what = shown or _quote(url.render_as_string(hide_password=True))
        table.problem(key, f"{what}: unknown database type {_quote(url.drivername)}")
        return DEFAULT_DATABASE
    return _anchor_sqlite_path(url, config_dir) or url_text  # other URLs exactly as written


def _anchor_sqlite_path(url: URL, config_dir: Path) -> str | None:
    """The URL with its relative SQLite file made absolute; None when there is nothing to change."""
    database = url.database
    if url.get_backend_name() != "sqlite" or not database or database == ":memory:":
        return None
    if database.startswith("file:") or os.path.isabs(database):  # file: is SQLite's own URI form
        return None
    return url.set(database=str(config_dir / database)).render_as_string(hide_password=False)


_NO_FEEDS = "no feeds configured: nothing to watch (add a [[feeds]] table with name and url)"


def _read_feeds(top: _Table, poll_interval_s: float) -> tuple[FeedConfig, ...]:
    if top.raw.get("feeds", []) == []:  # absent or "feeds = []": a daemon watching nothing is a mistake
        top.problem("feeds", _NO_FEEDS)
        return ()
    seen: dict[str, str] = {}  # case-folded name → key path of its first use
    feeds = (_read_feed(table, poll_interval_s, seen) for table in top.tables("feeds", _FEED_KEYS))
    return tuple(feed for feed in feeds if feed is not None)


def _read_feed(table: _Table, poll_interval_s: float, seen: dict[str, str]) -> FeedConfig | None:
    name = table.require("name", _feed_name)
    if name is not None:
        # names identify feeds in the database and on the command line: "BBC" and "bbc" would be confused
        first_use = seen.setdefault(name.casefold(), table.path)
        if first_use != table.path:
            table.problem("name", f"{_quote(name)} is already the name of {first_use}")
    url = table.require("url", _feed_url)
    interval_s = table.read("interval", _duration(MIN_FEED_INTERVAL_S), poll_interval_s)
    enabled = table.read("enabled", _boolean, True)
    if name is None or url is None:
        return None
    return FeedConfig(name=name, url=url, interval_s=interval_s, enabled=enabled)


_CLASSIFIER_KEYS = ("rules", "threshold", "terms")
_TERM_KEYS = ("name", "concept", "terms", "pattern", "weight", "mask", "value", "place")


def _threshold(value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _expected("a number between 0 and 1", value)
    if not 0 < value < 1:
        raise _Invalid(f"{_show(value)} must be between 0 and 1 (exclusive)")
    return float(value)


def _read_classifier(table: _Table, config_dir: Path, shown: str) -> ClassifierConfig:
    """[classifier]: ``rules`` (a rules file relative to the config, replacing the packaged set),
    ``threshold``, and ``[[classifier.terms]]`` inline rules. The resulting rule set is compiled here, so a
    bad rule is reported with the rest of the configuration."""
    rules = table.read("rules", _text, None)
    rules_path = None if rules is None else config_dir / rules
    threshold = table.read("threshold", _threshold, None)
    terms = tuple(dict(term.raw) for term in table.tables("terms", _TERM_KEYS))
    classifier = ClassifierConfig(rules_path=rules_path, threshold=threshold, terms=terms)
    if table.raw and not table.problems:
        try:
            classifier.load_rules(shown)
        except ConfigError as error:
            if error.file == shown:  # an inline rule: the error names it
                table.problems.append(_Problem(error.key, error.problem))
            else:  # the rules file: name it and the rule inside it
                where = f"{error.file}: {error.key}: " if error.key else f"{error.file}: "
                table.problems.append(_Problem("classifier.rules", where + error.problem))
    return classifier


_CHANNEL_KEYS = (
    "name", "type", "events", "mode", "url", "url_env", "secret_env", "schedule", "timezone", "confirm",
    "max_attempts", "send_empty", "enabled", "smtp_host", "smtp_port", "security", "username", "password_env",
    "from", "to",
)  # fmt: skip
_WEBHOOK_ONLY = ("url", "url_env", "secret_env")
_EMAIL_ONLY = ("smtp_host", "smtp_port", "security", "username", "password_env", "from", "to")
_EMAIL_ADDRESS = re.compile(r"[^@\s<>,;\"]+@[^@\s<>,;\"]+\.[^@\s<>,;\"]+")


def _choice(choices: Collection[str]) -> Callable[[object], str]:
    def convert(value: object) -> str:
        if not isinstance(value, str):
            raise _expected(f"one of {', '.join(choices)}", value)
        if value not in choices:
            raise _Invalid(
                f"{_quote(value)} is not one of {', '.join(choices)}" + _suggestion(value, choices)
            )
        return value

    return convert


def _event_types(value: object) -> tuple[str, ...]:
    if not isinstance(value, list) or not value:
        raise _expected(f"a non-empty list of {', '.join(ALERT_EVENT_TYPES)}", value)
    for kind in value:
        if kind not in ALERT_EVENT_TYPES:
            shown = _show(kind)
            hint = _suggestion(kind, ALERT_EVENT_TYPES) if isinstance(kind, str) else ""
            raise _Invalid(f"{shown} is not one of {', '.join(ALERT_EVENT_TYPES)}{hint}")
    return tuple(dict.fromkeys(value))


def _email_address(value: object) -> str:
    address = _text(value)
    if not _EMAIL_ADDRESS.fullmatch(address):
        raise _Invalid(f"{_quote(address)} is not an e-mail address (name@example.org)")
    return address


def _email_addresses(value: object) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not value:
        raise _expected("a list of e-mail addresses", value)
    return tuple(_email_address(address) for address in value)


def _host(value: object) -> str:
    host = _text(value)
    if any(character.isspace() or character in "/:@" for character in host.strip("[]")):
        raise _Invalid(f"{_quote(host)} is not a host name or address")
    return host


def _crontab(value: object) -> str:
    from apscheduler.triggers.cron import CronTrigger  # only digest channels need the scheduler here

    text = _text(value)
    try:
        CronTrigger.from_crontab(text, timezone="UTC")
    except ValueError as error:
        raise _Invalid(f'{_quote(text)} is not a crontab schedule (like "0 7 * * *"): {error}') from None
    return text


def _timezone(value: object) -> str:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    name = _text(value)
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise _Invalid(f"{_quote(name)} is not a time zone name (like Europe/Kyiv or UTC)") from None
    return name


def _webhook_url(allow_private: bool) -> Callable[[object], str]:
    def convert(value: object) -> str:
        url = _feed_url(value)
        host = urlsplit(url).hostname or ""
        try:
            address = ipaddress.ip_address(host.strip("[]"))
        except ValueError:
            return url  # a name: its addresses are checked when connecting, on every delivery
        if not allow_private and not is_public_address(address):
            raise _Invalid(
                "points at a private, loopback or reserved address "
                "(allowed only with [settings] allow_private_networks = true)"
            )
        return url

    return convert


def _read_channels(
    top: _Table, env: Mapping[str, str], settings: Settings, warnings: list[str]
) -> tuple[ChannelConfig, ...]:
    seen: dict[str, str] = {}
    channels = []
    for table in top.tables("channels", _CHANNEL_KEYS):
        channel = _read_channel(table, env, settings, seen, warnings)
        if channel is not None:
            channels.append(channel)
    return tuple(channels)


def _read_channel(
    table: _Table, env: Mapping[str, str], settings: Settings, seen: dict[str, str], warnings: list[str]
) -> ChannelConfig | None:
    name = table.require("name", _feed_name)
    if name is not None:
        first_use = seen.setdefault(name.casefold(), table.path)
        if first_use != table.path:
            table.problem("name", f"{_quote(name)} is already the name of {first_use}")
    kind = table.require("type", _choice(CHANNEL_TYPES))
    defaults = ChannelConfig(name="", type="")
    events = table.read("events", _event_types, defaults.events)
    mode = table.read("mode", _choice(CHANNEL_MODES), defaults.mode)
    schedule = table.read("schedule", _crontab, None)
    zone = table.read("timezone", _timezone, defaults.timezone)
    if mode == "digest":
        if schedule is None and not table.has("schedule"):
            table.problem("schedule", 'missing: a digest channel needs a crontab schedule (like "0 7 * * *")')
        if kind not in (None, "email"):
            table.problem("mode", f"digest is an e-mail mode; a {kind} channel sends alerts immediately")
    elif table.has("schedule"):
        table.problem("schedule", 'only digest channels have a schedule (set mode = "digest")')
    confirm = table.read("confirm", _integer(1, 50), defaults.confirm)
    attempts = table.read("max_attempts", _integer(1, 100), defaults.max_attempts)
    send_empty = table.read("send_empty", _boolean, defaults.send_empty)
    enabled = table.read("enabled", _boolean, True)
    url = secret = None
    email = None
    if kind == "email":
        for key in _WEBHOOK_ONLY:
            if table.has(key):
                table.problem(key, "is for webhook channels; e-mail uses smtp_host, from and to")
        email = _read_email(table, env)
    elif kind is not None:
        for key in _EMAIL_ONLY:
            if table.has(key):
                table.problem(key, f"is for e-mail channels, not {kind}")
        url = _read_channel_url(table, env, settings, name, warnings)
        if table.has("secret_env"):
            if kind != "webhook":
                table.problem("secret_env", f"signing is for the generic webhook; {kind} does not check it")
            secret = table.from_env("secret", env)
    if (
        name is None
        or kind is None
        or (kind != "email" and url is None)
        or (kind == "email" and email is None)
    ):
        return None
    return ChannelConfig(
        name=name, type=kind, events=events, mode=mode, url=url, secret=secret, schedule=schedule,
        timezone=zone, confirm=confirm, max_attempts=attempts, send_empty=send_empty, email=email,
        enabled=enabled,
    )  # fmt: skip


def _read_channel_url(
    table: _Table, env: Mapping[str, str], settings: Settings, name: str | None, warnings: list[str]
) -> str | None:
    check = _webhook_url(settings.allow_private_networks)
    if table.has("url") and table.has("url_env"):
        table.problem("url_env", "set either url or url_env, not both")
        return None
    if table.has("url_env"):
        value = table.from_env("url", env)
        if value is None:
            return None
        try:
            return check(value)
        except _Invalid:  # the value is a secret: say what is wrong without echoing it
            table.problem("url_env", f"the value of {table.raw['url_env']} is not a usable http(s) URL")
            return None
    if not table.has("url"):
        table.problem("url", "missing: set url_env (the name of an environment variable holding the URL)")
        return None
    url = table.read("url", check, None)
    if url is not None:
        warnings.append(
            f"{table.key_path('url')}: the URL is written in the file, and webhook URLs hold a secret token; "
            "prefer url_env (channel " + _quote(name or "?") + ")"
        )
    return url


def _read_email(table: _Table, env: Mapping[str, str]) -> EmailConfig | None:
    host = table.require("smtp_host", _host)
    security = table.read("security", _choice(EMAIL_SECURITY), "starttls")
    port = table.read("smtp_port", _integer(1, 65535), 465 if security == "ssl" else 587)
    sender = table.require("from", _email_address)
    recipients = table.require("to", _email_addresses)
    username = table.read("username", _text, None)
    password = table.from_env("password", env) if table.has("password_env") else None
    if username is not None and not table.has("password_env"):
        table.problem("password_env", "missing: a username needs password_env (the variable holding it)")
    if host is None or sender is None or recipients is None:
        return None
    return EmailConfig(
        smtp_host=host, smtp_port=port, security=security, sender=sender, recipients=recipients,
        username=username, password=password,
    )  # fmt: skip


# --- loading -----------------------------------------------------------------------------------------


def load_config(path: str | Path, *, env: Mapping[str, str] | None = None) -> Config:
    """Read and validate the configuration file; ``env`` (default os.environ) resolves ``*_env`` keys.

    Raises ConfigError listing every problem, one per line (``.key`` and ``.problem`` are the first).
    """
    shown = str(path)  # errors name the file as the user gave it
    absolute = Path(os.path.abspath(path))  # lexical: a symlinked config stays where the user put it
    document = _read_document(absolute, shown)
    problems: list[_Problem] = []
    top = _Table.open(problems, "", document, _TOP_LEVEL_KEYS)
    settings = _read_settings(
        top.table("settings", _SETTINGS_KEYS), os.environ if env is None else env, absolute.parent
    )
    feeds = _read_feeds(top, settings.poll_interval_s)
    classifier = _read_classifier(top.table("classifier", _CLASSIFIER_KEYS), absolute.parent, shown)
    warnings: list[str] = []
    channels = _read_channels(top, os.environ if env is None else env, settings, warnings)
    if problems:
        raise _config_error(shown, problems)
    return Config(
        path=absolute,
        settings=settings,
        feeds=feeds,
        classifier=classifier,
        channels=channels,
        warnings=tuple(f"{shown}: {warning}" for warning in warnings),
    )


def _read_document(path: Path, shown: str) -> dict[str, Any]:
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise ConfigError(shown, "", "file not found") from None
    except IsADirectoryError:
        raise ConfigError(shown, "", "is a directory, not a file") from None
    except PermissionError:
        raise ConfigError(shown, "", "cannot read the file: permission denied") from None
    except OSError as error:
        raise ConfigError(shown, "", f"cannot read the file: {error.strerror or error}") from None
    try:
        text = data.decode("utf-8-sig")  # tolerate the BOM some editors write
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        column = error.start - (data.rfind(b"\n", 0, error.start) + 1) + 1
        raise ConfigError(shown, "", f"not UTF-8 text (bad byte at line {line}, column {column})") from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(shown, "", _describe_syntax_error(str(error))) from None


_TOML_POSITION = re.compile(r"^(?P<what>.*) \(at (?P<where>line \d+, column \d+|end of document)\)$")


def _describe_syntax_error(message: str) -> str:
    """tomllib says "Invalid value (at line 3, column 7)"; lead with the position a user looks for."""
    match = _TOML_POSITION.match(message)
    if match is None:
        return f"TOML syntax error: {message}"
    return f"TOML syntax error at {match['where']}: {match['what']}"


def _problem_line(file: str, problem: _Problem) -> str:
    return f"{file}: {problem.key}: {problem.text}" if problem.key else f"{file}: {problem.text}"


def _config_error(file: str, problems: list[_Problem]) -> ConfigError:
    first = problems[0]
    error = ConfigError(file, first.key, first.text)
    # one line per problem, each in the full "file: key: problem" shape, first line = the first problem
    error.message = "\n".join(_problem_line(file, problem) for problem in problems)
    return error


# --- summary -----------------------------------------------------------------------------------------


def _redact_url(url: str) -> str:
    """The URL with any password in it replaced by ***."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.netloc.rpartition("@")[2]
    return urlunsplit(parts._replace(netloc=f"{parts.username or ''}:***@{host}"))


def _redact_database(url: str) -> str:
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "(unparseable URL)"


def describe_config(config: Config) -> str:
    """The summary ``aggregator config check`` prints: path, database (password redacted), settings, feeds."""
    settings = config.settings
    retention = "forever" if settings.item_retention_s is None else format_duration(settings.item_retention_s)
    lines = [
        f"config: {config.path}",
        f"database: {_redact_database(settings.database)}",
        "settings:",
        f"  poll_interval = {format_duration(settings.poll_interval_s)}",
        f"  allow_private_networks = {'true' if settings.allow_private_networks else 'false'}",
        f"  fetch_timeout = {format_duration(settings.fetch_timeout_s)}",
        f"  connect_timeout = {format_duration(settings.connect_timeout_s)}",
        f"  max_feed_size = {format_size(settings.max_feed_bytes)}",
        f"  workers = {settings.workers}",
        f"  per_host = {settings.per_host}",
        f"  item_retention = {retention}",
        f"  fetch_log_retention = {format_duration(settings.fetch_log_retention_s)}",
        f"  user_agent = {settings.user_agent}",
        f"  corroborate_weak = {'true' if settings.corroborate_weak else 'false'}",
    ]
    enabled = sum(feed.enabled for feed in config.feeds)
    lines.append(f"feeds: {len(config.feeds)} ({enabled} enabled)")
    name_width = max((len(feed.name) for feed in config.feeds), default=0)
    for feed in config.feeds:
        state = "" if feed.enabled else "  (disabled)"
        every = f"every {format_duration(feed.interval_s)}"
        lines.append(f"  {feed.name:<{name_width}}  {every:<12}  {_redact_url(feed.url)}{state}")
    lines.append(f"channels: {len(config.channels)}")
    for channel in config.channels:
        lines.append("  " + _describe_channel(channel))
    return "\n".join(lines)


def _describe_channel(channel: ChannelConfig) -> str:
    """One line per channel; never a URL (it holds a token) or a secret."""
    parts = [f"{channel.name}: {channel.type}, {channel.mode}"]
    if channel.mode == "digest":
        parts.append(f"schedule {_quote(channel.schedule or '')} in {channel.timezone}")
    parts.append("events " + ", ".join(channel.events))
    if channel.confirm > 1:
        parts.append(f"after {channel.confirm} outlets")
    if channel.email is not None:
        email = channel.email
        parts.append(
            f"via {email.smtp_host}:{email.smtp_port} ({email.security}) to {', '.join(email.recipients)}"
        )
    elif channel.url:
        parts.append(f"to {urlsplit(channel.url).hostname} (URL from the environment or file, not shown)")
    if channel.secret:
        parts.append("signed")
    if not channel.enabled:
        parts.append("disabled")
    return "; ".join(parts)

"""Log lines for the daemon: `event key=value` text for people and journald, JSON for log shippers, and
never a secret in either.

Text (the default), one record per line::

    2026-05-04T09:00:00.123Z info poll feeds=17 fetched=3 errors=0 new=12 duration_s=0.68
    2026-05-04T09:00:01.004Z warning feed_error feed=meridian-wire reason=deadline error="no response in 30 s"

- The leading ISO-8601 UTC timestamp is left out when ``JOURNAL_STREAM`` is set: journald stamps each line
  itself. When stderr really is the journal's stream (its device and inode match ``JOURNAL_STREAM``), each
  line also starts with a syslog priority prefix (``<4>``), which journald strips and turns into the entry's
  priority, so ``journalctl -p warning`` works.
- A value is quoted (JSON string escapes) when it is empty or holds whitespace, a quote, ``=`` or a control
  character; ``None`` is ``null``, booleans ``true``/``false``.
- A record logged with plain ``logging`` (``log.info("fetched %s", url)``, and every library's records) has no
  event name: it is written as its logger's name with the formatted message, e.g.
  ``warning aggregator.deliver msg="alert_retry id=7 channel=desk attempt=2 ..."``.
- An exception's traceback follows its record on lines indented by two spaces (text), or is the ``exc``
  field (JSON).

JSON (``--log-format json``): one object per line, ``{"ts", "level", "event", "logger", ...fields}``; a plain
record's text is its ``msg`` field.

Secrets are removed from everything written (:func:`redact`): passwords in URLs, token-like query
parameters, the secret parts of Slack, Discord and Teams webhook addresses, bearer tokens, and the values of
fields whose names say they are secrets (``password``, ``token``, ``api_key``, ``secret``, ...).
"""

from __future__ import annotations

import json
import logging
import os
import re
import sys
from collections.abc import Mapping
from datetime import UTC, date, datetime
from enum import Enum
from typing import IO, Any, Literal

LogFormat = Literal["text", "json"]
LOG_FORMATS: tuple[LogFormat, ...] = ("text", "json")
MASK = "***"

# The LogRecord attribute carrying log_event's fields (``extra`` must not clash with LogRecord's own names).
_FIELDS_ATTRIBUTE = "aggregator_event_fields"
# Marks the handler configure_logging installed, so that calling it again replaces rather than duplicates.
_HANDLER_MARK = "aggregator_log_handler"
# APScheduler reports every job run at INFO ("Running job", "executed successfully"): with jobs every few
# seconds that drowns the log; Alembic tells a dozen lines of set-up at every start. Their warnings (a missed
# run) and errors still come through.
_CHATTY_LOGGERS = ("apscheduler", "alembic")
# journald's stream protocol: "<N>" at the start of a line sets the entry's syslog priority.
_SYSLOG_PRIORITY = {
    logging.CRITICAL: 2,
    logging.ERROR: 3,
    logging.WARNING: 4,
    logging.INFO: 6,
    logging.DEBUG: 7,
}
_JSON_RESERVED = frozenset({"ts", "level", "event", "logger"})

# --- redaction --------------------------------------------------------------------------------------

# Characters that end a URL inside free text or a rendered log line.
_URL_END = r"\s\"'<>`"

# scheme://user:PASSWORD@host — greedy up to the last "@" before the path, so a raw "@" in the password
# is masked too.
_URL_PASSWORD = re.compile(
    rf"(?P<keep>\b[a-z][a-z0-9+.-]*://[^{_URL_END}/?#@:]*:)[^{_URL_END}/?#]*(?=@)", re.I
)

# ?token=…, &api_key=…, ;sig=…, and names ending in one of those words after a separator (X-Amz-Signature,
# client_secret, refresh_token). "monkey" or "keyword" are not secrets; "sort_key" is masked, harmlessly.
_SECRET_PARAMETER_WORDS = (
    "token|key|secret|sig|signature|password|passwd|pwd|apikey|api_key|access_token|auth|credential"
)
_QUERY_SECRET = re.compile(
    rf"(?P<keep>[?&;](?:[\w.-]*[_.-])?(?:{_SECRET_PARAMETER_WORDS})=)[^&#{_URL_END}]*", re.I
)

# Webhook addresses whose path is the credential: keep the host (which service) and mask the rest.
_SLACK_HOOK = re.compile(
    rf"(?P<keep>\bhooks\.slack(?:-gov)?\.com/(?:services|workflows|triggers)/)[^?#{_URL_END}]+", re.I
)
# Discord: the numeric id says which webhook and is kept; the token after it is the secret.
_DISCORD_HOOK = re.compile(
    rf"(?P<keep>\b(?:[\w-]+\.)?discord(?:app)?\.com/api/(?:v\d+/)?webhooks/\d+/)[^/?#{_URL_END}]+", re.I
)
# Teams' Office 365 connectors (being retired, still around): the whole path is the credential. Workflows
# addresses (*.logic.azure.com, *.powerplatform.com) carry theirs in sig=, which _QUERY_SECRET masks.
_TEAMS_HOOK = re.compile(
    rf"(?P<keep>\b(?:[\w-]+\.webhook\.office\.com|outlook\.office(?:365)?\.com)/)[^?#{_URL_END}]+", re.I
)
_BEARER = re.compile(r"(?P<keep>\bBearer\s+)[\w.~+/=-]{8,}", re.I)
_SLACK_TOKEN = re.compile(r"(?P<keep>\bxox[abeoprs]-)[\w-]+")
_SIGNING_SECRET = re.compile(r"(?P<keep>\bwhsec_)[\w+/=]+")

_REDACTIONS = (
    _URL_PASSWORD,
    _QUERY_SECRET,
    _SLACK_HOOK,
    _DISCORD_HOOK,
    _TEAMS_HOOK,
    _BEARER,
    _SLACK_TOKEN,
    _SIGNING_SECRET,
)
_MASKED = r"\g<keep>" + MASK

# A field whose name says it holds a secret is masked whatever its value looks like. "password_env" (the
# name of a variable) and "key" (an idempotency key) are not secrets.
_SECRET_FIELD = re.compile(
    r"(?:^|[_-])(?:password|passwd|secret|token|api_?key|authorization|signature|credentials?)$", re.I
)


def redact(text: str) -> str:
    """``text`` with every secret this module recognises replaced by ``***`` (idempotent).

    >>> redact("https://bot:hunter2@feeds.example/rss?page=2&token=abc")
    'https://bot:***@feeds.example/rss?page=2&token=***'
    """
    for pattern in _REDACTIONS:
        text = pattern.sub(_MASKED, text)
    return text


def is_secret_field(name: str) -> bool:
    return _SECRET_FIELD.search(name) is not None


# --- emitting events --------------------------------------------------------------------------------


def log_event(
    logger: logging.Logger,
    event: str,
    /,
    *,
    level: int = logging.INFO,
    exc_info: bool = False,
    **fields: object,
) -> None:
    """Log ``event`` with ``fields``, e.g. ``log_event(log, "feed_error", level=logging.WARNING, feed=name)``.

    ``level`` and ``exc_info`` are the only reserved names; every other keyword is a field, in the order
    given. Values are rendered by the configured formatter, so pass them as they are (numbers stay numbers
    in JSON).
    """
    if logger.isEnabledFor(level):
        logger.log(level, event, exc_info=exc_info, extra={_FIELDS_ATTRIBUTE: fields}, stacklevel=2)


# --- formatting -------------------------------------------------------------------------------------


class EventFormatter(logging.Formatter):
    """Renders any LogRecord as one text or JSON line (see the module's docstring), secrets redacted."""

    def __init__(self, fmt: LogFormat = "text", *, timestamps: bool = True, priority_prefix: bool = False):
        super().__init__()
        if fmt not in LOG_FORMATS:
            raise ValueError(f"log format must be one of {', '.join(LOG_FORMATS)}, not {fmt!r}")
        self.fmt = fmt
        self.timestamps = timestamps
        self.priority_prefix = priority_prefix

    def format(self, record: logging.LogRecord) -> str:
        event, fields = _event_and_fields(record)
        traceback = self._traceback(record)
        if self.fmt == "json":
            line = self._json_line(record, event, fields, traceback)
            return self._prefix(record) + line
        line = self._text_line(record, event, fields)
        prefix = self._prefix(record)
        if not traceback:
            return prefix + line
        # Indented continuation lines: readable in a terminal and in journalctl, where each becomes an entry
        # of the same priority.
        more = [f"{prefix}  {text}" for text in redact(traceback).splitlines()]
        return "\n".join([prefix + line, *more])

    def _traceback(self, record: logging.LogRecord) -> str:
        parts = []
        if record.exc_info:
            parts.append(self.formatException(record.exc_info))
        if record.stack_info:
            parts.append(self.formatStack(record.stack_info))
        return "\n".join(parts)

    def _prefix(self, record: logging.LogRecord) -> str:
        if not self.priority_prefix:
            return ""
        priority = next((p for level, p in sorted(_SYSLOG_PRIORITY.items()) if record.levelno <= level), 2)
        return f"<{priority}>"

    def _text_line(self, record: logging.LogRecord, event: str, fields: Mapping[str, object]) -> str:
        words = []
        if self.timestamps:
            words.append(_timestamp(record))
        words.append(record.levelname.lower())
        words.append(_text_value(event))
        for name, value in fields.items():
            shown = MASK if is_secret_field(name) else _text_value(value)
            words.append(f"{_field_name(name)}={shown}")
        if record.exc_info and record.exc_info[1] is not None:
            exception = record.exc_info[1]
            words.append(f"exc={_text_value(f'{type(exception).__name__}: {exception}')}")
        return " ".join(words)

    def _json_line(
        self, record: logging.LogRecord, event: str, fields: Mapping[str, object], traceback: str
    ) -> str:
        document: dict[str, object] = {
            "ts": _timestamp(record),
            "level": record.levelname.lower(),
            "event": redact(event),
            "logger": record.name,
        }
        for name, value in fields.items():
            key = f"{name}_" if name in _JSON_RESERVED else name
            document[key] = MASK if is_secret_field(name) else _json_value(value)
        if traceback:
            document["exc"] = redact(traceback)
        return json.dumps(document, ensure_ascii=False, allow_nan=False)


def _event_and_fields(record: logging.LogRecord) -> tuple[str, Mapping[str, object]]:
    fields = getattr(record, _FIELDS_ATTRIBUTE, None)
    if isinstance(fields, Mapping):
        return str(record.msg), fields
    try:
        message = record.getMessage()
    except Exception:  # arguments that do not fit the format: show both rather than lose the record
        message = f"{record.msg!r} % {record.args!r}"
    return record.name, {"msg": message}


def _timestamp(record: logging.LogRecord) -> str:
    moment = datetime.fromtimestamp(record.created, UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


_NEEDS_QUOTES = re.compile(r'[\s"=\x00-\x1f\x7f]')
_UNSAFE_NAME = re.compile(r"[^\w.-]")


def _field_name(name: str) -> str:
    return _UNSAFE_NAME.sub("_", name) or "_"


def _plain(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Enum):
        return _plain(value.value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Mapping | list | tuple | set | frozenset):
        return json.dumps(_json_value(value), ensure_ascii=False)
    return str(value)


def _text_value(value: object) -> str:
    text = redact(_plain(value))
    if text == "" or _NEEDS_QUOTES.search(text):
        return json.dumps(text, ensure_ascii=False)
    return text


def _json_value(value: object) -> Any:
    """A JSON-ready copy: numbers, booleans and null as they are; strings redacted; the rest as text."""
    if value is None or isinstance(value, bool | int):
        return value
    if isinstance(value, float):
        return value if value == value and value not in (float("inf"), float("-inf")) else str(value)
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, Enum):
        return _json_value(value.value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {
            str(key): MASK if is_secret_field(str(key)) else _json_value(item) for key, item in value.items()
        }
    if isinstance(value, list | tuple | set | frozenset):
        return [_json_value(item) for item in value]
    return redact(str(value))


# --- set-up -----------------------------------------------------------------------------------------


def configure_logging(
    fmt: LogFormat = "text",
    level: int | str = logging.INFO,
    stream: IO[str] | None = None,
    env: Mapping[str, str] | None = None,
) -> logging.Handler:
    """Send every log record (ours and libraries') to ``stream`` (stderr) as ``fmt`` lines at ``level``.

    Calling it again replaces the handler it installed before; other handlers on the root logger are left
    alone. Returns the handler (remove it from the root logger to undo).
    """
    if fmt not in LOG_FORMATS:
        raise ValueError(f"log format must be one of {', '.join(LOG_FORMATS)}, not {fmt!r}")
    levelno = _level_number(level)
    env = os.environ if env is None else env
    stream = sys.stderr if stream is None else stream
    journal = bool(env.get("JOURNAL_STREAM"))
    formatter = EventFormatter(
        fmt, timestamps=not journal, priority_prefix=journal and _is_journal_stream(stream, env)
    )
    handler = logging.StreamHandler(stream)
    handler.setFormatter(formatter)
    setattr(handler, _HANDLER_MARK, True)
    root = logging.getLogger()
    for old in [h for h in root.handlers if getattr(h, _HANDLER_MARK, False)]:
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(levelno)
    for name in _CHATTY_LOGGERS:
        logging.getLogger(name).setLevel(logging.NOTSET if levelno <= logging.DEBUG else logging.WARNING)
    return handler


def _level_number(level: int | str) -> int:
    if isinstance(level, int) and not isinstance(level, bool):
        return level
    if isinstance(level, str):
        number = logging.getLevelNamesMapping().get(level.strip().upper())
        if number is not None:
            return number
    raise ValueError(f"unknown log level {level!r} (use debug, info, warning or error)")


def _is_journal_stream(stream: IO[str], env: Mapping[str, str]) -> bool:
    """True when ``stream`` is the very journald stream systemd announced in JOURNAL_STREAM ("dev:inode").

    JOURNAL_STREAM is inherited by child processes whose stderr may be a terminal or a pipe; only the
    stream it names understands priority prefixes.
    """
    device, _, inode = env.get("JOURNAL_STREAM", "").partition(":")
    try:
        status = os.fstat(stream.fileno())
        return (status.st_dev, status.st_ino) == (int(device), int(inode))
    except (AttributeError, OSError, ValueError):  # not a real file (a StringIO), or a malformed variable
        return False

"""Log lines as the daemon writes them: text and JSON, journald mode, and secrets that never reach a log."""

from __future__ import annotations

import io
import json
import logging
import os
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from aggregator import deliver, fetch
from aggregator.logs import EventFormatter, configure_logging, log_event, redact

TIMESTAMP = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z"


@pytest.fixture(autouse=True)
def restore_logging() -> Iterator[None]:
    """configure_logging changes the root logger: put back what pytest had."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    scheduler_level = logging.getLogger("apscheduler").level
    yield
    for handler in list(root.handlers):
        if handler not in handlers:
            root.removeHandler(handler)
    root.setLevel(level)
    logging.getLogger("apscheduler").setLevel(scheduler_level)


def lines(stream: io.StringIO) -> list[str]:
    return stream.getvalue().splitlines()


def test_text_lines_are_event_then_key_value_with_a_utc_timestamp() -> None:
    out = io.StringIO()
    configure_logging("text", "info", out, env={})
    log = logging.getLogger("aggregator.daemon")
    log_event(log, "poll", feeds=17, new=3, duration_s=0.68, note="two words", said='a "quote"', gone=None)
    log_event(log, "feed_error", level=logging.WARNING, feed="wire", ok=False, reason="")
    log_event(log, "too_quiet", level=logging.DEBUG, feed="wire")
    [first, second] = lines(out)
    assert re.fullmatch(
        TIMESTAMP
        + r' info poll feeds=17 new=3 duration_s=0\.68 note="two words" said="a \\"quote\\"" gone=null',
        first,
    ), first
    stamped = datetime.strptime(first.split()[0], "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)
    assert abs((datetime.now(UTC) - stamped).total_seconds()) < 60  # UTC, not local time
    assert second.endswith(' warning feed_error feed=wire ok=false reason=""')


def test_values_that_would_break_the_line_are_quoted_and_escaped() -> None:
    out = io.StringIO()
    configure_logging("text", "info", out, env={})
    log_event(logging.getLogger("t"), "odd", newline="one\ntwo", equals="a=b", tab="a\tb", plain="a-b_c.d/e")
    [line] = lines(out)  # a newline inside a value never splits the record
    assert line.endswith(r' odd newline="one\ntwo" equals="a=b" tab="a\tb" plain=a-b_c.d/e')


def test_under_journald_the_timestamp_is_left_to_journald() -> None:
    out = io.StringIO()
    configure_logging("text", "info", out, env={"JOURNAL_STREAM": "8:12345"})
    log_event(logging.getLogger("aggregator.daemon"), "started", feeds=2)
    # A StringIO is not the journal's stream: no priority prefix either.
    assert lines(out) == ["info started feeds=2"]


def test_priority_prefix_only_on_the_stream_journal_stream_names(tmp_path: Path) -> None:
    with open(tmp_path / "journal", "w", encoding="utf-8") as stream:
        status = os.fstat(stream.fileno())
        configure_logging("text", "info", stream, env={"JOURNAL_STREAM": f"{status.st_dev}:{status.st_ino}"})
        log = logging.getLogger("aggregator.daemon")
        log_event(log, "started")
        log_event(log, "feed_error", level=logging.WARNING, feed="wire")
        log_event(log, "job_failed", level=logging.ERROR, job="poll")
    assert (tmp_path / "journal").read_text(encoding="utf-8").splitlines() == [
        "<6>info started",
        "<4>warning feed_error feed=wire",
        "<3>error job_failed job=poll",
    ]
    # Inherited by a process whose stderr is something else: no prefix.
    with open(tmp_path / "other", "w", encoding="utf-8") as stream:
        configure_logging("text", "info", stream, env={"JOURNAL_STREAM": f"{status.st_dev}:{status.st_ino}"})
        log_event(log, "started")
    assert (tmp_path / "other").read_text(encoding="utf-8") == "info started\n"


def test_json_lines_keep_types_and_always_carry_ts_level_event() -> None:
    out = io.StringIO()
    configure_logging("json", "debug", out, env={"JOURNAL_STREAM": "8:1"})  # ts even under journald
    log_event(
        logging.getLogger("aggregator.daemon"),
        "poll",
        level=logging.DEBUG,
        feeds=3,
        duration_s=0.5,
        ok=True,
        reason=None,
        names=("a", "b"),
        ts="not the timestamp",
    )
    [document] = [json.loads(line) for line in lines(out)]
    assert re.fullmatch(TIMESTAMP, document.pop("ts"))
    assert document == {
        "level": "debug",
        "event": "poll",
        "logger": "aggregator.daemon",
        "feeds": 3,
        "duration_s": 0.5,
        "ok": True,
        "reason": None,
        "names": ["a", "b"],
        "ts_": "not the timestamp",  # a field never overwrites the record's own keys
    }


def test_a_record_from_a_plain_logger_comes_out_in_the_same_format() -> None:
    out = io.StringIO()
    configure_logging("text", "info", out, env={"JOURNAL_STREAM": "8:1"})
    # The modules' own loggers, as they log today: printf-style messages, no fields.
    deliver.log.warning("alert_retry id=%s channel=%s error=%s", 7, "desk", "HTTP 503 from receiver")
    fetch.log.debug("fetched %s", "https://example.org/rss")  # below the level: not written
    configure_logging("json", "info", out, env={})
    deliver.log.error("alert_dead id=%s", 8)
    text, as_json = lines(out)
    assert (
        text == 'warning aggregator.deliver msg="alert_retry id=7 channel=desk error=HTTP 503 from receiver"'
    )
    document = json.loads(as_json)
    assert (document["event"], document["logger"], document["msg"]) == (
        "aggregator.deliver",
        "aggregator.deliver",
        "alert_dead id=8",
    )


def test_an_exception_keeps_its_record_on_one_line_and_its_traceback_after_it() -> None:
    out = io.StringIO()
    configure_logging("text", "info", out, env={"JOURNAL_STREAM": "8:1"})
    log = logging.getLogger("aggregator.daemon")
    try:
        raise RuntimeError("database is locked at https://u:pw@db.example/agg")
    except RuntimeError:
        log_event(log, "job_failed", level=logging.ERROR, exc_info=True, job="poll")
    first, *rest = lines(out)
    assert (
        first
        == 'error job_failed job=poll exc="RuntimeError: database is locked at https://u:***@db.example/agg"'
    )
    assert rest[0] == "  Traceback (most recent call last):"
    assert all(line.startswith("  ") for line in rest)
    assert "pw@" not in out.getvalue()

    out = io.StringIO()
    configure_logging("json", "info", out, env={})
    try:
        raise ValueError("bad")
    except ValueError:
        logging.getLogger("aggregator.fetch").exception("unexpected failure fetching %s", "x")
    [document] = [json.loads(line) for line in lines(out)]
    assert document["exc"].startswith("Traceback") and document["exc"].endswith("ValueError: bad")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # passwords in URLs, the user name kept
        ("https://bot:hunter2@feeds.example/rss", "https://bot:***@feeds.example/rss"),
        ("postgresql+psycopg://agg:s3cr3t@db:5432/agg", "postgresql+psycopg://agg:***@db:5432/agg"),
        ("smtp://mailer:p@ss@mail.example:587", "smtp://mailer:***@mail.example:587"),  # a raw @ in it
        # token-like query parameters, the others kept
        ("https://a.example/f?page=2&token=abc123", "https://a.example/f?page=2&token=***"),
        ("https://a.example/f?key=abc&sort=new", "https://a.example/f?key=***&sort=new"),
        ("https://a.example/f?api_key=abc#top", "https://a.example/f?api_key=***#top"),
        ("https://a.example/f?apikey=abc", "https://a.example/f?apikey=***"),
        ("https://a.example/f?access_token=abc", "https://a.example/f?access_token=***"),
        ("https://a.example/f?secret=abc", "https://a.example/f?secret=***"),
        ("https://a.example/f?password=abc", "https://a.example/f?password=***"),
        ("https://a.example/f?sig=abc", "https://a.example/f?sig=***"),
        ("https://a.example/f?signature=abc", "https://a.example/f?signature=***"),
        (
            "https://s3.example/o?X-Amz-Signature=ab12&X-Amz-Date=1",
            "https://s3.example/o?X-Amz-Signature=***&X-Amz-Date=1",
        ),
        ("https://a.example/f?client_secret=abc", "https://a.example/f?client_secret=***"),
        ("https://a.example/f?monkey=1&keyword=talks", "https://a.example/f?monkey=1&keyword=talks"),
        # chat webhooks: the service's host stays, the secret part goes
        (
            "https://hooks.slack.com/services/T0AAA/B0BBB/XXXXXXXXXXXXXXXXXXXXXXXX",
            "https://hooks.slack.com/services/***",
        ),
        (
            "https://discord.com/api/webhooks/1234567890/AbCdEf-GhIjKl_mn",
            "https://discord.com/api/webhooks/1234567890/***",
        ),
        (
            "https://discordapp.com/api/v10/webhooks/1234567890/AbCdEf?wait=true",
            "https://discordapp.com/api/v10/webhooks/1234567890/***?wait=true",
        ),
        (
            "https://contoso.webhook.office.com/webhookb2/1a2b@3c4d/IncomingWebhook/5e6f/7a8b",
            "https://contoso.webhook.office.com/***",
        ),
        (
            "https://prod-07.westeurope.logic.azure.com:443/workflows/abc/triggers/manual/paths/invoke"
            "?api-version=2016-06-01&sp=%2Ftriggers%2Fmanual%2Frun&sv=1.0&sig=Zm9vYmFy",
            "https://prod-07.westeurope.logic.azure.com:443/workflows/abc/triggers/manual/paths/invoke"
            "?api-version=2016-06-01&sp=%2Ftriggers%2Fmanual%2Frun&sv=1.0&sig=***",
        ),
        # other credentials that turn up in error messages
        ("Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.e30.abc", "Authorization: Bearer ***"),
        ("signing with whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "signing with whsec_***"),
        ("token xoxb-123-456-abcdef", "token xoxb-***"),
        # nothing secret: untouched
        ("alert_sent id=3 channel=desk key=a1b2c3", "alert_sent id=3 channel=desk key=a1b2c3"),
        ("http://127.0.0.1:8089/metrics", "http://127.0.0.1:8089/metrics"),
    ],
)
def test_redact_masks_each_kind_of_secret(text: str, expected: str) -> None:
    assert redact(text) == expected
    assert redact(expected) == expected  # masking twice changes nothing


def test_secrets_are_redacted_in_every_format_and_from_plain_loggers_too() -> None:
    hook = "https://hooks.slack.com/services/T0AAA/B0BBB/SLACKSECRET"
    for fmt in ("text", "json"):
        out = io.StringIO()
        configure_logging(fmt, "info", out, env={})
        log = logging.getLogger("aggregator.deliver")
        log_event(log, "sending", url=hook, nested={"db": "postgresql://u:DBSECRET@h/d", "api_key": "K1"})
        log_event(log, "configured", password="PW1", webhook_token="TK1", password_env="SMTP_PASSWORD")
        log.warning("post to %s failed", "https://discord.com/api/webhooks/42/DISCORDSECRET")
        written = out.getvalue()
        for secret in ("SLACKSECRET", "DBSECRET", "K1", "PW1", "TK1", "DISCORDSECRET"):
            assert secret not in written, (fmt, secret, written)
        assert "SMTP_PASSWORD" in written  # the name of a variable is not a secret
        assert "hooks.slack.com" in written and "discord.com/api/webhooks/42/" in written


def test_configuring_again_replaces_the_handler_and_bad_settings_are_refused() -> None:
    first, second = io.StringIO(), io.StringIO()
    configure_logging("text", "info", first, env={})
    configure_logging("text", "WARNING", second, env={})
    log = logging.getLogger("aggregator.daemon")
    log_event(log, "quiet")
    log_event(log, "loud", level=logging.WARNING)
    assert first.getvalue() == ""
    assert [line.split(" ", 1)[1] for line in lines(second)] == ["warning loud"]
    with pytest.raises(ValueError, match="log format"):
        configure_logging("xml", "info", io.StringIO(), env={})  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="log level"):
        configure_logging("text", "loud", io.StringIO(), env={})


def test_scheduler_chatter_is_hidden_unless_debugging() -> None:
    out = io.StringIO()
    configure_logging("text", "info", out, env={"JOURNAL_STREAM": "8:1"})
    scheduler_log = logging.getLogger("apscheduler.executors.default")
    scheduler_log.info('Running job "poll"')
    scheduler_log.warning('Run time of job "poll" was missed by 0:00:07')
    assert lines(out) == [
        'warning apscheduler.executors.default msg="Run time of job \\"poll\\" was missed by 0:00:07"'
    ]
    configure_logging("text", "debug", out, env={"JOURNAL_STREAM": "8:1"})
    scheduler_log.info('Running job "poll"')
    assert lines(out)[-1] == 'info apscheduler.executors.default msg="Running job \\"poll\\""'


def test_the_formatter_renders_a_record_made_by_hand() -> None:
    record = logging.LogRecord("lib", logging.INFO, __file__, 1, "%s of %s", ("one", "two", "three"), None)
    # Arguments that do not fit the format: the record is still written, with both parts.
    assert EventFormatter("text", timestamps=False).format(record).startswith("info lib msg=")

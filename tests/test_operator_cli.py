"""The operator's commands end to end: poll queues alerts, deliver sends them, alerts lists and replays,
alerts test goes through the real path, digest previews and sends, status shows it all. Real processes, a real
feed server, a real webhook receiver and a real SMTP server on 127.0.0.1."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from apscheduler.triggers.cron import CronTrigger
from feedserver import FeedServer
from lxml import html as lxml_html

from aggregator.config import ChannelConfig
from aggregator.daemon import _missed
from aggregator.demo.catchers import MailCatcher
from aggregator.demo.catchers import WebhookCatcher as Receiver

NOW = datetime.now(UTC)
SWAP = [
    (
        "wire-a",
        "Russia and Ukraine swap 84 prisoners each, Kyiv says",
        "Russia and Ukraine exchanged 84 prisoners of war each on Tuesday, Ukraine's coordination "
        "headquarters said, the latest swap brokered by the United Arab Emirates.",
    ),
    (
        "daily-b",
        "Eighty-four Ukrainian soldiers come home in swap with Russia",
        "Eighty-four Ukrainian servicemen returned home on Tuesday in an exchange of prisoners with Russia "
        "mediated by the UAE, officials said.",
    ),
]


def rss(outlet: str, title: str, summary: str) -> bytes:
    when = NOW.strftime("%a, %d %b %Y %H:%M:%S +0000")
    return (
        f"<rss version='2.0'><channel><title>{outlet}</title><item><guid>{outlet}-1</guid>"
        f"<link>https://{outlet}.example/swap</link><title>{title}</title>"
        f"<description>{summary}</description><pubDate>{when}</pubDate></item></channel></rss>"
    ).encode()


@pytest.fixture
def setup(
    tmp_path: Path, feed_server: FeedServer
) -> Iterator[tuple[Path, Receiver, MailCatcher, dict[str, str]]]:
    with Receiver() as receiver, MailCatcher() as mail:
        lines = ['[settings]\ndatabase = "sqlite:///ops.db"\nallow_private_networks = true\n']
        for outlet, title, summary in SWAP:
            url = feed_server.route(f"/{outlet}.xml", rss(outlet, title, summary))
            lines.append(f'[[feeds]]\nname = "{outlet}"\nurl = "{url}"\n')
        lines.append('[[channels]]\nname = "hook"\ntype = "webhook"\nurl_env = "OPS_HOOK"\n')
        lines.append(
            '[[channels]]\nname = "digest"\ntype = "email"\nmode = "digest"\nschedule = "0 7 * * *"\n'
            f'smtp_host = "127.0.0.1"\nsmtp_port = {mail.port}\nsecurity = "none"\n'
            'from = "agg@example.org"\nto = ["desk@example.org"]\n'
        )
        config = tmp_path / "feeds.toml"
        config.write_text("".join(lines), encoding="utf-8")
        env = {**os.environ, "OPS_HOOK": receiver.url}
        yield config, receiver, mail, env


def run(config: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "aggregator", "--config", str(config), *args],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )


def test_poll_queues_deliver_sends_alerts_lists_and_replays(
    setup: tuple[Path, Receiver, MailCatcher, dict[str, str]],
) -> None:
    config, receiver, _, env = setup
    polled = json.loads(run(config, env, "poll", "--once", "--json").stdout)
    assert (polled["relevant_items"], polled["new_stories"], polled["queued"]) == (2, 1, 1)
    assert receiver.posts == []  # poll records and queues; it does not deliver
    pending = json.loads(run(config, env, "alerts", "--status", "pending", "--json").stdout)
    assert [(a["channel"], a["status"]) for a in pending] == [("hook", "pending")]
    receiver.script(400)
    sent = json.loads(run(config, env, "deliver", "--once", "--json").stdout)
    assert (sent["attempted"], sent["dead"]) == (1, 1)
    [dead] = json.loads(run(config, env, "alerts", "--status", "dead", "--json").stdout)
    assert "HTTP 400" in dead["last_error"]
    status = run(config, env, "status")
    assert "1 dead" in status.stdout and "aggregator alerts --status dead" in status.stdout
    replay = run(config, env, "alerts", "retry", str(dead["id"]))
    assert replay.returncode == 0 and "1 alerts due again" in replay.stdout
    again = json.loads(run(config, env, "deliver", "--once", "--json").stdout)
    assert again["sent"] == 1
    assert [p.headers["webhook-id"] for p in receiver.posts] == [dead["key"], dead["key"]]
    assert run(config, env, "alerts", "retry").returncode == 2  # neither an id nor --dead: a clear error


def test_alerts_test_goes_through_the_real_path(
    setup: tuple[Path, Receiver, MailCatcher, dict[str, str]],
) -> None:
    config, receiver, _, env = setup
    result = run(config, env, "alerts", "test", "hook")
    assert result.returncode == 0, result.stderr
    [post] = receiver.posts
    payload = json.loads(post.body)
    assert payload["type"] == "alert.test" and "TEST" in json.dumps(payload)
    receiver.script(503)
    failed = run(config, env, "alerts", "test", "hook")
    assert failed.returncode == 1 and "HTTP 503" in failed.stdout
    assert run(config, env, "alerts", "test", "nope").returncode == 2


def test_digest_preview_and_send(
    tmp_path: Path, setup: tuple[Path, Receiver, MailCatcher, dict[str, str]]
) -> None:
    config, _, mail, env = setup
    run(config, env, "poll", "--once")
    page = tmp_path / "digest.html"
    preview = run(config, env, "digest", "--preview", str(page))
    assert preview.returncode == 0, preview.stderr
    document = lxml_html.fromstring(page.read_text(encoding="utf-8"))
    assert "84" in document.text_content() and not document.xpath("//script")
    assert mail.messages == []  # a preview sends nothing
    sent = run(config, env, "digest", "--send", "digest")
    assert sent.returncode == 0, sent.stderr
    [message] = mail.messages
    assert message["To"] == "desk@example.org" and "digest" in message["Subject"].lower()
    # Asked for again at once: nothing is new since the last one, and the operator gets exactly that.
    run(config, env, "digest", "--send", "digest")
    assert len(mail.messages) == 2 and "nothing new" in mail.messages[1]["Subject"]


def test_a_digest_missed_while_down_is_due_once_and_cron_follows_dst() -> None:
    channel = ChannelConfig(
        name="d", type="email", mode="digest", schedule="0 7 * * *", timezone="Europe/Kyiv"
    )
    last = datetime(2026, 3, 27, 5, 0, tzinfo=UTC)  # 07:00 in Kyiv (EET, UTC+2)
    assert not _missed(channel, last, last + timedelta(hours=23))
    assert _missed(channel, last, last + timedelta(hours=25))  # the 28 March digest was not sent
    trigger = CronTrigger.from_crontab("0 7 * * *", timezone=ZoneInfo("Europe/Kyiv"))
    after_change = trigger.get_next_fire_time(None, datetime(2026, 3, 29, 0, 0, tzinfo=UTC))
    assert after_change == datetime(2026, 3, 29, 4, 0, tzinfo=UTC)  # 07:00 EEST (UTC+3) after the switch

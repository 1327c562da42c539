"""`make demo`: the whole product offline, on bundled sample feeds served from 127.0.0.1.

Serves the sample feeds, starts a webhook receiver and an SMTP server that catch what is sent, writes a
configuration for all of them under ./var/demo/, runs the daemon (`aggregator run`, a real subprocess) for
a few poll cycles, stops it with SIGTERM, and prints the alerts the receiver got, the stories and tracked
events, the e-mails caught, and writes the digest to ./var/digest.html.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

from ..cli import main as cli_main
from .catchers import MailCatcher, WebhookCatcher
from .server import StaticFeedServer, load_demo_documents

DEMO_DIR = Path("var") / "demo"


DIGEST_HTML = Path("var") / "digest.html"
RUN_FOR_S = 25.0  # the daemon's few cycles: the first poll, deliveries, and re-polls that change nothing
HOOK_SECRET = "whsec_ZGVtby1zaWduaW5nLXNlY3JldC1ub3QtYS1yZWFsLW9uZQ=="


def write_config(server: StaticFeedServer, paths: list[str], directory: Path, smtp_port: int = 2525) -> Path:
    lines = [
        "# Written by `make demo`: the bundled sample feeds, served from this machine.",
        "[settings]",
        'database = "sqlite:///aggregator.db"   # relative to this file',
        'poll_interval = "10s"                  # short, to see several cycles in a few seconds',
        "allow_private_networks = true          # the demo's feeds and receivers are on 127.0.0.1",
        'fetch_timeout = "10s"',
        "",
        "[[channels]]",
        'name = "desk-hook"',
        'type = "webhook"',
        'url_env = "DEMO_HOOK_URL"               # set by the demo to its receiver',
        'secret_env = "DEMO_HOOK_SECRET"',
        "",
        "[[channels]]",
        'name = "morning-digest"',
        'type = "email"',
        'mode = "digest"',
        'schedule = "0 7 * * *"',
        'timezone = "Europe/Kyiv"',
        'smtp_host = "127.0.0.1"',
        f"smtp_port = {smtp_port}",
        'security = "none"                      # the demo\'s SMTP server is on this machine',
        'from = "aggregator@demo.example"',
        'to = ["desk@demo.example"]',
        "",
    ]
    for path in paths:
        name = Path(path).name.split(".")[0]
        lines += ["[[feeds]]", f'name = "{name}"', f'url = "{server.url(path)}"', ""]
    # A feed whose address is wrong: shows how a failing feed is reported, and that it harms no other.
    lines += ["[[feeds]]", 'name = "moved-away"', f'url = "{server.url("/no-such-feed.xml")}"', ""]
    config = directory / "feeds.toml"
    config.write_text("\n".join(lines), encoding="utf-8")
    return config


def step(title: str) -> None:
    print(f"\n== {title}", flush=True)


def run_demo() -> int:
    if DEMO_DIR.exists():
        shutil.rmtree(DEMO_DIR)
    DEMO_DIR.mkdir(parents=True)
    documents = load_demo_documents()
    with StaticFeedServer(documents) as server, WebhookCatcher() as hook, MailCatcher() as mail:
        config = str(write_config(server, sorted(documents), DEMO_DIR, mail.port))
        base = ["--config", config]
        os.environ.update({"DEMO_HOOK_URL": hook.url, "DEMO_HOOK_SECRET": HOOK_SECRET})
        step(
            f"Serving {len(documents)} sample feeds on {server.url('/')}; a webhook receiver on {hook.url}; "
            f"an SMTP server on 127.0.0.1:{mail.port}; configuration in {config}"
        )
        status = cli_main([*base, "config", "check"])
        step(f"Running the daemon (`aggregator run`) for {RUN_FOR_S:.0f} s: its log")
        status |= run_daemon(config, RUN_FOR_S)
        step(f"Alerts the webhook receiver got ({len(hook.received)}): one per real development")
        for headers, payload in hook.received:
            data = (payload or {}).get("data", {})
            outlets = data.get("outlets")
            kind, key = data.get("kind", "?"), headers.get("webhook-id")
            print(f"  [{kind:>6}] {data.get('summary')}  ({outlets} outlets; {key})")
        step("Feeds and their state")
        status |= cli_main([*base, "status"])
        step("Stories: one development as several outlets reported it")
        status |= cli_main([*base, "stories", "--limit", "8"])
        step("Tracked events, with the alerts their reports decided")
        status |= cli_main([*base, "events", "--limit", "8"])
        step("The morning digest: written as HTML, then sent now to the SMTP server")
        status |= cli_main([*base, "digest", "--preview", str(DIGEST_HTML), "--channel", "morning-digest"])
        status |= cli_main([*base, "digest", "--send", "morning-digest"])
        for message in mail.messages:
            print(f"  e-mail to {message['To']}: {message['Subject']}")
        print(
            f"\nThe database is {DEMO_DIR / 'aggregator.db'}; the digest is {DIGEST_HTML}; try: "
            f".venv/bin/aggregator --config {config} alerts",
            flush=True,
        )
    return status


def run_daemon(config: str, seconds: float) -> int:
    """`aggregator run` as a real subprocess (its log goes to this terminal), stopped by SIGTERM."""
    daemon = subprocess.Popen([sys.executable, "-m", "aggregator", "--config", config, "run"])
    try:
        time.sleep(seconds)
    finally:
        daemon.send_signal(signal.SIGTERM)
        try:
            code = daemon.wait(15)
        except subprocess.TimeoutExpired:
            daemon.kill()
            code = 1
    return 0 if code == 0 else 1


if __name__ == "__main__":
    sys.exit(run_demo())

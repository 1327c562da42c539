"""`make demo`: the whole pipeline offline, on bundled sample feeds served from 127.0.0.1.

Serves the sample feeds, writes a configuration for them under ./var/demo/, polls them into
./var/demo/aggregator.db, polls again (every feed answers 304 Not Modified), and prints what was stored.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

from ..cli import main as cli_main
from .server import StaticFeedServer, load_demo_documents

DEMO_DIR = Path("var") / "demo"


def write_config(server: StaticFeedServer, paths: list[str], directory: Path) -> Path:
    lines = [
        "# Written by `make demo`: the bundled sample feeds, served from this machine.",
        "[settings]",
        'database = "sqlite:///aggregator.db"   # relative to this file',
        'poll_interval = "15m"',
        "allow_private_networks = true          # the demo's feeds are on 127.0.0.1",
        'fetch_timeout = "10s"',
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
    with StaticFeedServer(documents) as server:
        config = str(write_config(server, sorted(documents), DEMO_DIR))
        base = ["--config", config]
        step(f"Serving {len(documents)} sample feeds on {server.url('/')}; configuration in {config}")
        step("First poll: every feed is new")
        status = cli_main([*base, "poll", "--once"])
        step("Second poll: conditional GET, so every unchanged feed answers 304 and nothing is parsed")
        status |= cli_main([*base, "poll", "--once", "--force"])
        step("Feeds and their state")
        status |= cli_main([*base, "feeds"])
        step("Newest items (* relevant to the talks, [events] found; one row however many feeds carry it)")
        status |= cli_main([*base, "items", "--limit", "12"])
        step("Stories: one development as several outlets reported it")
        status |= cli_main([*base, "stories", "--limit", "8"])
        step("Tracked events, with the alerts their reports decided (one per real development)")
        status |= cli_main([*base, "events", "--limit", "8"])
        print(
            f"\nThe database is {DEMO_DIR / 'aggregator.db'}; try: "
            f".venv/bin/aggregator --config {config} items --json",
            flush=True,
        )
    return status


if __name__ == "__main__":
    sys.exit(run_demo())

"""aggregator: watches news feeds for the Russia–Ukraine peace talks and alerts once per real development."""

import os
import time

__version__ = "0.1.0"
USER_AGENT = f"aggregator/{__version__} (+https://github.com/aggregator-news/aggregator; feed monitor)"


def use_utc_clock() -> None:
    """Feed dates must not depend on the host's time zone: a feedparser date reader uses local time. Every
    process of the daemon (the CLI and each parse worker) calls it at its start."""
    os.environ["TZ"] = "UTC"
    time.tzset()

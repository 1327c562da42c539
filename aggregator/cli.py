"""Command line: arguments, exit codes, text and JSON output — nothing else.

Exit codes: 0 success (a poll where some feeds failed still succeeds and reports them), 2 configuration
error, 1 anything else. Errors are one line on stderr; tracebacks only with --debug.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from collections import Counter
from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any, TextIO

from . import __version__, use_utc_clock
from .config import Config, describe_config, load_config
from .errors import AggregatorError, ConfigError
from .models import EVENT_TYPES
from .pipeline import (
    FeedPollResult,
    Poller,
    PollReport,
    apply_retention,
    rules_for_config,
    story_settings,
)
from .store import Store

if TYPE_CHECKING:
    from .classify import RuleSet
    from .models import Classification

# The classifier, the story stage and the evaluation are imported by the commands that use them: the CLI
# starts for every poll (a timer, a cron job), and one where every feed answers 304 never needs them

EXIT_OK, EXIT_ERROR, EXIT_CONFIG = 0, 1, 2


def utc_now() -> datetime:
    return datetime.now(UTC)


def _iso(value: datetime | None) -> str | None:
    return value.isoformat(timespec="seconds") if value else None


def _short(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M") if value else "-"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="aggregator",
        description="Watch news feeds for the Russia–Ukraine peace talks; store, classify and alert.",
    )
    parser.add_argument("--version", action="version", version=f"aggregator {__version__}")
    parser.add_argument(
        "--config", metavar="PATH", help="configuration file (default: $AGGREGATOR_CONFIG or ./feeds.toml)"
    )
    parser.add_argument("--debug", action="store_true", help="show tracebacks on errors")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    poll = commands.add_parser("poll", help="fetch due feeds once and store new items")
    poll.add_argument(
        "--once",
        action="store_true",
        required=True,
        help="poll once and exit (continuous polling is `aggregator run`)",
    )
    poll.add_argument(
        "--feed", metavar="NAME", action="append", help="poll only this feed, due or not (repeatable)"
    )
    poll.add_argument(
        "--force",
        action="store_true",
        help="poll every feed now, even those not due or backing off (not gone ones)",
    )
    poll.add_argument("--json", action="store_true", help="print one JSON object with the figures")

    feeds = commands.add_parser("feeds", help="every feed with its state, last fetch, last error, next due")
    feeds.add_argument("--json", action="store_true", help="print a JSON list")

    items = commands.add_parser("items", help="stored items, newest first")
    items.add_argument("--feed", metavar="NAME", help="only items first stored from this feed")
    items.add_argument("--limit", metavar="N", type=int, default=20, help="how many (default 20)")
    items.add_argument("--relevant", action="store_true", help="only items the classifier found relevant")
    items.add_argument("--json", action="store_true", help="print a JSON list")

    config = commands.add_parser("config", help="configuration commands")
    config_commands = config.add_subparsers(dest="config_command", metavar="ACTION", required=True)
    config_commands.add_parser("check", help="validate the configuration and print a summary")

    db = commands.add_parser("db", help="database commands")
    db_commands = db.add_subparsers(dest="db_command", metavar="ACTION", required=True)
    db_commands.add_parser("upgrade", help="apply database migrations (also done at every start)")

    classify = commands.add_parser(
        "classify", help="classify text or JSONL items and show the verdict with its evidence"
    )
    classify.add_argument(
        "file",
        nargs="?",
        default="-",
        metavar="FILE",
        help="plain text (first line = title) or JSONL with title/summary/published; - = stdin",
    )
    classify.add_argument("--published", metavar="DATE", help="publication date for plain text (YYYY-MM-DD)")
    classify.add_argument("--rules", metavar="PATH", help="a rules file instead of the configured rules")
    classify.add_argument("--json", action="store_true", help="print one JSON object per item")

    reclassify = commands.add_parser(
        "reclassify", help="re-run the classifier over stored items (after a rules change)"
    )
    reclassify.add_argument(
        "--since", metavar="DATE", help="only items published on or after DATE (YYYY-MM-DD)"
    )

    evaluate = commands.add_parser("eval", help="score the classifier against a labelled JSONL corpus")
    evaluate.add_argument(
        "corpus", metavar="PATH.jsonl", help="labelled corpus (see the README for the format)"
    )
    evaluate.add_argument("--rules", metavar="PATH", help="a rules file instead of the configured rules")
    evaluate.add_argument("--json", action="store_true", help="print exactly one JSON object with the scores")

    stories = commands.add_parser("stories", help="stories: one development as reported across outlets")
    stories.add_argument("--event", metavar="TYPE", choices=EVENT_TYPES, help="only stories reporting TYPE")
    stories.add_argument(
        "--since", metavar="DATE", help="only stories reported on or after DATE (YYYY-MM-DD)"
    )
    stories.add_argument("--limit", metavar="N", type=int, default=20, help="how many (default 20)")
    stories.add_argument("--json", action="store_true", help="print a JSON list")

    events = commands.add_parser("events", help="tracked events: rounds, exchanges, deadlines over time")
    events.add_argument("--limit", metavar="N", type=int, default=20, help="how many (default 20)")
    events.add_argument("--json", action="store_true", help="print a JSON list, with each event's decisions")

    commands.add_parser(
        "prune", help="apply retention now: drop items and fetch-log rows older than the configured ages"
    )
    deliver = commands.add_parser("deliver", help="send the alerts that are due now, then exit")
    deliver.add_argument("--once", action="store_true", required=True, help="one round (required)")
    deliver.add_argument(
        "--ignore-backoff",
        action="store_true",
        help="send every pending alert, whatever its next attempt time",
    )
    deliver.add_argument("--json", action="store_true", help="print one JSON object with the figures")

    alerts = commands.add_parser("alerts", help="the outbox: alerts per channel and their delivery state")
    alerts.add_argument(
        "--status", choices=("pending", "failed", "sent", "dead"), help="only alerts in STATUS"
    )
    alerts.add_argument("--limit", metavar="N", type=int, default=50, help="how many (default 50)")
    alerts.add_argument("--json", action="store_true", help="print a JSON list")
    alert_commands = alerts.add_subparsers(dest="alerts_command", metavar="ACTION")
    retry = alert_commands.add_parser("retry", help="make a failed or dead alert due again (replay)")
    retry.add_argument(
        "id", metavar="ID", type=int, nargs="?", help="the alert's id (see `aggregator alerts`)"
    )
    retry.add_argument("--dead", action="store_true", help="every dead alert")
    test = alert_commands.add_parser("test", help="send a clearly marked test alert through a channel now")
    test.add_argument("channel", metavar="CHANNEL", help="the channel's name")

    digest = commands.add_parser("digest", help="render or send the daily digest of an e-mail digest channel")
    digest.add_argument(
        "--preview", metavar="FILE.html", help="write the digest's HTML to FILE without sending"
    )
    digest.add_argument("--channel", metavar="NAME", help="the digest channel (default: the first one)")
    digest.add_argument("--send", metavar="CHANNEL", help="send the digest of CHANNEL now")

    status = commands.add_parser(
        "status", help="one screen: feeds, last poll, events tracked, outbox, dead alerts"
    )
    status.add_argument("--json", action="store_true", help="print one JSON object")

    run = commands.add_parser(
        "run",
        help="the daemon: poll feeds when due, deliver alerts, send digests, until SIGTERM (SIGHUP reloads)",
    )
    run.add_argument(
        "--log-format", choices=("text", "json"), default="text", help="log lines on stderr (default text)"
    )
    return parser


def config_path(args: argparse.Namespace) -> str:
    return args.config or os.environ.get("AGGREGATOR_CONFIG") or "feeds.toml"


def open_store(config: Config) -> Store:
    return Store.open(config.settings.database)


# -- commands ---------------------------------------------------------------------------------------------


def cmd_config_check(config: Config, args: argparse.Namespace, out: TextIO) -> int:
    out.write(describe_config(config) + "\n")
    out.write("configuration OK\n")
    return EXIT_OK


def cmd_db_upgrade(config: Config, args: argparse.Namespace, out: TextIO) -> int:
    with open_store(config):
        pass  # opening runs the migrations
    out.write("database is up to date\n")
    return EXIT_OK


class _ProgressBar:
    """A progress bar on stderr, only when stdout is a terminal."""

    def __init__(self) -> None:
        self.bar: Any = None

    def started(self, total: int) -> None:
        from tqdm import tqdm

        self.bar = tqdm(total=total, unit="feed", file=sys.stderr, leave=False)

    def feed_done(self, result: FeedPollResult) -> None:
        if self.bar is not None:
            self.bar.update(1)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def cmd_poll(config: Config, args: argparse.Namespace, out: TextIO) -> int:
    if args.feed:
        for name in args.feed:
            config.feed(name)  # an unknown name is a configuration error naming it
    bar = _ProgressBar() if out.isatty() else None
    with open_store(config) as store, Poller(config, store) as poller:
        try:
            report = poller.poll(
                utc_now(), names=args.feed, force=bool(args.feed) or args.force, progress=bar
            )
        finally:
            if bar is not None:
                bar.close()
    if args.json:
        out.write(json.dumps(report.as_dict()) + "\n")
    else:
        write_poll_report(report, out)
    return EXIT_OK


def write_poll_report(report: PollReport, out: TextIO) -> None:
    for r in report.results:
        if r.outcome == "error":
            out.write(f"  ✗ {r.name}: {r.error}\n")
        elif r.outcome == "ok":
            note = f" (recovered: {r.problem})" if r.problem else ""
            out.write(
                f"  ✓ {r.name}: {r.entries} entries, {r.new_items} new, {r.updated_items} updated, "
                f"{r.other_source} from other feeds{note}\n"
            )
        else:
            out.write(f"  · {r.name}: {r.outcome.replace('_', ' ')}\n")
    out.write(
        f"{report.feeds} feeds polled in {report.duration_s:.2f} s: {report.fetched} fetched, "
        f"{report.not_modified} not modified, {report.errors} errors; "
        f"{report.new_items} new items, {report.updated_items} updated\n"
    )
    if report.stories is not None and report.stories.relevant_items:
        t = report.stories
        out.write(
            f"{t.relevant_items} relevant: {t.new_stories} new stories, {t.new_events} new events, "
            f"{t.alerts} alert decisions\n"
        )


def cmd_feeds(config: Config, args: argparse.Namespace, out: TextIO) -> int:
    with open_store(config) as store:
        store.sync_feeds([(f.name, f.url) for f in config.feeds if f.enabled], utc_now())
        states = store.feed_states()
    if args.json:
        rows = [
            {
                "name": s.name,
                "url": s.url,
                "config_url": s.config_url,
                "status": str(s.status),
                "last_fetch": _iso(s.last_fetch_at),
                "last_success": _iso(s.last_success_at),
                "last_status": s.last_status,
                "error_count": s.error_count,
                "last_error": s.last_error,
                "last_error_reason": s.last_error_reason,
                "gone_reason": s.gone_reason,
                "last_problem": s.last_problem,
                "next_due": _iso(s.next_due),
            }
            for s in states
        ]
        out.write(json.dumps(rows) + "\n")
        return EXIT_OK
    width = max((len(s.name) for s in states), default=4)
    out.write(f"{'FEED':<{width}}  {'STATUS':<8}  {'LAST FETCH':<16}  {'NEXT DUE':<16}  ERRORS  LAST ERROR\n")
    for s in states:
        error = s.gone_reason or s.last_error or (f"recovered: {s.last_problem}" if s.last_problem else "")
        out.write(
            f"{s.name:<{width}}  {s.status!s:<8}  {_short(s.last_fetch_at):<16}  {_short(s.next_due):<16}  "
            f"{s.error_count:>6}  {error}\n"
        )
    return EXIT_OK


def cmd_items(config: Config, args: argparse.Namespace, out: TextIO) -> int:
    if args.feed:
        config.feed(args.feed)
    with open_store(config) as store:
        items = store.list_items(feed=args.feed, limit=args.limit, relevant_only=args.relevant)
    if args.json:
        rows = [
            {
                "id": i.id,
                "feed": i.feed,
                "key": i.key,
                "url": i.url,
                "canonical_url": i.canonical_url,
                "title": i.title,
                "summary": i.summary,
                "published": _iso(i.published),
                "first_seen": _iso(i.first_seen),
                "revision": i.revision,
                "sources": i.sources,
                "relevant": i.relevant,
                "events": list(i.event_types),
            }
            for i in items
        ]
        out.write(json.dumps(rows, ensure_ascii=False) + "\n")
        return EXIT_OK
    for i in items:
        extra = f" (+{i.sources - 1} feeds)" if i.sources > 1 else ""
        mark = "*" if i.relevant else " "  # * relevant to the talks
        events = f" [{', '.join(i.event_types)}]" if i.event_types else ""
        out.write(
            f"{mark} {_short(i.published)}  [{i.feed}] {i.title}{extra}{events}\n"
            f"      {i.canonical_url or i.url or ''}\n"
        )
    return EXIT_OK


def cmd_stories(config: Config, args: argparse.Namespace, out: TextIO) -> int:
    since = datetime.combine(_date(args.since), datetime.min.time(), UTC) if args.since else None
    with open_store(config) as store:
        stories = store.list_stories(event_type=args.event, since=since, limit=args.limit)
        members = {story.id: store.story_item_ids(story.id) for story in stories}
    if args.json:
        from .deduplicate import story_to_dict

        rows = [{**story_to_dict(story), "item_ids": members[story.id]} for story in stories]
        out.write(json.dumps(rows, ensure_ascii=False) + "\n")
        return EXIT_OK
    for story in stories:
        events = ", ".join(_story_event_text(e.type, e.stage, e.facts) for e in story.events)
        out.write(
            f"{_short(story.first_seen)}  {story.headline}\n"
            f"      {story.item_count} items from {len(story.sources)} outlets "
            f"({', '.join(story.sources[:6])}{', …' if len(story.sources) > 6 else ''})"
            f"{'; ' + events if events else ''}\n"
        )
    return EXIT_OK


def _story_event_text(kind: str, stage: str, facts: Mapping[str, object]) -> str:
    stated = " ".join(f"{k}={v}" for k, v in facts.items())
    return f"{kind} {stage.replace('_', ' ')}{' ' + stated if stated else ''}"


def cmd_events(config: Config, args: argparse.Namespace, out: TextIO) -> int:
    with open_store(config) as store:
        events = store.list_events(limit=args.limit)
        decisions = {event.id: store.decisions(event_id=event.id) for event in events}
    if args.json:
        from .deduplicate import decision_to_dict, event_to_dict

        rows = [
            {
                **event_to_dict(event),
                "decisions": [decision_to_dict(d) for d in reversed(decisions[event.id])],
            }
            for event in events
        ]
        out.write(json.dumps(rows, ensure_ascii=False) + "\n")
        return EXIT_OK
    for event in events:
        alerts = [d for d in reversed(decisions[event.id]) if d.alert]
        out.write(
            f"{_short(event.first_seen)}  {_story_event_text(event.type, event.status, event.facts)}\n"
            f"      {len(event.story_ids)} stories, {len(event.sources)} outlets, "
            f"{len(alerts)} alerts: {'; '.join(d.reason for d in alerts) or 'none'}\n"
        )
    return EXIT_OK


def cmd_prune(config: Config, args: argparse.Namespace, out: TextIO) -> int:
    with open_store(config) as store:
        report = apply_retention(store, config, utc_now())
    out.write(
        f"pruned {report.items_pruned} items (their keys kept as tombstones) "
        f"and {report.fetch_log_pruned} fetch-log rows\n"
    )
    return EXIT_OK


def cmd_reclassify(config: Config, args: argparse.Namespace, out: TextIO) -> int:
    from .classify import classify_item

    since = datetime.combine(_date(args.since), datetime.min.time(), UTC) if args.since else None
    rules = rules_for_config(config)
    counts: Counter[str] = Counter()
    with open_store(config) as store:
        after = 0
        while page := store.items_for_classification(since=since, after_id=after, limit=2000):
            verdicts = [(item_id, classify_item(item, rules)) for item_id, item in page]
            store.save_classifications(verdicts, utc_now())
            counts["items"] += len(verdicts)
            counts["relevant"] += sum(v.relevant for _, v in verdicts)
            counts.update(event.type for _, v in verdicts for event in v.events)
            after = page[-1][0]
    events = ", ".join(f"{name} {counts[name]}" for name in EVENT_TYPES)
    out.write(
        f"reclassified {counts['items']} items with rules {rules.version}: "
        f"{counts['relevant']} relevant; events: {events}\n"
    )
    return EXIT_OK


def cmd_deliver(config: Config, args: argparse.Namespace, out: TextIO) -> int:
    from .deliver import Deliverer

    with open_store(config) as store, Deliverer(config, store) as deliverer:
        report = deliverer.deliver_due(utc_now(), ignore_backoff=args.ignore_backoff)
    if args.json:
        out.write(json.dumps(report.as_dict()) + "\n")
    else:
        out.write(
            f"{report.attempted} alerts attempted: {report.sent} sent, {report.retrying} to retry, "
            f"{report.dead} dead"
            + (f", {report.skipped} for disabled or removed channels" if report.skipped else "")
            + "\n"
        )
        for error in report.errors:
            out.write(f"  ✗ {error}\n")
    return EXIT_OK


def cmd_alerts(config: Config, args: argparse.Namespace, out: TextIO) -> int:
    from .deliver import Deliverer, outbox_row_to_dict, test_message

    if args.alerts_command == "retry":
        if (args.id is None) == (not args.dead):
            raise ConfigError(str(config.path), "alerts retry", "give an alert ID or --dead (not both)")
        with open_store(config) as store:
            count = store.retry_alerts(utc_now(), alert_id=args.id, dead=args.dead)
        out.write(f"{count} alerts due again\n")
        return EXIT_OK if count or args.dead else EXIT_ERROR
    if args.alerts_command == "test":
        channel = config.channel(args.channel)
        now = utc_now()
        with open_store(config) as store, Deliverer(config, store) as deliverer:
            row = deliverer.send_now(channel, test_message(channel, now), now)
        if row.status == "sent":
            out.write(f"test alert sent to {channel.name} (key {row.idempotency_key})\n")
            return EXIT_OK
        out.write(f"test alert to {channel.name} not delivered ({row.status}): {row.last_error}\n")
        return EXIT_ERROR
    with open_store(config) as store:
        rows = store.list_alerts(status=args.status, limit=args.limit)
    if args.json:
        out.write(json.dumps([outbox_row_to_dict(row) for row in rows], ensure_ascii=False) + "\n")
        return EXIT_OK
    for row in rows:
        title = str(row.payload.get("headline") or row.payload.get("subject") or "")[:80]
        error = f"\n      last error: {row.last_error}" if row.last_error and row.status != "sent" else ""
        out.write(
            f"#{row.id:<5} {row.status:<8} {row.channel}: {row.kind} {title} "
            f"(attempts {row.attempts}, created {_short(row.created_at)}){error}\n"
        )
    return EXIT_OK


def cmd_digest(config: Config, args: argparse.Namespace, out: TextIO) -> int:
    from .deliver import digest_channel, preview_digest, queue_digest

    if bool(args.preview) == bool(args.send):
        raise ConfigError(str(config.path), "digest", "give --preview FILE.html or --send CHANNEL")
    now = utc_now()
    with open_store(config) as store:
        if args.preview:
            channel = digest_channel(config, args.channel)
            html = preview_digest(store, config, channel, now)
            with open(args.preview, "w", encoding="utf-8") as file:
                file.write(html)
            out.write(f"digest of {channel.name} written to {args.preview}\n")
            return EXIT_OK
        channel = digest_channel(config, args.send)
        queued = queue_digest(store, config, channel, now, force=True)
    if not queued:
        out.write(f"nothing to send to {channel.name}\n")
        return EXIT_OK
    from .deliver import Deliverer

    with open_store(config) as store, Deliverer(config, store) as deliverer:
        report = deliverer.deliver_due(now)
    out.write(f"digest of {channel.name} queued; {report.sent} sent, {report.retrying} to retry\n")
    return EXIT_OK


def cmd_status(config: Config, args: argparse.Namespace, out: TextIO) -> int:
    with open_store(config) as store:
        states = store.feed_states()
        events = store.list_events(limit=1000)
        outbox = store.outbox_counts()
    configured = {feed.name for feed in config.feeds if feed.enabled}
    states = [s for s in states if s.name in configured]
    kinds: Counter[str] = Counter()
    for state in states:
        if state.status == "gone":
            kinds["gone"] += 1
        elif state.error_count:
            kinds["backing off"] += 1
        elif state.status == "ok":
            kinds["ok"] += 1
        else:
            kinds["not polled yet"] += 1
    polled = [s.last_fetch_at for s in states if s.last_fetch_at is not None]
    due = [s.next_due for s in states if s.next_due is not None and s.status != "gone"]
    tracked = Counter(f"{e.type} {e.status.replace('_', ' ')}" for e in events)
    figures = {
        "feeds": dict(kinds),
        "last_poll": _iso(max(polled)) if polled else None,
        "next_due": _iso(min(due)) if due else None,
        "events": dict(tracked),
        "outbox": {"queued": outbox.get("pending", 0) + outbox.get("failed", 0), **outbox},
        "dead": outbox.get("dead", 0),
        "problems": [
            {
                "feed": s.name,
                "status": s.status,
                "errors": s.error_count,
                "error": s.last_error or s.gone_reason,
            }
            for s in states
            if s.status == "gone" or s.error_count
        ],
    }
    if args.json:
        out.write(json.dumps(figures, ensure_ascii=False) + "\n")
        return EXIT_OK
    feeds_line = ", ".join(f"{n} {k}" for k, n in kinds.most_common()) or "none"
    out.write(f"feeds       {len(states)}: {feeds_line}\n")
    last, following = (_short(max(polled)) if polled else "never"), (_short(min(due)) if due else "-")
    out.write(f"last poll   {last}; next due {following}\n")
    events_line = ", ".join(f"{n} {k}" for k, n in sorted(tracked.items())) or "none yet"
    out.write(f"events      {len(events)} tracked: {events_line}\n")
    queued = figures["outbox"]["queued"]  # type: ignore[index]
    out.write(f"outbox      {queued} queued, {outbox.get('sent', 0)} sent, {outbox.get('dead', 0)} dead")
    out.write("  (see: aggregator alerts --status dead)\n" if outbox.get("dead") else "\n")
    for problem in figures["problems"]:  # type: ignore[attr-defined]
        out.write(
            f"  ✗ {problem['feed']} ({problem['status']}, {problem['errors']} errors): {problem['error']}\n"
        )
    return EXIT_OK


def cmd_run(config: Config, args: argparse.Namespace, out: TextIO) -> int:
    from .daemon import run_daemon

    return run_daemon(config, config_path(args))


COMMANDS = {
    "poll": cmd_poll,
    "feeds": cmd_feeds,
    "items": cmd_items,
    "stories": cmd_stories,
    "events": cmd_events,
    "prune": cmd_prune,
    "reclassify": cmd_reclassify,
    "deliver": cmd_deliver,
    "alerts": cmd_alerts,
    "digest": cmd_digest,
    "status": cmd_status,
    "run": cmd_run,
}


def configured(args: argparse.Namespace) -> Config | None:
    """The configuration, where one is named or ./feeds.toml exists (classify and eval need none), and not
    with --rules: a rule file stands alone."""
    if args.rules:
        return None
    explicit = args.config or os.environ.get("AGGREGATOR_CONFIG")
    if explicit or os.path.exists("feeds.toml"):
        return load_config(config_path(args))
    return None


def classifier_rules(args: argparse.Namespace, config: Config | None) -> RuleSet:
    """--rules, else the configuration's rules, else the packaged ones."""
    from .classify import default_rules, load_rules

    if args.rules:
        return load_rules(args.rules)
    return rules_for_config(config) if config is not None else default_rules()


def cmd_eval(args: argparse.Namespace, out: TextIO) -> int:
    from .evaluate import evaluate, format_report, read_corpus

    config = configured(args)
    settings = story_settings(config) if config is not None else None
    evaluation = evaluate(read_corpus(args.corpus), classifier_rules(args, config), settings)
    if args.json:
        out.write(json.dumps(evaluation.as_dict()) + "\n")
    else:
        out.write(format_report(evaluation) + "\n")
    return EXIT_OK


def cmd_classify(args: argparse.Namespace, out: TextIO) -> int:
    from .classify import classification_to_dict, classify

    rules = classifier_rules(args, configured(args))
    text = sys.stdin.read() if args.file == "-" else _read_text(args.file)
    for title, summary, published in classify_inputs(text, args.published):
        result = classify(title, summary, published, rules)
        if args.json:
            out.write(
                json.dumps({"title": title, **classification_to_dict(result)}, ensure_ascii=False) + "\n"
            )
        else:
            out.write(format_verdict(title, summary, result, color=out.isatty()) + "\n")
    return EXIT_OK


def classify_inputs(text: str, published: str | None) -> list[tuple[str, str, date | None]]:
    """JSONL (one object per line with title/summary/published) or plain text (first line is the title)."""
    lines = [line for line in text.splitlines() if line.strip()]
    if lines and all(line.lstrip().startswith("{") for line in lines):
        items = []
        for number, line in enumerate(lines, start=1):
            try:
                raw = json.loads(line)
            except json.JSONDecodeError as exc:
                raise AggregatorError(f"line {number}: not JSON: {exc.msg}") from exc
            day = raw.get("published")
            items.append(
                (str(raw.get("title") or ""), str(raw.get("summary") or ""), _date(day) if day else None)
            )
        return items
    title, _, body = text.strip().partition("\n")
    return [(title.strip(), body.strip(), _date(published) if published else None)]


def _date(value: str) -> date:
    try:
        return date.fromisoformat(str(value)[:10])
    except ValueError as exc:
        raise AggregatorError(f"{value!r} is not a date (use YYYY-MM-DD)") from exc


def format_verdict(title: str, summary: str, result: Classification, *, color: bool) -> str:
    """The verdict, the events with their facts, and the text with every piece of evidence marked."""
    from .classify import classified_text

    verdict = "RELEVANT" if result.relevant else "not relevant"
    lines = [f"{verdict} (score {result.score:.2f}, rules {result.rules_version}) — {title or summary[:80]}"]
    for event in result.events:
        facts = ", ".join(f"{k}={v}" for k, v in event.facts.items()) or "no facts stated"
        lines.append(f"  {event.type} ({event.score:.2f}): {facts}")
    spans = sorted(
        {*result.evidence, *(e for ev in result.events for e in ev.evidence)}, key=lambda e: e.start
    )
    text = classified_text(title, summary)
    marked, cursor = [], 0
    on, off = ("\033[1;33m", "\033[0m") if color else ("«", "»")
    for evidence in spans:
        if evidence.start < cursor:
            continue  # overlapping spans: the first one is marked
        marked += [text[cursor : evidence.start], on, text[evidence.start : evidence.end], off]
        cursor = evidence.end
    marked.append(text[cursor:])
    lines.append("  " + "".join(marked).replace("\n", "\n  "))
    if spans:
        lines.append("  evidence: " + "; ".join(f"{e.rule} {e.text!r}" for e in spans))
    return "\n".join(lines)


def _read_text(path: str) -> str:
    try:
        with open(path, encoding="utf-8") as handle:
            return handle.read()
    except OSError as exc:
        raise AggregatorError(f"{path}: cannot read: {exc.strerror or exc}") from exc


def dispatch(args: argparse.Namespace, out: TextIO) -> int:
    if args.command == "eval":
        return cmd_eval(args, out)
    if args.command == "classify":
        return cmd_classify(args, out)
    if args.command == "run":  # the daemon's every stderr line is in its log format, warnings included
        from .logs import configure_logging

        configure_logging(args.log_format)
    config = load_config(config_path(args))
    for warning in config.warnings:
        if args.command == "run":
            from .logs import log_event

            log_event(
                logging.getLogger("aggregator"), "config_warning", level=logging.WARNING, warning=warning
            )
        else:
            print(f"aggregator: warning: {warning}", file=sys.stderr)
    if args.command == "config":
        return cmd_config_check(config, args, out)
    if args.command == "db":
        return cmd_db_upgrade(config, args, out)
    return COMMANDS[args.command](config, args, out)


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    use_utc_clock()
    try:
        return dispatch(args, sys.stdout)
    except ConfigError as exc:
        if args.debug:
            raise
        print(f"aggregator: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    except AggregatorError as exc:
        if args.debug:
            raise
        print(f"aggregator: {exc}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # an unexpected failure still gets one clean line
        if args.debug:
            raise
        print(
            f"aggregator: internal error: {type(exc).__name__}: {exc} (run with --debug for details)",
            file=sys.stderr,
        )
        return EXIT_ERROR


if __name__ == "__main__":
    sys.exit(main())

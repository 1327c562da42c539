"""The one orchestrator: poll = fetch → parse → normalise → classify → deduplicate → store, per due feed.

Fetches run in a bounded thread pool with a per-host limit; parsing and normalising run in worker processes
(CPU-bound, and a pathological feed there cannot stall or bloat the main process); only this module's
main thread talks to the Store. One feed's failure is recorded on that feed and never delays the others.
"""

from __future__ import annotations

import contextlib
import hashlib
import multiprocessing
import os
import threading
import time
from collections import Counter, deque
from collections.abc import Callable, Collection, Mapping, Sequence
from concurrent.futures import (
    FIRST_COMPLETED,
    Executor,
    Future,
    ProcessPoolExecutor,
    ThreadPoolExecutor,
    wait,
)
from concurrent.futures.process import BrokenProcessPool
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Protocol
from urllib.parse import urlsplit

try:
    import fcntl
except ImportError:  # not on Windows
    fcntl = None  # type: ignore[assignment]

from .config import Config, FeedConfig
from .errors import FeedError, ParseError
from .feedstate import after_failure, after_success
from .fetch import Fetcher
from .models import (
    STORY_RETENTION,
    AlertDecision,
    AlertRoute,
    Event,
    FeedState,
    FetchLogEntry,
    FetchOutcome,
    FetchResult,
    PolledFeed,
    SaveResult,
    Story,
    StoryInput,
)
from .store import Store

if TYPE_CHECKING:
    # The stages that need the classifier's rules, the story window or feedparser are imported where they
    # first run: a poll where every feed answers 304 never loads them (a fifth of its start-up)
    from .classify import RuleSet
    from .deduplicate import Assignment, Deduplicator, DedupSettings
    from .models import ClassifierConfig
    from .worker import ParseOutcome

# Fetched bodies waiting for a parser: enough to keep the workers busy while the writer commits a batch,
# bounded in bytes so that a run of 10 MiB feeds cannot pile up in memory.
PARSE_BACKLOG_JOBS_PER_PROCESS = 12
PARSE_BACKLOG_BYTES = 48 * 1024 * 1024
RESULT_PIPE_BYTES = 1024 * 1024  # see _widen_result_pipe


@dataclass(frozen=True, slots=True)
class FeedPollResult:
    name: str
    outcome: str  # ok, not_modified, unchanged, error
    status: int | None = None
    new_items: int = 0
    updated_items: int = 0
    other_source: int = 0
    entries: int = 0
    parser: str | None = None
    problem: str | None = None  # a recovered feed: why it needed recovery
    error: str | None = None
    reason: str | None = None
    duration_s: float = 0.0


@dataclass(frozen=True, slots=True)
class PollReport:
    feeds: int
    fetched: int
    not_modified: int
    unchanged: int
    errors: int
    new_items: int
    updated_items: int
    other_source: int
    duration_s: float
    results: tuple[FeedPollResult, ...] = field(default=())
    stories: StoryTally | None = None

    def as_dict(self) -> dict[str, object]:
        return {
            "feeds": self.feeds,
            "fetched": self.fetched,
            "not_modified": self.not_modified,
            "unchanged": self.unchanged,
            "errors": self.errors,
            "new_items": self.new_items,
            "updated_items": self.updated_items,
            "other_source": self.other_source,
            "duration_s": round(self.duration_s, 3),
            **asdict(self.stories or StoryTally()),
            "results": [asdict(r) for r in self.results],
        }


@dataclass(slots=True)
class StoryTally:
    """What the deduplicate stage made of a poll's new relevant items."""

    relevant_items: int = 0
    new_stories: int = 0
    new_events: int = 0
    alerts: int = 0  # alert decisions: a new event, a changed fact or status
    queued: int = 0  # outbox rows written for the configured channels


class PollProgress(Protocol):
    """Told how many feeds are due, then of each feed as it finishes (a progress bar, metrics)."""

    def started(self, total: int) -> None: ...

    def feed_done(self, result: FeedPollResult) -> None: ...


@dataclass(frozen=True, slots=True)
class RetentionReport:
    items_pruned: int
    fetch_log_pruned: int
    alerts_pruned: int = 0


def apply_retention(store: Store, config: Config, now: datetime) -> RetentionReport:
    """Prune items and fetch-log rows older than the configured ages; pruned items leave tombstones."""
    settings = config.settings
    items = 0
    if settings.item_retention_s is not None:
        items = store.prune_items(now - timedelta(seconds=settings.item_retention_s))
    log = store.prune_fetch_log(now - timedelta(seconds=settings.fetch_log_retention_s))
    alerts = 0
    if settings.alert_retention_s is not None:
        alerts = store.prune_alerts(now - timedelta(seconds=settings.alert_retention_s))
    return RetentionReport(items_pruned=items, fetch_log_pruned=log, alerts_pruned=alerts)


def rules_for_config(config: Config) -> RuleSet:
    """The classifier rules a configuration asks for (its [classifier] section), else the packaged ones."""
    return config.classifier.load_rules(f"{config.path.name}: [classifier]")


def story_settings(config: Config) -> DedupSettings:
    """The story stage's settings a configuration asks for: whether weak readings wait for a second outlet."""
    from .deduplicate import DedupSettings

    return DedupSettings() if config.settings.corroborate_weak else DedupSettings.alerting_at_once()


class InlineExecutor(Executor):
    """Runs work at submission, in this process: for tests and tiny set-ups without worker processes."""

    def submit(self, fn, /, *args, **kwargs):  # type: ignore[no-untyped-def,override]
        future: Future = Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except BaseException as exc:
            future.set_exception(exc)
        return future


def _widen_result_pipe(pool: ProcessPoolExecutor) -> None:
    """Let the pipe the workers send outcomes through hold whole outcomes (Linux; elsewhere a no-op).

    An outcome is about 2 KB an item, 120 KB for a typical feed; a pipe holds 64 KiB. The worker then waits,
    idle, until this process's pool thread has read every chunk, and that thread needs the GIL for each one:
    up to the 5 ms switch interval while the main thread stores a batch. At 1 MiB (the largest a user may
    set by default) the worker writes its outcome and parses on.
    """
    set_size = getattr(fcntl, "F_SETPIPE_SZ", None) if fcntl is not None else None
    # The executor's result queue is private: without it (another Python) the pipe stays as it is.
    reader = getattr(getattr(pool, "_result_queue", None), "_reader", None)
    if set_size is None or reader is None:
        return
    with contextlib.suppress(OSError):  # a lower limit on this host (fs.pipe-max-size): keep the default
        fcntl.fcntl(reader.fileno(), set_size, RESULT_PIPE_BYTES)


def _host_of(url: str) -> str:
    try:
        parts = urlsplit(url)
        return f"{(parts.hostname or '').lower()}:{parts.port or ''}"
    except ValueError:
        return url


class Poller:
    """Polls feeds. Holds the HTTP session and the parse workers across polls (the daemon keeps one)."""

    def __init__(
        self,
        config: Config,
        store: Store,
        *,
        parse_processes: int | None = None,
        fetcher: Fetcher | None = None,
        jitter: float = 0.0,
    ) -> None:
        self.config = config
        # Feeds polled together would stay in step for ever; the daemon spreads each next poll by up to
        # this fraction of its interval, so load evens out and no host sees bursts.
        self.jitter = jitter
        self.store = store
        self.fetcher = fetcher or Fetcher(config.settings.fetch_limits())
        self._own_fetcher = fetcher is None
        self.parse_processes = (os.cpu_count() or 1) if parse_processes is None else parse_processes
        self._parse_pool: Executor | None = None
        self._pool_lock = threading.Lock()
        self._pool_ready = threading.Event()
        self._warming = False
        self.parse_timeout_s = max(60.0, 2 * config.settings.fetch_timeout_s)
        self._deduplicator: Deduplicator | None = None
        self.stopping = threading.Event()  # set by the daemon on SIGTERM: finish writing, start nothing new

    # -- stories ---------------------------------------------------------------------------------------

    def deduplicator(self, now: datetime) -> Deduplicator:
        """The story window, rebuilt from the store at first use; relevant items a crash left without a
        story (stored, but their stories not) are assigned then."""
        if self._deduplicator is None:
            from .deduplicate import Deduplicator

            settings = story_settings(self.config)
            since = now - settings.retention
            self._deduplicator = Deduplicator(
                self.store.recent_stories(since), self.store.recent_events(since), settings
            )
            leftover = self.store.unstoried_items(since)
            if leftover:
                self.assign_stories(leftover, now)
        return self._deduplicator

    @property
    def window_built(self) -> bool:
        return self._deduplicator is not None

    def recover_unstoried(self, now: datetime) -> None:
        """Before a poll: relevant items a crash left without a story get one now. The window is built only
        when there is such work (or, later, a new relevant item): a poll that stores nothing never pays for
        reading it."""
        if self._deduplicator is None and self.store.unstoried_items(now - STORY_RETENTION):
            self.deduplicator(now)

    def assign_stories(
        self,
        items: list[StoryInput],
        now: datetime,
        sources: list[tuple[int, str]] = (),  # type: ignore[assignment]
    ) -> StoryTally:
        """Assign items to stories and events in publication order; store the outcome in one transaction.

        ``sources`` are (item id, feed name): feeds that now also carry an item word for word.
        """
        tally = StoryTally(relevant_items=len(items))
        if not items and not sources:
            return tally
        deduplicator = self.deduplicator(now)
        assignments = [deduplicator.assign(item) for item in sorted(items, key=lambda i: i.published)]
        in_batch = {a.item.item_id: a.story.id for a in assignments if a.item.item_id is not None}
        extra = self._add_sources(deduplicator, sources, in_batch, now)
        tally.queued = write_assignments(self.store, assignments, now, extra, alert_routes(self.config))
        tally.new_stories = sum(a.new_story for a in assignments)
        decisions = [d for a in assignments for d in a.decisions]
        tally.new_events = sum(d.kind == "new" for d in decisions)
        tally.alerts = sum(d.alert for d in decisions)
        return tally

    def _add_sources(
        self,
        deduplicator: Deduplicator,
        sources: Sequence[tuple[int, str]],
        in_batch: Mapping[int, str],
        now: datetime,
    ) -> list[tuple[Story, tuple[Event, ...], tuple[AlertDecision, ...]]]:
        """Count the outlets of items other feeds carry too (stories of this batch are not stored yet)."""
        if not sources:
            return []
        story_of = dict(in_batch)
        story_of.update(self.store.stories_of_items([i for i, _ in sources if i not in in_batch]))
        changed = []
        for item_id, feed in sources:
            if item_id in story_of:
                outcome = deduplicator.add_source(story_of[item_id], feed, str(item_id), now)
                if outcome is not None:
                    changed.append(outcome)
        return changed

    # -- worker processes ------------------------------------------------------------------------------

    def _worker_args(self) -> tuple[ClassifierConfig, str]:
        return self.config.classifier, f"{self.config.path.name}: [classifier]"

    def _parser(self) -> Executor:
        with self._pool_lock:
            return self._parser_locked()

    def _parser_locked(self) -> Executor:
        if self._parse_pool is None:
            from .worker import WORKER_MODULES, start_worker

            if self.parse_processes <= 0:
                start_worker(*self._worker_args())
                self._parse_pool = InlineExecutor()
            else:
                # forkserver: workers never inherit this process's threads (fetch pool, sockets).
                context = multiprocessing.get_context("forkserver")
                context.set_forkserver_preload(list(WORKER_MODULES))
                self._parse_pool = ProcessPoolExecutor(
                    self.parse_processes,
                    mp_context=context,
                    initializer=start_worker,
                    initargs=(*self._worker_args(), os.getpid()),
                )
                _widen_result_pipe(self._parse_pool)
        return self._parse_pool

    def parser_ready(self) -> bool:
        return self.parse_processes <= 0 or (self._parse_pool is not None and self._pool_ready.is_set())

    def wait_for_parser(self, timeout: float) -> None:
        """Until the workers are ready (see warm_parser), or ``timeout`` seconds."""
        self._pool_ready.wait(timeout)

    def warm_parser(self) -> None:
        """Start the workers in the background (about 0.6 s of imports) while fetching goes on."""
        with self._pool_lock:
            if self._warming or self.parser_ready():
                return
            self._warming = True

        def warm() -> None:
            try:
                self._parser().submit(int).result()
            except Exception:
                pass  # a broken pool shows itself at the next submit, which replaces it
            finally:
                with self._pool_lock:
                    self._warming = False
                self._pool_ready.set()

        threading.Thread(target=warm, name="warm-parser", daemon=True).start()

    def _take_pool(self, wait: float) -> Executor | None:
        """Take the pool away (None: there was none, or the lock stayed held for ``wait`` seconds; -1 waits
        however long)."""
        if not self._pool_lock.acquire(timeout=wait):
            return None
        try:
            pool, self._parse_pool = self._parse_pool, None
            self._pool_ready.clear()
        finally:
            self._pool_lock.release()
        return pool

    def kill_parser(self, wait: float = -1) -> None:
        """A parse ran past its limit: the only way to stop it is to end the worker processes.

        A warming thread holds the lock while it starts the pool (seconds on a loaded host): a caller on its
        way out passes ``wait`` and does not wait longer (workers end by themselves once their owner is gone).
        """
        pool = self._take_pool(wait)
        if isinstance(pool, ProcessPoolExecutor):
            for process in list(getattr(pool, "_processes", {}).values()):
                process.kill()
            pool.shutdown(wait=False, cancel_futures=True)

    def close(self, wait: float = -1) -> None:
        """Shut the parse workers down and close the fetcher. With ``wait`` (seconds), a caller on its way
        out does not wait for workers still starting (seconds of imports on a loaded host): they are
        killed, or left to end with their owner."""
        if wait >= 0 and not self.parser_ready():
            self.kill_parser(wait)
        else:
            pool = self._take_pool(wait)
            if pool is not None:
                pool.shutdown(wait=True, cancel_futures=True)
        if self._own_fetcher:
            self.fetcher.close()

    def __enter__(self) -> Poller:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- the poll --------------------------------------------------------------------------------------

    def poll(
        self,
        now: datetime,
        *,
        names: Collection[str] | None = None,
        force: bool = False,
        progress: PollProgress | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> PollReport:
        started = clock()
        configured = {f.name: f for f in self.config.feeds if f.enabled}
        self.store.sync_feeds([(f.name, f.url) for f in configured.values()], now)
        due = [s for s in self.store.due_feeds(now, names, force=force) if s.name in configured]
        if progress is not None:
            progress.started(len(due))
        self.recover_unstoried(now)
        run = _PollRun(self, configured, now, progress, clock)
        results = run.execute(due)
        return _report(results, clock() - started, run.stories)


def write_assignments(
    store: Store,
    assignments: list[Assignment],
    now: datetime,
    sources: Sequence[tuple[Story, tuple[Event, ...], tuple[AlertDecision, ...]]] = (),
    routes: Sequence[AlertRoute] = (),
) -> int:
    """Store assignments: the latest state of each story and event they touched, members, decisions, and
    the outbox rows of the alerts (same transaction). Returns how many alerts were queued."""
    stories = {a.story.id: a.story for a in assignments}
    events = {event.id: event for a in assignments for event in a.events}
    members = [(a.item.item_id, a.story.id, a.score) for a in assignments if a.item.item_id is not None]
    decisions = [d for a in assignments for d in a.decisions]
    for story, touched, decided in sources:
        stories[story.id] = story
        events.update({event.id: event for event in touched})
        decisions.extend(decided)
    return store.record_stories(
        list(stories.values()), list(events.values()), members, decisions, now, routes
    )


def alert_routes(config: Config) -> list[AlertRoute]:
    """The channels that take immediate alerts, as the store needs them to fill the outbox."""
    return [
        AlertRoute(channel.name, frozenset(channel.events), channel.confirm)
        for channel in config.channels
        if channel.enabled and channel.mode == "immediate"
    ]


def _report(results: list[FeedPollResult], duration_s: float, stories: StoryTally) -> PollReport:
    outcomes = Counter(r.outcome for r in results)
    return PollReport(
        feeds=len(results),
        fetched=outcomes["ok"] + outcomes["unchanged"],
        not_modified=outcomes["not_modified"],
        unchanged=outcomes["unchanged"],
        errors=outcomes["error"],
        new_items=sum(r.new_items for r in results),
        updated_items=sum(r.updated_items for r in results),
        other_source=sum(r.other_source for r in results),
        duration_s=duration_s,
        results=tuple(sorted(results, key=lambda r: r.name)),
        stories=stories,
    )


@dataclass(slots=True)
class _ParseJob:
    state: FeedState
    fetched: FetchResult
    body_hash: str
    submitted: float


def _fetch_and_hash(fetcher: Fetcher, state: FeedState) -> tuple[FetchResult, str | None]:
    """Runs in a fetch thread: the body is hashed here, off the writer's thread (sha256 frees the GIL)."""
    result = fetcher.fetch(state.url, etag=state.etag, last_modified=state.last_modified)
    body_hash = hashlib.sha256(result.body).hexdigest() if result.outcome is FetchOutcome.OK else None
    return result, body_hash


class _HostQueues:
    """Due feeds queued per host, handed out round-robin to hosts below their concurrency limit."""

    def __init__(self, states: list[FeedState], per_host: int) -> None:
        self.per_host = per_host
        self.queues: dict[str, deque[FeedState]] = {}
        for state in states:
            self.queues.setdefault(_host_of(state.url), deque()).append(state)
        self.active: Counter[str] = Counter()
        self.ready: deque[str] = deque(self.queues)  # hosts with work and a free slot

    def __bool__(self) -> bool:
        return any(self.queues.values())

    def take(self) -> tuple[str, FeedState] | None:
        while self.ready:
            host = self.ready.popleft()
            queue = self.queues[host]
            if not queue or self.active[host] >= self.per_host:
                continue  # it re-enters `ready` when one of its fetches finishes
            self.active[host] += 1
            if queue and self.active[host] < self.per_host and len(queue) > 1:
                self.ready.append(host)
            return host, queue.popleft()
        return None

    def release(self, host: str) -> None:
        self.active[host] -= 1
        if self.queues[host] and host not in self.ready:
            self.ready.append(host)


FLUSH_FEEDS = 64  # finished feeds written per transaction at most
FLUSH_ITEMS = 500  # and items: results wait in memory until written (5,000 held 26 MiB more in a cold poll)
FLUSH_AFTER_S = 0.5


class _PollRun:
    """One poll's bookkeeping: the dispatcher loop over fetch and parse futures, and batched writes."""

    def __init__(
        self,
        poller: Poller,
        configured: dict[str, FeedConfig],
        now: datetime,
        progress: PollProgress | None,
        clock: Callable[[], float],
    ) -> None:
        self.poller = poller
        self.store = poller.store
        self.configured = configured
        self.now = now
        self.progress = progress
        self.clock = clock
        self.results: list[FeedPollResult] = []
        self.unwritten: list[tuple[PolledFeed, FeedPollResult]] = []
        self.unwritten_items = 0
        self.last_flush = clock()
        settings = poller.config.settings
        self.workers = settings.workers
        self.per_host = settings.per_host
        self.backlog = PARSE_BACKLOG_JOBS_PER_PROCESS * max(1, poller.parse_processes)
        self.backlog_bytes = 0
        self.waiting: list[tuple[FeedState, FetchResult, str]] = []  # bodies held until the workers are up
        self.stories = StoryTally()

    def interval(self, state: FeedState) -> float:
        interval = self.configured[state.name].interval_s
        if not self.poller.jitter:
            return interval
        # Deterministic per feed and moment (no hidden random state), spread evenly in ±jitter.
        digest = hashlib.blake2b(f"{state.name}\0{self.now.isoformat()}".encode(), digest_size=8).digest()
        spread = int.from_bytes(digest, "big") / 2**64 * 2 - 1
        return interval * (1 + self.poller.jitter * spread)

    def execute(self, due: list[FeedState]) -> list[FeedPollResult]:
        if not due:
            return []
        hosts = _HostQueues(due, self.per_host)
        fetches: dict[Future[tuple[FetchResult, str | None]], tuple[str, FeedState]] = {}
        parses: dict[Future[ParseOutcome], _ParseJob] = {}
        pool = ThreadPoolExecutor(max_workers=self.workers, thread_name_prefix="fetch")
        stopping = self.poller.stopping
        try:
            while hosts or fetches or parses or self.waiting:
                if stopping.is_set():
                    break  # what finished is written below; fetches in flight end at their deadline, unread
                # Fetch while there is room, and while parsing keeps up (fetched bodies wait in memory).
                while (
                    len(fetches) < self.workers
                    and len(parses) + len(self.waiting) < self.backlog
                    and self.backlog_bytes < PARSE_BACKLOG_BYTES
                ):
                    taken = hosts.take()
                    if taken is None:
                        break
                    host, state = taken
                    future = pool.submit(_fetch_and_hash, self.poller.fetcher, state)
                    fetches[future] = (host, state)
                if self.waiting and self.poller.parser_ready():
                    held, self.waiting = self.waiting, []
                    for state, fetched, body_hash in held:
                        self.backlog_bytes -= len(fetched.body or b"")  # counted again on submission
                        self._submit_parse(state, fetched, body_hash, parses)
                pause = 0.05 if self.waiting else 0.5  # look again soon when bodies wait for the workers
                if fetches or parses:
                    done, _ = wait([*fetches, *parses], timeout=pause, return_when=FIRST_COMPLETED)
                else:
                    # Only bodies waiting for the workers to start (the backlog full): wait() on no futures
                    # returns at once, and this loop spun about 200,000 times through a cold poll's start.
                    self.poller.wait_for_parser(pause)
                    done = set()
                for future in done:
                    if future in fetches:
                        host, state = fetches.pop(future)  # type: ignore[call-overload]
                        hosts.release(host)
                        self._fetched(state, *future.result(), parses)  # type: ignore[misc]
                    else:
                        self._parsed(parses.pop(future), future)  # type: ignore[call-overload,arg-type]
                self._expire_parses(parses)
                self._flush(force=False)
        finally:
            pool.shutdown(wait=not stopping.is_set(), cancel_futures=True)
        self._flush(force=True)
        return self.results

    def _submit_parse(
        self,
        state: FeedState,
        fetched: FetchResult,
        body_hash: str,
        parses: dict[Future[ParseOutcome], _ParseJob],
    ) -> None:
        if not self.poller.parser_ready():
            self.poller.warm_parser()
            self.waiting.append((state, fetched, body_hash))
            self.backlog_bytes += len(fetched.body or b"")
            return
        from .worker import parse_and_normalise

        # A feed parsed before has stored items whose verdicts still hold; a new feed has none to look up.
        stored = self.store.stored_versions(state.id) if state.body_hash is not None else {}
        args = (
            parse_and_normalise,
            state.name,
            fetched.body or b"",
            dict(fetched.headers),
            fetched.final_url,
            self.now,
            stored,
        )
        try:
            future = self.poller._parser().submit(*args)
        except BrokenProcessPool:  # a worker died earlier (killed, out of memory): start fresh ones
            self.poller.kill_parser()
            future = self.poller._parser().submit(*args)
        parses[future] = _ParseJob(state, fetched, body_hash, self.clock())
        self.backlog_bytes += len(fetched.body or b"")

    def _fetched(
        self,
        state: FeedState,
        result: FetchResult,
        body_hash: str | None,
        parses: dict[Future[ParseOutcome], _ParseJob],
    ) -> None:
        if result.outcome is FetchOutcome.ERROR:
            assert result.error is not None
            self._failed(state, result, result.error)
        elif result.outcome is FetchOutcome.NOT_MODIFIED:
            self._succeeded(state, result, "not_modified", body_hash=None)
        else:
            assert body_hash is not None
            if body_hash == state.body_hash:
                # A new ETag on an identical body: nothing to parse. New content is decided by content.
                self._succeeded(state, result, "unchanged", body_hash=body_hash)
            else:
                self._submit_parse(state, result, body_hash, parses)

    def _parsed(self, job: _ParseJob, future: Future[ParseOutcome]) -> None:
        self.backlog_bytes -= len(job.fetched.body or b"")
        try:
            outcome = future.result()
        except Exception as exc:  # the worker process died (killed, out of memory)
            from .worker import ParseOutcome

            outcome = ParseOutcome(
                error=f"parser process failed: {type(exc).__name__}", reason="parser_crash"
            )
        if outcome.error is not None:
            error = ParseError(outcome.error, url=job.fetched.final_url, reason=outcome.reason)
            self._failed(job.state, job.fetched, error)
            return
        self._succeeded(job.state, job.fetched, "ok", body_hash=job.body_hash, parsed=outcome)

    def _expire_parses(self, parses: dict[Future[ParseOutcome], _ParseJob]) -> None:
        limit = self.poller.parse_timeout_s
        late = [f for f, job in parses.items() if self.clock() - job.submitted > limit and not f.done()]
        if not late:
            return
        self.poller.kill_parser()
        for future in late:
            job = parses.pop(future)
            self.backlog_bytes -= len(job.fetched.body or b"")
            error = ParseError(
                f"parsing took longer than {limit:.0f} s", url=job.fetched.final_url, reason="parse_timeout"
            )
            self._failed(job.state, job.fetched, error)
        # The other jobs were on the killed workers too: run them again on fresh ones.
        for future, job in list(parses.items()):
            parses.pop(future)
            self.backlog_bytes -= len(job.fetched.body or b"")
            self._submit_parse(job.state, job.fetched, job.body_hash, parses)

    def _succeeded(
        self,
        state: FeedState,
        result: FetchResult,
        outcome: str,
        *,
        body_hash: str | None,
        parsed: ParseOutcome | None = None,
    ) -> None:
        new_state = after_success(
            state,
            result,
            now=self.now,
            interval_s=self.interval(state),
            body_hash=body_hash,
            problem=parsed.problem if parsed else None,
            parsed=parsed is not None,
        )
        log = FetchLogEntry(
            feed_id=state.id,
            started_at=self.now,
            duration_s=result.duration_s,
            outcome=outcome,
            status=result.status,
            bytes=result.bytes_read,
            error=parsed.problem if parsed else None,
        )
        summary = FeedPollResult(
            name=state.name,
            outcome=outcome,
            status=result.status,
            entries=parsed.entries if parsed else 0,
            parser=parsed.parser if parsed else None,
            problem=parsed.problem if parsed else None,
            duration_s=result.duration_s,
        )
        polled = (
            PolledFeed(new_state, log, parsed.items, parsed.verdicts, parsed.terms)
            if parsed
            else PolledFeed(new_state, log)
        )
        self._finish(polled, summary)

    def _failed(self, state: FeedState, result: FetchResult, error: FeedError) -> None:
        new_state = after_failure(
            state, error, now=self.now, interval_s=self.interval(state), status=result.status
        )
        log = FetchLogEntry(
            feed_id=state.id,
            started_at=self.now,
            duration_s=result.duration_s,
            outcome="error",
            status=result.status,
            reason=error.reason,
            bytes=result.bytes_read,
            error=str(error),
        )
        summary = FeedPollResult(
            name=state.name,
            outcome="error",
            status=result.status,
            error=str(error),
            reason=error.reason,
            duration_s=result.duration_s,
        )
        self._finish(PolledFeed(new_state, log), summary)

    def _finish(self, polled: PolledFeed, summary: FeedPollResult) -> None:
        self.unwritten.append((polled, summary))
        self.unwritten_items += len(polled.items)

    def _assign_stories(
        self, batch: list[tuple[PolledFeed, FeedPollResult]], saved: list[SaveResult]
    ) -> None:
        items: list[StoryInput] = []
        for (polled, _), result in zip(batch, saved, strict=True):
            if not result.new_relevant:
                continue
            terms = polled.terms or (None,) * len(polled.items)
            by_key = {
                item.key: (item, verdict, words)
                for item, verdict, words in zip(polled.items, polled.verdicts, terms, strict=False)
                if verdict is not None
            }
            for key, item_id in result.new_relevant:
                item, verdict, words = by_key[key]
                items.append(
                    StoryInput(
                        key=str(item_id),
                        source=polled.state.name,
                        title=item.title,
                        summary=item.summary,
                        published=item.published,
                        events=verdict.events,
                        item_id=item_id,
                        terms=words,
                    )
                )
        sources = [
            (item_id, polled.state.name)
            for (polled, _), result in zip(batch, saved, strict=True)
            for _, item_id in result.new_sources
        ]
        tally = self.poller.assign_stories(items, self.now, sources)
        self.stories.relevant_items += tally.relevant_items
        self.stories.new_stories += tally.new_stories
        self.stories.new_events += tally.new_events
        self.stories.alerts += tally.alerts
        self.stories.queued += tally.queued

    def _flush(self, *, force: bool) -> None:
        """Write finished feeds in one transaction: when many are waiting, after a while, or at the end."""
        if not self.unwritten:
            return
        due = (
            force
            or len(self.unwritten) >= FLUSH_FEEDS
            or self.unwritten_items >= FLUSH_ITEMS
            or self.clock() - self.last_flush >= FLUSH_AFTER_S
        )
        if not due:
            return
        batch, self.unwritten, self.unwritten_items = self.unwritten, [], 0
        if not self.poller.window_built and any(
            verdict is not None and verdict.relevant for polled, _ in batch for verdict in polled.verdicts
        ):
            # Read the story window before these items are stored, or it would take them for leftovers.
            self.poller.deduplicator(self.now)
        saved = self.store.record_polled([polled for polled, _ in batch], self.now)
        self._assign_stories(batch, saved)
        self.last_flush = self.clock()
        for (_, summary), result in zip(batch, saved, strict=True):
            done = replace(
                summary, new_items=result.new, updated_items=result.updated, other_source=result.other_source
            )
            self.results.append(done)
            if self.progress is not None:
                self.progress.feed_done(done)

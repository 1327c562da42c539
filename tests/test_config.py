"""aggregator.config: feeds.toml → typed settings; each error names the file, the key path and the problem."""

from __future__ import annotations

import math
import os
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from aggregator import USER_AGENT
from aggregator.config import (
    _FEED_KEYS,
    _SETTINGS_KEYS,
    DEFAULT_DATABASE,
    Config,
    FeedConfig,
    Settings,
    describe_config,
    format_duration,
    format_size,
    load_config,
    parse_duration,
    parse_size,
)
from aggregator.errors import ConfigError
from aggregator.models import FetchLimits

REPO = Path(__file__).resolve().parents[1]

ONE_FEED = """
[[feeds]]
name = "example"
url = "https://example.org/rss"
"""


def write(directory: Path, text: str, name: str = "feeds.toml") -> Path:
    path = directory / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def config_error(path: Path | str, env: dict[str, str] | None = None) -> ConfigError:
    with pytest.raises(ConfigError) as caught:
        load_config(path, env=env if env is not None else {})
    return caught.value


def settings_error(tmp_path: Path, settings: str, env: dict[str, str] | None = None) -> ConfigError:
    """The error for a [settings] body next to one valid feed."""
    return config_error(write(tmp_path, f"[settings]\n{settings}\n{ONE_FEED}"), env)


def feed_error(tmp_path: Path, feed: str) -> ConfigError:
    """The error for a feed table body that comes second, after one valid feed (so it is feeds[1])."""
    return config_error(write(tmp_path, f"{ONE_FEED}\n[[feeds]]\n{feed}\n"))


# --- the default configuration -----------------------------------------------------------------------


def test_the_default_feeds_toml_loads_with_settings_at_their_defaults() -> None:
    config = load_config(REPO / "feeds.toml", env={})

    expected = Settings(database=f"sqlite:///{REPO}/var/aggregator.db")
    assert config.settings == expected
    assert 10 <= len(config.feeds) <= 20
    assert all(feed.url.startswith("https://") and feed.enabled for feed in config.feeds)
    assert len({feed.name.casefold() for feed in config.feeds}) == len(config.feeds)
    assert any(feed.url.startswith("https://news.google.com/rss/search?") for feed in config.feeds)


def test_the_default_feeds_toml_mentions_every_settings_key() -> None:
    text = (REPO / "feeds.toml").read_text(encoding="utf-8")
    for key in (*_SETTINGS_KEYS, *_FEED_KEYS):  # a new key fails here until the file teaches it
        assert f"{key} =" in text, key


# --- valid configurations ----------------------------------------------------------------------------

FULL = """
[settings]
database = "sqlite:////srv/aggregator/items.db"
poll_interval = "20m"
allow_private_networks = true
fetch_timeout = "45s"
connect_timeout = "5s"
max_feed_size = "2MiB"
workers = 8
per_host = 2
item_retention = "forever"
fetch_log_retention = "1w"
user_agent = "test-agent/1.0"
corroborate_weak = false

[[feeds]]
name = "Kyiv Independent"
url = "https://kyivindependent.com/rss/"
interval = "1h30m"

[[feeds]]
name = "tass"
url = "http://tass.com/rss/v2.xml"
enabled = false
"""


def test_a_full_configuration_round_trips_into_typed_values(tmp_path: Path) -> None:
    path = write(tmp_path, FULL)

    config = load_config(path, env={})

    assert config == Config(
        path=path,
        settings=Settings(
            database="sqlite:////srv/aggregator/items.db",
            poll_interval_s=1200.0,
            allow_private_networks=True,
            fetch_timeout_s=45.0,
            connect_timeout_s=5.0,
            max_feed_bytes=2 * 1024 * 1024,
            workers=8,
            per_host=2,
            item_retention_s=None,
            fetch_log_retention_s=7 * 86400.0,
            user_agent="test-agent/1.0",
            corroborate_weak=False,
        ),
        feeds=(
            FeedConfig(name="Kyiv Independent", url="https://kyivindependent.com/rss/", interval_s=5400.0),
            FeedConfig(name="tass", url="http://tass.com/rss/v2.xml", interval_s=1200.0, enabled=False),
        ),
    )


def test_a_minimal_configuration_takes_every_default(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, ONE_FEED), env={})

    assert config.settings == Settings(database=f"sqlite:///{tmp_path}/var/aggregator.db")
    assert config.settings.user_agent == USER_AGENT
    assert config.settings.item_retention_s == 90 * 86400
    assert config.feeds == (FeedConfig(name="example", url="https://example.org/rss", interval_s=900.0),)


def test_a_feed_without_interval_takes_the_configured_poll_interval(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, f'[settings]\npoll_interval = "2h"\n{ONE_FEED}'), env={})

    assert config.feeds[0].interval_s == 7200.0


def test_config_path_is_absolute_and_errors_name_the_file_as_given(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(tmp_path / "conf", ONE_FEED)
    write(tmp_path / "bad", "[settings]\nworkers = 0\n" + ONE_FEED)
    monkeypatch.chdir(tmp_path)

    assert load_config("conf/feeds.toml", env={}).path == tmp_path / "conf" / "feeds.toml"
    expected = "bad/feeds.toml: settings.workers: 0 is out of range (1 to 256)"
    assert str(config_error("bad/feeds.toml")) == expected


def test_all_feeds_disabled_is_allowed(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, ONE_FEED + "enabled = false\n"), env={})

    assert [feed.enabled for feed in config.feeds] == [False]


def test_a_byte_order_mark_is_tolerated(tmp_path: Path) -> None:
    path = tmp_path / "feeds.toml"
    path.write_bytes(b"\xef\xbb\xbf" + ONE_FEED.encode())

    assert load_config(path, env={}).feeds[0].name == "example"


def test_config_feed_finds_by_name_and_names_a_missing_feed(tmp_path: Path) -> None:
    path = write(tmp_path, FULL)
    config = load_config(path, env={})

    assert config.feed("tass").url == "http://tass.com/rss/v2.xml"
    with pytest.raises(ConfigError) as caught:
        config.feed("tas")
    assert str(caught.value) == f'{path}: feeds: no feed named "tas" (did you mean tass?)'
    assert caught.value.key == "feeds"


def test_fetch_limits_carry_the_settings(tmp_path: Path) -> None:
    settings = load_config(write(tmp_path, FULL), env={}).settings

    assert settings.fetch_limits() == FetchLimits(
        timeout_s=45.0, connect_timeout_s=5.0, max_bytes=2 * 1024 * 1024, allow_private_networks=True,
        user_agent="test-agent/1.0",
    )  # fmt: skip


# --- reading the file --------------------------------------------------------------------------------


def test_a_missing_file_is_named(tmp_path: Path) -> None:
    error = config_error(tmp_path / "nope.toml")

    assert str(error) == f"{tmp_path / 'nope.toml'}: file not found"
    assert (error.file, error.key) == (str(tmp_path / "nope.toml"), "")


def test_a_directory_is_not_a_config_file(tmp_path: Path) -> None:
    assert str(config_error(tmp_path)) == f"{tmp_path}: is a directory, not a file"


def test_a_path_through_a_file_cannot_be_read(tmp_path: Path) -> None:
    path = write(tmp_path, ONE_FEED) / "feeds.toml"

    assert str(config_error(path)) == f"{path}: cannot read the file: Not a directory"


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root reads any file")
def test_an_unreadable_file_is_named(tmp_path: Path) -> None:
    path = write(tmp_path, ONE_FEED)
    path.chmod(0)

    assert str(config_error(path)) == f"{path}: cannot read the file: permission denied"


def test_a_toml_syntax_error_gives_line_and_column(tmp_path: Path) -> None:
    path = write(tmp_path, "[settings]\nworkers = 4\npoll_interval = ?\n")

    error = config_error(path)

    assert str(error) == f"{path}: TOML syntax error at line 3, column 17: Invalid value"
    assert error.key == ""


def test_a_toml_duplicate_key_is_a_syntax_error(tmp_path: Path) -> None:
    path = write(tmp_path, "[settings]\nworkers = 4\nworkers = 5\n")

    expected = f"{path}: TOML syntax error at line 3, column 12: Cannot overwrite a value"
    assert str(config_error(path)) == expected


def test_text_that_is_not_utf8_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "feeds.toml"
    path.write_bytes(b'[settings]\nuser_agent = "caf\xe9"\n')

    assert str(config_error(path)) == f"{path}: not UTF-8 text (bad byte at line 2, column 18)"


# --- unknown keys ------------------------------------------------------------------------------------


def test_a_misspelt_settings_key_is_an_error_with_a_suggestion(tmp_path: Path) -> None:
    error = settings_error(tmp_path, 'pol_interval = "15m"')

    problem = "unknown key (did you mean poll_interval?)"
    assert str(error) == f"{tmp_path / 'feeds.toml'}: settings.pol_interval: {problem}"
    assert (error.key, error.problem) == ("settings.pol_interval", problem)


def test_an_unknown_key_unlike_any_known_one_has_no_suggestion(tmp_path: Path) -> None:
    assert settings_error(tmp_path, "colour = 3").problem == "unknown key"


def test_a_misspelt_feed_key_names_the_feed_by_index(tmp_path: Path) -> None:
    error = feed_error(tmp_path, 'name = "b"\nurl = "https://b.example/"\nintervall = "5m"')

    assert (error.key, error.problem) == ("feeds[1].intervall", "unknown key (did you mean interval?)")


@pytest.mark.parametrize(
    ("document", "key", "problem"),
    [
        ("[setings]\nworkers = 2\n", "setings", "unknown table (did you mean settings?)"),
        ('[[feed]]\nname = "x"\n', "feed", "unknown table (did you mean feeds?)"),
        ('[classifer]\nrules = "x"\n', "classifer", "unknown table (did you mean classifier?)"),
        ('poll_interval = "15m"\n', "poll_interval", "unknown key"),
    ],
)
def test_unknown_top_level_tables_and_keys_are_errors(
    tmp_path: Path, document: str, key: str, problem: str
) -> None:
    error = config_error(write(tmp_path, document + ONE_FEED))

    assert (error.key, error.problem) == (key, problem)


def test_a_database_env_key_is_known_but_other_env_keys_are_not(tmp_path: Path) -> None:
    error = feed_error(tmp_path, 'name = "b"\nurl_env = "FEED_URL"')

    assert str(error).splitlines()[0].endswith("feeds[1].url_env: unknown key (did you mean url?)")


# --- wrong types -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("settings", "key", "problem"),
    [
        ('allow_private_networks = "no"', "allow_private_networks", 'expected true or false, got "no"'),
        ("allow_private_networks = 1", "allow_private_networks", "expected true or false, got 1"),
        ("workers = true", "workers", "expected an integer, got true"),  # TOML true is a Python int
        ("workers = 1.5", "workers", "expected an integer, got 1.5"),
        ('workers = "16"', "workers", 'expected an integer, got "16"'),
        ("per_host = false", "per_host", "expected an integer, got false"),
        ("poll_interval = 900", "poll_interval", "900 needs a unit: write it as a string (use 30s, 15m, 2h)"),
        ("poll_interval = true", "poll_interval", "expected a duration (use 30s, 15m, 2h), got true"),
        ("fetch_timeout = [1]", "fetch_timeout", "expected a duration (use 30s, 15m, 2h), got an array"),
        ("connect_timeout = 2024-01-01", "connect_timeout",
         "expected a duration (use 30s, 15m, 2h), got a date/time (2024-01-01)"),
        ("max_feed_size = true", "max_feed_size",
         "expected a size (use 500KB, 10MiB, 1GiB or a number of bytes), got true"),
        ("max_feed_size = 1.5", "max_feed_size",
         "expected a size (use 500KB, 10MiB, 1GiB or a number of bytes), got 1.5"),
        ("user_agent = 5", "user_agent", "expected a string, got 5"),
        ('corroborate_weak = "yes"', "corroborate_weak", 'expected true or false, got "yes"'),
        ("user_agent = {a = 1}", "user_agent", "expected a string, got a table"),
        ("database = 1", "database", "expected a string, got 1"),
        ("item_retention = 30", "item_retention", "30 needs a unit: write it as a string (use 30s, 15m, 2h)"),
    ],
)  # fmt: skip
def test_a_value_of_the_wrong_type_is_an_error(tmp_path: Path, settings: str, key: str, problem: str) -> None:
    error = settings_error(tmp_path, settings)

    assert (error.key, error.problem) == (f"settings.{key}", problem)
    assert str(error) == f"{tmp_path / 'feeds.toml'}: settings.{key}: {problem}"


@pytest.mark.parametrize(
    ("feed", "key", "problem"),
    [
        ('name = 5\nurl = "https://b.example/"', "name", "expected a string, got 5"),
        ('name = "b"\nurl = ["https://b.example/"]', "url", "expected a string, got an array"),
        ('name = "b"\nurl = "https://b.example/"\nenabled = "yes"', "enabled",
         'expected true or false, got "yes"'),
        ('name = "b"\nurl = "https://b.example/"\ninterval = 600', "interval",
         "600 needs a unit: write it as a string (use 30s, 15m, 2h)"),
        ('name = "b"\nurl = "https://b.example/"\ninterval = "5x"', "interval",
         '"5x" is not a duration (use 30s, 15m, 2h)'),
    ],
)  # fmt: skip
def test_a_feed_value_of_the_wrong_type_is_an_error(
    tmp_path: Path, feed: str, key: str, problem: str
) -> None:
    error = feed_error(tmp_path, feed)

    assert str(error) == f"{tmp_path / 'feeds.toml'}: feeds[1].{key}: {problem}"


@pytest.mark.parametrize(
    ("document", "key", "problem"),
    [
        ("settings = 5\n" + ONE_FEED, "settings", "expected a table ([settings]), got 5"),
        ('feeds = "https://example.org/rss"\n', "feeds",
         'expected an array of tables ([[feeds]]), got "https://example.org/rss"'),
        ("[feeds]\nname = 'x'\n", "feeds", "expected an array of tables ([[feeds]]), got a table"),
        ('feeds = ["https://example.org/rss"]\n', "feeds[0]", 'expected a table, got "https://example.org/rss"'),
    ],
)  # fmt: skip
def test_a_section_of_the_wrong_shape_is_an_error(
    tmp_path: Path, document: str, key: str, problem: str
) -> None:
    error = config_error(write(tmp_path, document))

    assert (error.key, error.problem) == (key, problem)


# --- ranges ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("settings", "key", "problem"),
    [
        ("workers = 0", "workers", "0 is out of range (1 to 256)"),
        ("workers = 257", "workers", "257 is out of range (1 to 256)"),
        ("workers = -3", "workers", "-3 is out of range (1 to 256)"),
        ("per_host = 0", "per_host", "0 is out of range (1 to 64)"),
        ("per_host = 65", "per_host", "65 is out of range (1 to 64)"),
        ('poll_interval = "9s"', "poll_interval", '"9s" is shorter than the minimum of 10s'),
        ('poll_interval = "0s"', "poll_interval", '"0s" must be longer than zero'),
        ('fetch_timeout = "0s"', "fetch_timeout", '"0s" must be longer than zero'),
        ('connect_timeout = "0m"', "connect_timeout", '"0m" must be longer than zero'),
        ('fetch_log_retention = "0d"', "fetch_log_retention", '"0d" must be longer than zero'),
        ('item_retention = "0s"', "item_retention", '"0s" must be longer than zero'),
        ('item_retention = "never"', "item_retention",
         '"never" is not a duration or "forever" (use 90d, 12w)'),
        ("max_feed_size = 0", "max_feed_size", "0 must be more than zero bytes"),
        ('max_feed_size = "0MiB"', "max_feed_size", '"0MiB" must be more than zero bytes'),
        ("max_feed_size = -1", "max_feed_size", "-1 must be more than zero bytes"),
        ('max_feed_size = "10XB"', "max_feed_size",
         '"10XB" is not a size (use 500KB, 10MiB, 1GiB or a number of bytes)'),
        ('user_agent = ""', "user_agent", "must not be empty"),
        ('user_agent = "a\\r\\nX-Evil: 1"', "user_agent",
         '"a\\r\\nX-Evil: 1" contains a control character (newline, tab...)'),
        ('user_agent = "агрегатор"', "user_agent", '"агрегатор" contains non-ASCII characters'),
    ],
)  # fmt: skip
def test_a_value_out_of_range_is_an_error(tmp_path: Path, settings: str, key: str, problem: str) -> None:
    error = settings_error(tmp_path, settings)

    assert (error.key, error.problem) == (f"settings.{key}", problem)


@pytest.mark.parametrize(
    ("settings", "field", "value"),
    [
        ("workers = 1", "workers", 1),
        ("workers = 256", "workers", 256),
        ("per_host = 1", "per_host", 1),
        ("per_host = 64", "per_host", 64),
        ('poll_interval = "10s"', "poll_interval_s", 10.0),
        ('fetch_timeout = "0.5s"', "fetch_timeout_s", 0.5),
        ("max_feed_size = 1", "max_feed_bytes", 1),
        ('max_feed_size = "500KB"', "max_feed_bytes", 500_000),
    ],
)
def test_values_at_the_edges_of_their_range_are_accepted(
    tmp_path: Path, settings: str, field: str, value: object
) -> None:
    config = load_config(write(tmp_path, f"[settings]\n{settings}\n{ONE_FEED}"), env={})

    assert getattr(config.settings, field) == value


def test_a_feed_interval_under_ten_seconds_is_an_error(tmp_path: Path) -> None:
    error = feed_error(tmp_path, 'name = "b"\nurl = "https://b.example/"\ninterval = "5s"')

    assert (error.key, error.problem) == ("feeds[1].interval", '"5s" is shorter than the minimum of 10s')


# --- feeds -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("document", ["", "feeds = []\n", "[settings]\nworkers = 2\n"])
def test_no_feeds_at_all_is_an_error_naming_feeds(tmp_path: Path, document: str) -> None:
    error = config_error(write(tmp_path, document))

    assert error.key == "feeds"
    assert error.problem == "no feeds configured: nothing to watch (add a [[feeds]] table with name and url)"


@pytest.mark.parametrize(
    ("name", "problem"),
    [
        ('""', "must not be empty"),
        ('"   "', "must not be empty"),
        ('" bbc"', '" bbc" has leading or trailing spaces'),
        ('"a\\tb"', '"a\\tb" contains a control character (newline, tab...)'),
    ],
)
def test_an_empty_or_padded_feed_name_is_an_error(tmp_path: Path, name: str, problem: str) -> None:
    error = feed_error(tmp_path, f'name = {name}\nurl = "https://b.example/"')

    assert (error.key, error.problem) == ("feeds[1].name", problem)


def test_name_and_url_are_required(tmp_path: Path) -> None:
    error = feed_error(tmp_path, 'interval = "1h"')

    assert str(error).splitlines()[1:] == [
        f"{tmp_path / 'feeds.toml'}: feeds[1].url: missing (required)",
    ]
    assert (error.key, error.problem) == ("feeds[1].name", "missing (required)")


@pytest.mark.parametrize("second", ['"example"', '"EXAMPLE"'])
def test_duplicate_feed_names_are_an_error_ignoring_case(tmp_path: Path, second: str) -> None:
    error = feed_error(tmp_path, f'name = {second}\nurl = "https://other.example/"')

    assert (error.key, error.problem) == ("feeds[1].name", f"{second} is already the name of feeds[0]")


def test_a_duplicate_name_is_reported_even_when_the_feed_has_other_problems(tmp_path: Path) -> None:
    error = feed_error(tmp_path, 'name = "example"\nurl = "ftp://x/"')

    assert [line.split(": ", 1)[1] for line in str(error).splitlines()] == [
        'feeds[1].name: "example" is already the name of feeds[0]',
        'feeds[1].url: "ftp://x/" is not an http or https URL',
    ]


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("ftp://example.org/rss", '"ftp://example.org/rss" is not an http or https URL'),
        ("example.org/rss", '"example.org/rss" is not an http or https URL'),
        ("javascript:alert(1)", '"javascript:alert(1)" is not an http or https URL'),
        ("file:///etc/passwd", '"file:///etc/passwd" is not an http or https URL'),
        ("https://", '"https://" has no host'),
        ("http:///rss", '"http:///rss" has no host'),
        ("https://example.org:99999/rss", '"https://example.org:99999/rss" is not a valid URL'),
        ("https://example.org/a b", '"https://example.org/a b" contains spaces (percent-encode them as %20)'),
        ("", "must not be empty"),
    ],
)
def test_a_bad_feed_url_is_an_error(tmp_path: Path, url: str, problem: str) -> None:
    error = feed_error(tmp_path, f'name = "b"\nurl = "{url}"')

    assert (error.key, error.problem) == ("feeds[1].url", problem)


@pytest.mark.parametrize(
    "url",
    ["HTTPS://Example.ORG/rss", "http://[2001:db8::1]:8080/feed.xml", "https://user@example.org/x?q=1#f"],
)
def test_unusual_but_valid_feed_urls_are_accepted(tmp_path: Path, url: str) -> None:
    config = load_config(write(tmp_path, f'[[feeds]]\nname = "b"\nurl = "{url}"\n'), env={})

    assert config.feeds[0].url == url


# --- every problem at once ---------------------------------------------------------------------------


def test_every_problem_is_listed_one_per_line_and_the_first_is_the_key(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
[settings]
pol_interval = "15m"
workers = 0

[[feeds]]
name = "a"
url = "https://a.example/"

[[feeds]]
name = "b"
url = "https://b.example/"

[[feeds]]
name = "c"
url = "https://c.example/"

[[feeds]]
name = "d"
url = "https://d.example/"
interval = "5x"
""",
    )

    error = config_error(path)

    assert str(error).splitlines() == [
        f"{path}: settings.pol_interval: unknown key (did you mean poll_interval?)",
        f"{path}: settings.workers: 0 is out of range (1 to 256)",
        f'{path}: feeds[3].interval: "5x" is not a duration (use 30s, 15m, 2h)',
    ]
    assert (error.file, error.key, error.problem) == (
        str(path),
        "settings.pol_interval",
        "unknown key (did you mean poll_interval?)",
    )


# --- secrets from the environment --------------------------------------------------------------------


def test_database_env_reads_the_named_variable(tmp_path: Path) -> None:
    url = "postgresql+psycopg://bob:s3cret@db.internal/aggregator"
    path = write(tmp_path, f'[settings]\ndatabase_env = "AGG_DB"\n{ONE_FEED}')

    assert load_config(path, env={"AGG_DB": url}).settings.database == url


def test_database_env_defaults_to_the_process_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AGG_TEST_DB", "sqlite:////srv/from-environ.db")
    path = write(tmp_path, f'[settings]\ndatabase_env = "AGG_TEST_DB"\n{ONE_FEED}')

    assert load_config(path).settings.database == "sqlite:////srv/from-environ.db"


def test_the_environment_overrides_nothing_implicitly(tmp_path: Path) -> None:
    path = write(tmp_path, ONE_FEED)

    config = load_config(path, env={"AGGREGATOR_DATABASE_URL": "postgresql://x/y"})

    assert config.settings.database == f"sqlite:///{tmp_path}/var/aggregator.db"


@pytest.mark.parametrize(
    ("settings", "env", "key", "problem"),
    [
        ('database_env = "AGG_DB"', {}, "database_env", "environment variable AGG_DB is not set"),
        ('database_env = "AGG_DB"', {"AGG_DB": ""}, "database_env", "environment variable AGG_DB is empty"),
        ('database_env = "AGG_DB"', {"AGG_DB": "  "}, "database_env", "environment variable AGG_DB is empty"),
        ('database = "sqlite://"\ndatabase_env = "AGG_DB"', {"AGG_DB": "sqlite://"}, "database_env",
         "set either database or database_env, not both"),
        ('database_env = "AGG DB"', {}, "database_env", '"AGG DB" is not an environment variable name'),
        ("database_env = 3", {}, "database_env", "expected the name of an environment variable, got 3"),
    ],
)  # fmt: skip
def test_database_env_problems_name_the_key_and_the_variable(
    tmp_path: Path, settings: str, env: dict[str, str], key: str, problem: str
) -> None:
    error = settings_error(tmp_path, settings, env)

    assert (error.key, error.problem) == (f"settings.{key}", problem)


def test_a_bad_url_from_the_environment_is_reported_without_echoing_it(tmp_path: Path) -> None:
    error = settings_error(tmp_path, 'database_env = "AGG_DB"', {"AGG_DB": "not a url hunter2"})

    assert error.key == "settings.database_env"
    assert error.problem == "the value of AGG_DB is not a database URL (e.g. sqlite:///var/aggregator.db)"
    assert "hunter2" not in str(error)


# --- the database URL --------------------------------------------------------------------------------


def test_a_relative_sqlite_path_is_relative_to_the_config_file_not_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(
        tmp_path / "etc" / "aggregator", f'[settings]\ndatabase = "sqlite:///var/x.db?timeout=20"\n{ONE_FEED}'
    )
    (tmp_path / "elsewhere").mkdir()
    monkeypatch.chdir(tmp_path / "elsewhere")

    config = load_config("../etc/aggregator/feeds.toml", env={})

    assert config.settings.database == f"sqlite:///{tmp_path}/etc/aggregator/var/x.db?timeout=20"


def test_the_default_database_is_next_to_the_config_file(tmp_path: Path) -> None:
    assert DEFAULT_DATABASE == "sqlite:///var/aggregator.db"
    assert load_config(write(tmp_path, ONE_FEED), env={}).settings.database == (
        f"sqlite:///{tmp_path}/var/aggregator.db"
    )


@pytest.mark.parametrize(
    "database",
    [
        "sqlite:////var/lib/aggregator/items.db",
        "sqlite://",
        "sqlite:///:memory:",
        "sqlite+pysqlite:////abs/items.db",
        "sqlite:///file:items.db?mode=ro&uri=true",
        "postgresql+psycopg://bob:p%40ss@db.example:5432/aggregator?sslmode=require",
        "mysql://user@localhost/agg",
    ],
)
def test_other_database_urls_are_kept_exactly(tmp_path: Path, database: str) -> None:
    path = write(tmp_path, f'[settings]\ndatabase = "{database}"\n{ONE_FEED}')

    assert load_config(path, env={}).settings.database == database


def test_a_relative_path_with_a_driver_is_anchored_too(tmp_path: Path) -> None:
    path = write(tmp_path, f'[settings]\ndatabase = "sqlite+pysqlite:///items.db"\n{ONE_FEED}')

    assert load_config(path, env={}).settings.database == f"sqlite+pysqlite:///{tmp_path}/items.db"


@pytest.mark.parametrize(
    ("database", "problem"),
    [
        ("nonsense", '"nonsense" is not a database URL (e.g. sqlite:///var/aggregator.db)'),
        ("postgress://bob:hunter2@db/x", '"postgress://bob:***@db/x": unknown database type "postgress"'),
        ("", "must not be empty"),
    ],
)
def test_a_bad_database_url_is_an_error(tmp_path: Path, database: str, problem: str) -> None:
    error = settings_error(tmp_path, f'database = "{database}"')

    assert (error.key, error.problem) == ("settings.database", problem)
    assert "hunter2" not in str(error)


# --- describe_config ---------------------------------------------------------------------------------


def test_describe_config_summarises_path_database_settings_and_feeds(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
[settings]
database_env = "AGG_DB"
item_retention = "forever"
max_feed_size = "500KB"

[[feeds]]
name = "kyiv"
url = "https://kyivindependent.com/rss/"
interval = "1h30m"

[[feeds]]
name = "private"
url = "https://reader:topsecret@feeds.example/rss"
enabled = false
""",
    )
    config = load_config(path, env={"AGG_DB": "postgresql://bob:hunter2@db/agg"})

    text = describe_config(config)

    assert text.splitlines() == [
        f"config: {path}",
        "database: postgresql://bob:***@db/agg",
        "settings:",
        "  poll_interval = 15m",
        "  allow_private_networks = false",
        "  fetch_timeout = 30s",
        "  connect_timeout = 10s",
        "  max_feed_size = 500KB",
        "  workers = 16",
        "  per_host = 4",
        "  item_retention = forever",
        "  fetch_log_retention = 30d",
        f"  user_agent = {USER_AGENT}",
        "  corroborate_weak = true",
        "feeds: 2 (1 enabled)",
        "  kyiv     every 1h30m   https://kyivindependent.com/rss/",
        "  private  every 15m     https://reader:***@feeds.example/rss  (disabled)",
        "channels: 0",
    ]
    assert "hunter2" not in text and "topsecret" not in text


def test_describe_config_of_the_default_file_lists_every_feed() -> None:
    config = load_config(REPO / "feeds.toml", env={})

    lines = describe_config(config).splitlines()

    assert lines[0] == f"config: {REPO / 'feeds.toml'}"
    for feed in config.feeds:
        assert any(line.split()[:1] == [feed.name] and line.endswith(feed.url) for line in lines), feed.name


# --- durations and sizes -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("30s", 30.0), ("15m", 900.0), ("2h", 7200.0), ("1d", 86400.0), ("2w", 1_209_600.0),
        ("1h30m", 5400.0), ("1d2h3m4s", 93784.0), ("1h 30m", 5400.0), (" 15m ", 900.0),
        ("1.5h", 5400.0), ("0.5s", 0.5), ("0s", 0.0), ("90m", 5400.0),
    ],
)  # fmt: skip
def test_parse_duration_reads_units(text: str, seconds: float) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("90", '"90" needs a unit (use 30s, 15m, 2h)'),
        ("1.5", '"1.5" needs a unit (use 30s, 15m, 2h)'),
        ("5x", '"5x" is not a duration (use 30s, 15m, 2h)'),
        ("15M", '"15M" is not a duration (use 30s, 15m, 2h)'),
        ("", '"" is not a duration (use 30s, 15m, 2h)'),
        ("m", '"m" is not a duration (use 30s, 15m, 2h)'),
        ("-5m", '"-5m" is not a duration (use 30s, 15m, 2h)'),
        ("1h30", '"1h30" is not a duration (use 30s, 15m, 2h)'),
        ("30m1h", '"30m1h" is not a duration (units largest first, each once: 1h30m)'),
        ("1h1h", '"1h1h" is not a duration (units largest first, each once: 1h30m)'),
        ("1e3s", '"1e3s" is not a duration (use 30s, 15m, 2h)'),
    ],
)
def test_parse_duration_refuses_what_is_not_a_duration(text: str, message: str) -> None:
    with pytest.raises(ValueError) as caught:
        parse_duration(text)
    assert str(caught.value) == message


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(900, "15m"), (5400, "1h30m"), (0, "0s"), (59, "59s"), (86400, "1d"), (90 * 86400, "90d"),
     (93784, "1d2h3m4s"), (0.5, "0.5s"), (1e-05, "0.00001s"), (90.25, "90.25s")],
)  # fmt: skip
def test_format_duration_writes_the_shortest_form(seconds: float, text: str) -> None:
    assert format_duration(seconds) == text


@pytest.mark.parametrize("seconds", [-1, math.inf, math.nan])
def test_format_duration_refuses_what_has_no_duration(seconds: float) -> None:
    with pytest.raises(ValueError):
        format_duration(seconds)


@given(st.integers(min_value=0, max_value=10**12))
def test_whole_second_durations_round_trip(seconds: int) -> None:
    assert parse_duration(format_duration(seconds)) == seconds


@given(st.floats(min_value=0, max_value=1e15, allow_nan=False, allow_infinity=False))
def test_any_finite_duration_round_trips_exactly(seconds: float) -> None:
    assert parse_duration(format_duration(seconds)) == seconds


@pytest.mark.parametrize(
    ("text", "size"),
    [
        ("10MiB", 10 * 1024 * 1024), ("500KB", 500_000), ("1GiB", 1024**3), ("2048", 2048), ("2048B", 2048),
        ("1.5MiB", 1_572_864), ("0.3KB", 300), ("10 mib", 10 * 1024 * 1024), ("1gb", 10**9), (" 7kib ", 7168),
    ],
)  # fmt: skip
def test_parse_size_reads_units(text: str, size: int) -> None:
    assert parse_size(text) == size


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("10XB", '"10XB" is not a size (use 500KB, 10MiB, 1GiB or a number of bytes)'),
        ("", '"" is not a size (use 500KB, 10MiB, 1GiB or a number of bytes)'),
        ("MiB", '"MiB" is not a size (use 500KB, 10MiB, 1GiB or a number of bytes)'),
        ("-1KB", '"-1KB" is not a size (use 500KB, 10MiB, 1GiB or a number of bytes)'),
        ("1.5B", '"1.5B" is not a whole number of bytes'),
        ("0.0001KiB", '"0.0001KiB" is not a whole number of bytes'),
    ],
)
def test_parse_size_refuses_what_is_not_a_size(text: str, message: str) -> None:
    with pytest.raises(ValueError) as caught:
        parse_size(text)
    assert str(caught.value) == message


@pytest.mark.parametrize(
    ("size", "text"),
    [(10 * 1024 * 1024, "10MiB"), (500_000, "500KB"), (1024**3, "1GiB"), (2049, "2049B"), (0, "0B"),
     (1_000_000, "1MB"), (1536, "1536B"), (3072, "3KiB")],
)  # fmt: skip
def test_format_size_writes_the_shortest_exact_form(size: int, text: str) -> None:
    assert format_size(size) == text


@given(st.integers(min_value=0, max_value=2**50))
def test_sizes_round_trip(size: int) -> None:
    assert parse_size(format_size(size)) == size

"""The [[channels]] section of feeds.toml: where alerts go, validated like the rest of the file."""

from __future__ import annotations

from pathlib import Path

import pytest

from aggregator.config import ALERT_EVENT_TYPES, describe_config, load_config
from aggregator.errors import ConfigError

ONE_FEED = '[[feeds]]\nname = "a"\nurl = "https://a.example/feed"\n'
ENV = {"DESK_SLACK_URL": "https://hooks.slack.example/services/T0/B0/SECRETTOKEN", "HOOK_SECRET": "s3cret"}


def write(tmp_path: Path, text: str, settings: str = "") -> Path:
    path = tmp_path / "feeds.toml"
    path.write_text(settings + ONE_FEED + text, encoding="utf-8")
    return path


def problems(path: Path, env: dict[str, str] | None = None) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        load_config(path, env=ENV if env is None else env)
    return str(caught.value).splitlines()


def test_a_slack_channel_reads_its_url_from_the_environment(tmp_path: Path) -> None:
    config = load_config(
        write(tmp_path, '[[channels]]\nname = "desk"\ntype = "slack"\nurl_env = "DESK_SLACK_URL"\n'), env=ENV
    )
    [channel] = config.channels
    assert (channel.name, channel.type, channel.mode, channel.events) == (
        "desk",
        "slack",
        "immediate",
        ALERT_EVENT_TYPES,
    )
    assert channel.url == ENV["DESK_SLACK_URL"]
    assert config.warnings == ()
    summary = describe_config(config)
    assert "desk: slack, immediate" in summary and "SECRETTOKEN" not in summary
    assert "SECRETTOKEN" not in repr(channel)


def test_a_url_in_the_file_works_with_a_warning(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        '[[channels]]\nname = "d"\ntype = "discord"\nurl = "https://discord.example/api/webhooks/1/x"\n',
    )
    config = load_config(path, env={})
    assert config.channels[0].url == "https://discord.example/api/webhooks/1/x"
    [warning] = config.warnings
    assert "channels[0].url" in warning and "url_env" in warning


def test_every_problem_names_its_key(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        '[[channels]]\nname = "x"\ntype = "slak"\n'
        '[[channels]]\nname = "y"\ntype = "webhook"\nurl_env = "MISSING_VAR"\n'
        'events = ["NEW_ROUND", "SWAP"]\n'
        '[[channels]]\nname = "z"\ntype = "email"\nmode = "digest"\nschedule = "0 25 * * *"\n'
        'timezone = "Europe/Kyev"\nsmtp_host = "mail.example.org"\nfrom = "agg@example.org"\nto = ["bad"]\n'
        '[[channels]]\nname = "X"\ntype = "teams"\nurl_env = "DESK_SLACK_URL"\nsmtp_host = "h"\n',
    )
    lines = problems(path)
    expected = [
        'channels[0].type: "slak" is not one of',
        "channels[1].url_env: environment variable MISSING_VAR is not set",
        'channels[1].events: "SWAP" is not one of NEW_ROUND, EXCHANGE, DEADLINE',
        'channels[2].schedule: "0 25 * * *" is not a crontab schedule',
        'channels[2].timezone: "Europe/Kyev" is not a time zone name',
        'channels[2].to: "bad" is not an e-mail address',
        'channels[3].name: "X" is already the name of channels[0]',
        "channels[3].smtp_host: is for e-mail channels, not teams",
    ]
    for text in expected:
        assert any(text in line for line in lines), (text, lines)
    assert all(line.startswith(f"{path}: ") for line in lines)


def test_webhook_addresses_get_the_feed_address_policy(tmp_path: Path) -> None:
    channel = '[[channels]]\nname = "h"\ntype = "webhook"\nurl = "http://169.254.169.254/latest"\n'
    [line] = problems(write(tmp_path, channel))
    assert "channels[0].url: points at a private, loopback or reserved address" in line
    allowed = load_config(write(tmp_path, channel, "[settings]\nallow_private_networks = true\n"), env={})
    assert allowed.channels[0].url == "http://169.254.169.254/latest"


def test_a_secret_from_the_environment_is_never_echoed(tmp_path: Path) -> None:
    path = write(tmp_path, '[[channels]]\nname = "h"\ntype = "webhook"\nurl_env = "HOOK"\n')
    [line] = problems(path, {"HOOK": "ftp://user:TOPSECRET@example.org/x"})
    assert "channels[0].url_env: the value of HOOK is not a usable http(s) URL" in line
    assert "TOPSECRET" not in line


def test_digest_and_email_rules(tmp_path: Path) -> None:
    lines = problems(
        write(
            tmp_path,
            '[[channels]]\nname = "a"\ntype = "slack"\nurl_env = "DESK_SLACK_URL"\nmode = "digest"\n'
            'schedule = "0 7 * * *"\n'
            '[[channels]]\nname = "b"\ntype = "email"\nsmtp_host = "m.example.org"\nfrom = "a@example.org"\n'
            'to = "desk@example.org"\nusername = "agg"\nschedule = "0 7 * * *"\n',
        )
    )
    assert any("channels[0].mode: digest is an e-mail mode" in line for line in lines), lines
    assert any("channels[1].password_env: missing" in line for line in lines), lines
    assert any("channels[1].schedule: only digest channels have a schedule" in line for line in lines), lines


def test_an_email_digest_channel(tmp_path: Path) -> None:
    config = load_config(
        write(
            tmp_path,
            '[[channels]]\nname = "morning"\ntype = "email"\nmode = "digest"\nschedule = "0 7 * * *"\n'
            'timezone = "Europe/Kyiv"\nsmtp_host = "mail.example.org"\nsecurity = "ssl"\n'
            'from = "agg@example.org"\nto = ["a@example.org", "b@example.org"]\nusername = "agg"\n'
            'password_env = "HOOK_SECRET"\nconfirm = 2\n',
        ),
        env=ENV,
    )
    [channel] = config.channels
    assert channel.email is not None
    assert (channel.email.smtp_port, channel.email.password, channel.email.recipients) == (
        465,
        "s3cret",
        ("a@example.org", "b@example.org"),
    )
    assert (channel.schedule, channel.timezone, channel.confirm) == ("0 7 * * *", "Europe/Kyiv", 2)
    assert "s3cret" not in describe_config(config)

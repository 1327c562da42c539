"""The systemd unit: systemd's own tools accept it and rate its sandbox, and it keeps what the daemon needs.

`systemd-analyze` comes from Debian's `systemd` package (.ci/run installs it when it is missing); only the
tests that run it are skipped without it. No systemd needs to be running: `verify` and
`security --offline=yes` read the unit file as it is.

Both commands look for drop-ins (`aggregator.service.d/*.conf`) along the unit search path, so a machine that
has the service installed and tuned would have its own settings judged. They run with SYSTEMD_UNIT_PATH
limited to a temporary directory (plus, for `verify`, the distribution's unit directories, which hold the
targets every service depends on), so what is judged is exactly the file in this repository.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
UNIT = REPO / "systemd" / "aggregator.service"
SYSUSERS = REPO / "systemd" / "aggregator.sysusers"
ENV_EXAMPLE = REPO / "systemd" / "aggregator.env.example"
README = REPO / "README.md"

SYSTEMD_ANALYZE = shutil.which("systemd-analyze")
needs_systemd_analyze = pytest.mark.skipif(
    SYSTEMD_ANALYZE is None,
    reason="systemd-analyze is not installed (Debian package `systemd`; .ci/run installs it as root)",
)

# The target for `systemd-analyze security` (0 = fully locked down, 10 = no sandbox at all).
MAX_EXPOSURE = 2.0
# How often the daemon's scheduler loop sends WATCHDOG=1, at the slowest.
SLOWEST_WATCHDOG_PING_S = 20.0
# The daemon's promise: stopped within this long after SIGTERM.
DAEMON_STOP_S = 10.0
# Where distributions keep their own units (sysinit.target and friends), never local drop-ins.
VENDOR_UNIT_DIRS = [d for d in ("/usr/lib/systemd/system", "/lib/systemd/system") if Path(d).is_dir()]


def parse_unit(text: str) -> dict[str, dict[str, list[str]]]:
    """Section -> key -> every value assigned, in order (systemd keys may repeat, e.g. SystemCallFilter=)."""
    sections: dict[str, dict[str, list[str]]] = {}
    current: dict[str, list[str]] | None = None
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("[") and line.endswith("]"):
            current = sections.setdefault(line[1:-1], {})
            continue
        assert current is not None, f"setting outside a section: {raw!r}"
        assert "=" in line, f"not a key=value line: {raw!r}"
        key, value = line.split("=", 1)
        current.setdefault(key.strip(), []).append(value.strip())
    return sections


UNIT_TEXT = UNIT.read_text(encoding="utf-8")
SETTINGS = parse_unit(UNIT_TEXT)
SERVICE = SETTINGS["Service"]


def single(key: str) -> str:
    """The one value of a [Service] key that must be set exactly once."""
    values = SERVICE.get(key)
    assert values is not None, f"[Service] lacks {key}="
    assert len(values) == 1, f"{key}= is set {len(values)} times: {values}"
    return values[0]


def seconds(value: str) -> float:
    """A systemd time span such as "60s", "5min", "1min 30s" or "90" (seconds) in seconds."""
    units = {"ms": 0.001, "s": 1, "sec": 1, "m": 60, "min": 60, "h": 3600, "hr": 3600}
    parts = re.findall(r"(\d+(?:\.\d+)?)\s*([a-z]*)", value)
    assert parts, f"not a time span: {value!r}"
    return sum(float(number) * units[unit or "s"] for number, unit in parts)


def run_analyze(*args: str, unit_path: list[Path | str]) -> subprocess.CompletedProcess[str]:
    assert SYSTEMD_ANALYZE is not None
    search_path = ":".join(str(directory) for directory in unit_path)
    environment = {**os.environ, "SYSTEMD_UNIT_PATH": search_path, "SYSTEMD_COLORS": "0"}
    return subprocess.run(
        [SYSTEMD_ANALYZE, *args], capture_output=True, text=True, env=environment, timeout=60, check=False
    )


def lines_about(output: str, unit_name: str) -> list[str]:
    return [line for line in output.splitlines() if unit_name in line]


# ---------------------------------------------------------------------------------------------------------
# What the daemon relies on, read from the file


def test_the_service_is_type_notify_and_only_the_daemon_may_notify() -> None:
    assert single("Type") == "notify"
    assert single("NotifyAccess") == "main"


def test_the_watchdog_allows_three_missed_pings() -> None:
    assert seconds(single("WatchdogSec")) >= 3 * SLOWEST_WATCHDOG_PING_S


def test_stop_timeout_leaves_the_daemon_room_to_stop_by_itself() -> None:
    timeout = seconds(single("TimeoutStopSec"))
    assert DAEMON_STOP_S < timeout <= 30, "past TimeoutStopSec systemd sends SIGKILL"


def test_start_reload_and_restart_commands() -> None:
    assert single("ExecStart") == "/opt/aggregator/bin/aggregator --config /etc/aggregator/feeds.toml run"
    program, *arguments = single("ExecReload").split()
    assert Path(program).name == "kill" and arguments == ["-HUP", "$MAINPID"]
    assert single("Restart") == "on-failure"
    assert seconds(single("RestartSec")) >= 1
    # Exit status 2 is a configuration error: restarting cannot fix it.
    assert "2" in single("RestartPreventExitStatus").split()


def test_state_config_and_secrets_live_where_the_readme_says() -> None:
    assert single("StateDirectory") == "aggregator"
    assert single("ConfigurationDirectory") == "aggregator"
    # "-": the service also starts when there are no secrets to give it.
    assert single("EnvironmentFile") == "-/etc/aggregator/env"
    assert "/etc/aggregator/feeds.toml" in single("ExecStart")
    assert 'database = "sqlite:////var/lib/aggregator/aggregator.db"' in README.read_text(encoding="utf-8")


def test_memory_and_tasks_are_capped() -> None:
    assert re.fullmatch(r"\d+[KMG]", single("MemoryMax")), single("MemoryMax")
    assert int(single("TasksMax")) >= 32, "16 fetch threads, the scheduler's threads and the parse workers"


HARDENING = {
    "NoNewPrivileges": "yes",
    "ProtectSystem": "strict",
    "ProtectHome": "yes",
    "PrivateTmp": "yes",
    "PrivateDevices": "yes",
    "PrivateMounts": "yes",
    "PrivateUsers": "yes",
    "DevicePolicy": "closed",
    "ProtectKernelTunables": "yes",
    "ProtectKernelModules": "yes",
    "ProtectKernelLogs": "yes",
    "ProtectControlGroups": "yes",
    "ProtectClock": "yes",
    "ProtectHostname": "yes",
    "ProtectProc": "invisible",
    "ProcSubset": "pid",
    "RestrictNamespaces": "yes",
    "RestrictRealtime": "yes",
    "RestrictSUIDSGID": "yes",
    "LockPersonality": "yes",
    "MemoryDenyWriteExecute": "yes",
    "SystemCallArchitectures": "native",
    "SystemCallErrorNumber": "EPERM",
    "CapabilityBoundingSet": "",
    "AmbientCapabilities": "",
    "UMask": "0077",
    "KeyringMode": "private",
    "RemoveIPC": "yes",
}


@pytest.mark.parametrize(("key", "expected"), HARDENING.items())
def test_hardening_setting(key: str, expected: str) -> None:
    assert single(key) == expected


def test_only_unix_and_internet_sockets() -> None:
    # AF_UNIX for sd_notify, journald and the parse workers; AF_INET/AF_INET6 for feeds, DNS and delivery.
    assert set(single("RestrictAddressFamilies").split()) == {"AF_UNIX", "AF_INET", "AF_INET6"}


def test_system_calls_are_filtered_to_what_a_service_needs() -> None:
    filters = SERVICE["SystemCallFilter"]
    allowed = [f for f in filters if not f.startswith("~")]
    denied = {name for f in filters if f.startswith("~") for name in f[1:].split()}
    assert allowed == ["@system-service"]
    assert {"@privileged", "@resources"} <= denied


def test_no_ip_address_allow_list() -> None:
    # Feeds and receivers live at any public address (CDNs change theirs): an allow-list would break
    # fetching. The fetcher's own address policy refuses private and metadata addresses instead.
    assert "IPAddressDeny" not in SERVICE and "IPAddressAllow" not in SERVICE


def test_runs_as_the_dedicated_user_that_the_sysusers_file_creates() -> None:
    user = single("User")
    assert user != "root" and single("Group") == user
    assert "DynamicUser" not in SERVICE
    lines = SYSUSERS.read_text(encoding="utf-8").splitlines()
    assert [line.split()[1] for line in lines if line.startswith("u ")] == [user]


@pytest.mark.skipif(shutil.which("systemd-sysusers") is None, reason="systemd-sysusers is not installed")
def test_systemd_sysusers_creates_the_user_with_the_state_directory_as_home(tmp_path: Path) -> None:
    if os.geteuid() != 0:
        pytest.skip("systemd-sysusers --root needs root to write the account files")
    etc = tmp_path / "etc"
    etc.mkdir()
    for name in ("passwd", "group", "shadow", "gshadow"):
        (etc / name).touch()
    result = subprocess.run(
        ["systemd-sysusers", f"--root={tmp_path}", str(SYSUSERS)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    accounts = {line.split(":")[0]: line.split(":") for line in (etc / "passwd").read_text().splitlines()}
    account = accounts[single("User")]
    assert account[5] == "/var/lib/aggregator" and account[6].endswith("nologin")
    assert int(account[2]) < 1000, "a system user"


def test_the_environment_example_sets_nothing_by_itself() -> None:
    # Every variable is commented out: installing the example as-is must not set a placeholder secret.
    for line in ENV_EXAMPLE.read_text(encoding="utf-8").splitlines():
        assert not line.strip() or line.lstrip().startswith("#"), line


def test_readme_install_commands_name_files_that_exist() -> None:
    readme = README.read_text(encoding="utf-8")
    start = readme.index("## Running it as a service")
    section = readme[start : readme.index("\n## ", start + 1)]
    named = set(re.findall(r"(?<![\w/])systemd/[\w.-]+", section))
    assert {f"systemd/aggregator.{kind}" for kind in ("service", "sysusers", "env.example")} <= named
    for path in named:
        assert (REPO / path).is_file(), path


# ---------------------------------------------------------------------------------------------------------
# systemd-analyze verify


def verifiable_copy(directory: Path, text: str = UNIT_TEXT) -> Path:
    """The unit with ExecStart's program replaced by one that exists here.

    `verify` refuses a unit whose ExecStart program does not exist, and /opt/aggregator is where an
    installation puts it, not a checkout. The venv's own `aggregator` entry point stands in: the same
    program, installed by `pip install -e .`. Nothing else in the unit changes.
    """
    installed = "/opt/aggregator/bin/aggregator"
    stand_in = Path(sys.executable).with_name("aggregator")
    assert stand_in.is_file() and os.access(stand_in, os.X_OK), f"{stand_in}: run `make install`"
    assert installed in text
    copy = directory / UNIT.name
    copy.write_text(text.replace(installed, str(stand_in)), encoding="utf-8")
    return copy


@needs_systemd_analyze
def test_systemd_analyze_verify_accepts_the_unit(tmp_path: Path) -> None:
    copy = verifiable_copy(tmp_path)
    result = run_analyze("verify", "--man=no", str(copy), unit_path=[tmp_path, *VENDOR_UNIT_DIRS])
    complaints = lines_about(result.stdout + result.stderr, UNIT.name)
    assert result.returncode == 0 and not complaints, "\n".join(complaints) or result.stderr


@needs_systemd_analyze
def test_verify_would_catch_a_mistake(tmp_path: Path) -> None:
    # The check above is only worth something if a bad line shows up in what it looks at: systemd merely
    # warns (exit status 0) about an unknown key or a value it cannot parse.
    broken = UNIT_TEXT.replace("UMask=0077", "UMask=wide\nProtectSytem=strict")
    copy = verifiable_copy(tmp_path, broken)
    result = run_analyze("verify", "--man=no", str(copy), unit_path=[tmp_path, *VENDOR_UNIT_DIRS])
    complaints = lines_about(result.stdout + result.stderr, UNIT.name)
    assert any("ProtectSytem" in line for line in complaints), result.stderr
    assert any("UMask" in line or "wide" in line for line in complaints), result.stderr


# ---------------------------------------------------------------------------------------------------------
# systemd-analyze security


def exposure(unit_file: Path, unit_dir: Path) -> tuple[float, str]:
    """The overall exposure `security --offline=yes` gives the unit file (no running systemd needed)."""
    result = run_analyze("security", "--offline=yes", "--no-pager", str(unit_file), unit_path=[unit_dir])
    output = result.stdout + result.stderr
    complaints = [line for line in lines_about(result.stderr, unit_file.name) if "exposure" not in line]
    assert not complaints, "\n".join(complaints)
    found = re.search(rf"Overall exposure level for {re.escape(unit_file.name)}: (\d+(?:\.\d+)?)", output)
    assert found, output
    return float(found.group(1)), output


@needs_systemd_analyze
def test_systemd_analyze_security_rates_the_unit_at_most_2(tmp_path: Path) -> None:
    copy = tmp_path / UNIT.name
    shutil.copyfile(UNIT, copy)
    level, report = exposure(copy, tmp_path)
    failing = [line for line in report.splitlines() if line.startswith("✗")]
    assert level <= MAX_EXPOSURE, f"exposure {level} > {MAX_EXPOSURE}; still open:\n" + "\n".join(failing)


@needs_systemd_analyze
def test_security_rates_an_unhardened_unit_as_exposed(tmp_path: Path) -> None:
    # The parse above must read the real figure: the same service without its sandbox rates far worse.
    bare = tmp_path / UNIT.name
    bare.write_text(f"[Service]\nType=notify\nExecStart={single('ExecStart')}\n", encoding="utf-8")
    level, _ = exposure(bare, tmp_path)
    assert level >= 9.0

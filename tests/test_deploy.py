"""The production recipe in deploy/: every process supervised and restarted, gunicorn's timeout explicit."""

import configparser
import re
from pathlib import Path

import pytest
from django.conf import settings

DEPLOY = Path(__file__).resolve().parent.parent / "deploy"
UNITS = ["datagate-portal-web.service", "datagate-portal-worker.service", "datagate-portal-beat.service"]


def _unit(name: str) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(interpolation=None, strict=False)
    parser.optionxform = str
    parser.read(DEPLOY / name)
    return parser


@pytest.mark.parametrize("name", UNITS)
def test_every_process_runs_under_systemd_and_is_restarted(name) -> None:
    unit = _unit(name)
    assert unit["Service"]["Restart"] == "always"
    assert unit["Service"]["EnvironmentFile"] == "/etc/datagate-portal/env"  # secrets from the environment
    assert unit["Install"]["WantedBy"] == "multi-user.target"


def test_gunicorns_timeout_is_explicit_and_outlasts_interactive_halopsa_checks() -> None:
    for command in (_unit(UNITS[0])["Service"]["ExecStart"], (DEPLOY / "Procfile").read_text()):
        timeout = int(re.search(r"--timeout (\d+)", command).group(1))
        assert timeout >= 2 * settings.HALO_INTERACTIVE_BUDGET_SECONDS


def test_the_procfile_names_web_worker_and_beat() -> None:
    kinds = [line.split(":", 1)[0] for line in (DEPLOY / "Procfile").read_text().splitlines() if line.strip()]
    assert kinds == ["web", "worker", "beat"]


def test_the_worker_runs_below_the_web_servers_cpu_priority() -> None:
    """A sync is background work: where web and worker share a host, it must not slow the screens staff use."""
    assert int(_unit("datagate-portal-worker.service")["Service"]["Nice"]) > 0
    assert "Nice" not in _unit(UNITS[0])["Service"]
    worker = next(line for line in (DEPLOY / "Procfile").read_text().splitlines() if line.startswith("worker:"))
    assert re.match(r"worker: nice -n [1-9]\d* celery ", worker), worker

"""The simulator's rate-limit storms, header styles, 503 outages, shared-window consumer and per-window counting."""

from __future__ import annotations

from email.utils import parsedate_to_datetime

import pytest
import requests

from .helpers import Api


def test_a_storm_refuses_everything_for_its_length_then_serves(api, sim, clock):
    sim.config.storm_seconds = 400
    for _ in range(3):
        assert api.get("/api/Client").status_code == 429
    clock.advance(399)
    assert api.get("/api/Client").status_code == 429
    clock.advance(1)
    assert api.get("/api/Client").status_code == 200
    assert sim.stats()["429"] == 4
    assert sim.config.storm_seconds == 0  # consumed: the switch starts one storm


@pytest.mark.parametrize(
    ("style", "header", "expected"),
    [
        ("none", None, None),
        ("retry_after_seconds", "Retry-After", "100"),
        ("reset_seconds", "X-RateLimit-Reset", "100"),
        ("reset_unix", "X-RateLimit-Reset", str(10_000 + 100)),
        ("remaining", "X-RateLimit-Remaining", "0"),
    ],
)
def test_storm_header_styles(api, sim, clock, style, header, expected):
    sim.config.update({"rate_limit_headers": style, "storm_seconds": 100})
    refused = api.get("/api/Client")
    assert refused.status_code == 429
    hints = {name for name in refused.headers if name.lower().startswith(("retry-after", "x-ratelimit"))}
    assert hints == (set() if header is None else {header})
    if header is not None:
        assert refused.headers[header] == expected


def test_retry_after_as_an_http_date_follows_the_simulators_wall_clock(api, sim, clock):
    sim.config.update({"rate_limit_headers": "retry_after_date", "storm_seconds": 90})
    refused = api.get("/api/Client")
    assert parsedate_to_datetime(refused.headers["Retry-After"]).timestamp() == 10_000 + 90


def test_remaining_counts_down_on_served_answers(sim, clock):
    sim.config.update({"rate_limit": 4, "rate_limit_headers": "remaining"})
    api = Api(sim)
    api.login()  # 1 used
    assert [api.get("/api/Client").headers["X-RateLimit-Remaining"] for _ in range(3)] == ["2", "1", "0"]
    assert api.get("/api/Client").status_code == 429


def test_a_shared_consumer_spends_part_of_every_window(sim, clock):
    sim.config.update({"rate_limit": 10, "shared_consumer_requests": 6})
    api = Api(sim)
    api.login()
    served = [api.get("/api/Client").status_code for _ in range(5)]
    assert served == [200, 200, 200, 429, 429]  # 4 of 10 are ours (the token took one)
    clock.advance(300)
    assert api.get("/api/Client").status_code == 200


def test_an_outage_answers_503_for_its_length(api, sim, clock):
    sim.config.outage_seconds = 120
    assert api.get("/api/Client").status_code == 503
    clock.advance(119)
    assert api.get("/api/Site").status_code == 503
    clock.advance(1)
    assert api.get("/api/Client").status_code == 200
    assert sim.stats()["outage"] == 2


def test_the_most_requests_in_one_window_is_counted(sim, clock):
    sim.config.update({"rate_limit": None, "rate_window_seconds": 60})
    api = Api(sim)
    api.login()
    for _ in range(4):
        api.get("/api/Client")
        clock.advance(20)  # t = 20, 40, 60, 80 after each
    # Requests at 0, 0, 20, 40 share a window; the one at 60 pushes the first two out.
    assert sim.window_stats() == {"max_in_window": 4, "window_seconds": 60}
    assert requests.get(f"{sim.base_url}/_sim/stats/window", timeout=5).json()["max_in_window"] == 4
    sim.reset_stats()
    assert sim.window_stats()["max_in_window"] == 0


def test_bad_storm_switches_are_refused(sim):
    for change in ({"rate_limit_headers": "sometimes"}, {"storm_seconds": -1}, {"shared_consumer_requests": -2}):
        with pytest.raises(ValueError):
            sim.config.update(change)


def test_the_command_line_sets_the_storm_switches():
    from halosim.__main__ import build_parser, config_from_args

    args = build_parser().parse_args(
        ["--rate-limit", "60", "--set", "rate_limit_headers=reset_unix", "--set", "shared_consumer_requests=30"]
    )
    config = config_from_args(args)
    assert (config.rate_limit, config.rate_limit_headers, config.shared_consumer_requests) == (60, "reset_unix", 30)

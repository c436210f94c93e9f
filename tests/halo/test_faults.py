"""Fault tests over real HTTP against the simulator: rate limits, outages, expired tokens, bad answers, bad settings."""

from __future__ import annotations

import logging
import socket

import pytest

from syncapp.halo import (
    HaloAuthError,
    HaloBadResponse,
    HaloConfigError,
    HaloError,
    HaloRateLimited,
    HaloUnavailable,
)
from tests.halo.conftest import SIM_SECRET, FakeClock

FIVE_MINUTES = 300.0


def test_the_limiter_keeps_a_long_run_under_a_300_per_5_minutes_window(make_sim, make_client, small_tenant, clock):
    # 40 clients read one by one, 20 times over: 800+ requests, far more than one window allows.
    sim = make_sim(small_tenant, rate_limit=300, rate_window_seconds=FIVE_MINUTES)
    client = make_client(sim, rate_limit=300, rate_window=FIVE_MINUTES)
    start = clock.now
    for _ in range(20):
        for client_id in small_tenant.clients:
            client.get_client(client_id)
    total = client.stats.total_requests
    assert total == 1 + 20 * 40
    assert sim.stats().get("429", 0) == client.stats.rate_limited == 0
    # 801 requests at 300 per window: two full windows had to pass, and no more than that.
    assert clock.now - start == 2 * FIVE_MINUTES


def test_a_429_storm_from_another_integration_is_ridden_out_with_bounded_retries(
    make_sim, make_client, small_tenant, clock
):
    sim = make_sim(small_tenant, rate_limit=300, rate_window_seconds=FIVE_MINUTES)
    # Another integration spends the tenant's whole budget, then we start 290 s later: 10 s of 429s remain.
    other = make_client(sim, rate_limit=10_000)
    for _ in range(299):
        other.get_client(next(iter(small_tenant.clients)))
    clock.advance(290)
    sim.reset_stats()
    client = make_client(sim, rate_limit=300, rate_window=FIVE_MINUTES)
    assert len(list(client.iter_clients())) == 40
    assert client.stats.rate_limited == sim.stats()["429"] > 0
    assert client.stats.retries == client.stats.rate_limited
    assert all(sleep <= client.settings.backoff_cap for sleep in clock.sleeps)


def test_a_429_storm_is_ridden_out_whatever_max_retries_says(make_sim, make_client, small_tenant, clock):
    sim = make_sim(small_tenant, rate_limit=300, rate_window_seconds=FIVE_MINUTES)
    other = make_client(sim, rate_limit=10_000)
    for _ in range(299):
        other.get_client(next(iter(small_tenant.clients)))
    client = make_client(sim, max_retries=3)
    assert len(list(client.iter_clients())) == 40
    assert client.stats.rate_limited > 3


def test_a_429_storm_longer_than_the_patience_raises_rate_limited(make_sim, make_client, small_tenant, clock):
    sim = make_sim(small_tenant, rate_limit=300, rate_window_seconds=FIVE_MINUTES)
    other = make_client(sim, rate_limit=10_000)
    for _ in range(299):
        other.get_client(next(iter(small_tenant.clients)))
    client = make_client(sim, rate_limit_patience=60.0)
    with pytest.raises(HaloRateLimited, match="refused every request for 1 min") as caught:
        list(client.iter_clients())
    assert not caught.value.transient
    assert "Rate Limit Reached - 300 Requests per rolling 5 minute window" in caught.value.halo_message


def test_retry_after_is_honoured_when_sent(make_sim, make_client, small_tenant, clock):
    sim = make_sim(small_tenant, rate_limit=300, rate_window_seconds=FIVE_MINUTES, send_retry_after=True)
    other = make_client(sim, rate_limit=10_000)
    for _ in range(299):
        other.get_client(next(iter(small_tenant.clients)))
    clock.advance(100)
    clock.sleeps.clear()
    client = make_client(sim)
    assert len(list(client.iter_clients())) == 40
    # The budget frees 200 s later; Retry-After said so and one wait of exactly that was enough.
    assert clock.sleeps == [200.0]
    assert client.stats.rate_limited == 1


def test_a_5xx_burst_is_retried_and_recovered(make_sim, make_client, big_tenant):
    sim = make_sim(big_tenant, fail_next=3, fail_status=503)
    client = make_client(sim)
    assert len(list(client.iter_clients())) == 1234
    assert client.stats.retries == 3
    assert sim.stats()["GET /api/Client"] == 13 + 3


@pytest.mark.parametrize("fail_body_form", ["json", "html"])
def test_a_5xx_burst_longer_than_max_retries_is_unavailable(make_sim, make_client, small_tenant, fail_body_form):
    sim = make_sim(small_tenant, fail_next=6, fail_status=502, fail_body_form=fail_body_form)
    client = make_client(sim, max_retries=5)
    with pytest.raises(HaloUnavailable, match="HTTP 502, gave up after 5 retries") as caught:
        list(client.iter_clients())
    assert caught.value.transient
    assert caught.value.status == 502
    assert sim.stats()["GET /api/Client"] == 6


@pytest.mark.parametrize("expired_token_status", [401, 400])
def test_an_expired_token_is_renewed_with_exactly_one_extra_token_request(
    make_sim, make_client, small_tenant, expired_token_status
):
    # The simulator's clock runs ahead of the client's, so the client believes its token is still fresh.
    sim_clock = FakeClock()
    sim = make_sim(small_tenant, sim_clock=sim_clock, token_lifetime=3600, expired_token_status=expired_token_status)
    client = make_client(sim)
    assert len(list(client.iter_clients())) == 40
    sim_clock.advance(3601)
    assert len(list(client.iter_clients())) == 40
    assert sim.stats()["POST /auth/token"] == 2
    assert sim.stats()["GET /api/Client"] == 1 + 2  # one rejected, one retried, one before


def test_a_short_lived_token_is_renewed_before_it_expires(make_sim, make_client, small_tenant, clock):
    sim = make_sim(small_tenant, token_lifetime=120)
    client = make_client(sim)
    list(client.iter_clients())
    clock.advance(100)  # past the renewal point (60 s before the end), before the expiry
    list(client.iter_clients())
    assert sim.stats() == {"POST /auth/token": 2, "GET /api/Client": 2}


def test_malformed_json_is_a_bad_response(make_sim, make_client, small_tenant):
    sim = make_sim(small_tenant, malformed_next=1)
    with pytest.raises(HaloBadResponse, match="not valid JSON"):
        list(make_client(sim).iter_clients())


@pytest.mark.parametrize(
    ("overrides", "reason"),
    [
        ({"client_secret": "wrong-secret"}, "invalid_client"),
        ({"client_id": "nobody"}, "invalid_client"),
        ({"tenant": "other"}, "invalid_client: unknown tenant 'other'"),
    ],
)
def test_wrong_credentials_are_an_auth_error(make_sim, make_client, small_tenant, overrides, reason):
    sim = make_sim(small_tenant)
    client = make_client(sim, **overrides)
    with pytest.raises(HaloAuthError) as caught:
        client.check_access()
    assert str(caught.value) == f"HaloPSA refused the client ID or secret ({reason})"
    assert not caught.value.transient
    assert sim.stats() == {"POST /auth/token": 1}


def closed_loopback_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_an_unreachable_host_is_unavailable(make_client, clock):
    url = f"http://127.0.0.1:{closed_loopback_port()}"
    client = make_client(resource_url=url, auth_url=url + "/auth", allow_http=True, max_retries=2)
    with pytest.raises(HaloUnavailable) as caught:
        client.check_access()
    assert str(caught.value) == (
        f"HaloPSA at {url} could not be reached: the connection was refused (gave up after 2 retries)."
    )
    assert caught.value.transient
    assert clock.sleeps == [0.5, 1.0]


def test_a_stopped_simulator_is_unavailable(make_sim, make_client, small_tenant):
    sim = make_sim(small_tenant)
    client = make_client(sim, max_retries=0)
    list(client.iter_clients())
    sim.stop()
    with pytest.raises(HaloUnavailable, match="could not be reached"):
        list(client.iter_clients())


def test_plain_http_is_refused_before_any_request(make_sim, small_tenant):
    from syncapp.halo import HaloClient
    from tests.halo.conftest import unit_settings

    sim = make_sim(small_tenant)
    with pytest.raises(HaloConfigError, match="https://"):
        HaloClient(unit_settings(resource_url=sim.base_url, auth_url=sim.auth_url))
    assert sim.stats() == {}


def test_the_secret_and_token_never_reach_logs_or_messages(make_sim, make_client, small_tenant, caplog):
    caplog.set_level(logging.DEBUG)
    sim = make_sim(small_tenant, fail_next=2)
    client = make_client(sim)
    client.check_access()
    token = client._transport._token
    assert token
    failures: list[HaloError] = []
    for overrides in ({"client_secret": SIM_SECRET + "-wrong"}, {"max_retries": 0}):
        sim.config.fail_next = 1
        try:
            make_client(sim, **overrides).check_access()
        except HaloError as error:
            failures.append(error)
    assert len(failures) == 2
    assert "retry 1 of 5" in caplog.text
    text = caplog.text + "".join(f"{e!s} {e!r} {e.halo_message}" for e in failures) + repr(client)
    assert SIM_SECRET not in text
    assert token not in text

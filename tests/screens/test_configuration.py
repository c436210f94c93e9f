"""Field mappings (from the sync's declaration) and the administrators' HaloPSA connection page."""

import pytest
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape

from syncapp.models import SyncSchedule
from syncapp.sync.mapping import CUSTOMER_FIELDS, SITE_FIELDS

MAPPINGS = reverse("syncapp:field-mappings")
CONNECTION = reverse("syncapp:connection")
SCHEDULE = reverse("syncapp:connection-schedule")
TEST_ACCESS = reverse("syncapp:connection-test")

pytestmark = pytest.mark.django_db


def test_mappings_are_generated_from_the_sync_declaration(billing_client) -> None:
    html = billing_client.get(MAPPINGS).content.decode()
    for mapping in (*CUSTOMER_FIELDS, *SITE_FIELDS):
        assert escape(mapping.label) in html
        assert escape(mapping.source) in html
    assert "None: local only" in html
    # One lock per HaloPSA-fed row, explained once by the legend above the tables.
    assert html.count('class="managed-lock"') == len(CUSTOMER_FIELDS) + len(SITE_FIELDS) + 1


def test_mappings_describe_the_match_score_and_the_hold_back_from_the_declaration(billing_client, settings) -> None:
    from syncapp.matching.score import WEIGHTS, weight_rows

    settings.DUPLICATE_HOLD_BACK_SCORE = 70
    html = billing_client.get(MAPPINGS).content.decode()
    for what, points, _ in weight_rows():
        assert f"<td><b>{escape(what)}</b></td><td>{escape(points)}</td>" in html
    assert f"<b>High</b> from {WEIGHTS.high} points" in html
    assert "scores at least 70 against it, the client is not imported" in html


def test_connection_shows_the_settings_but_never_the_secret(admin_client_, settings) -> None:
    settings.HALO_RESOURCE_URL = "https://acme.halopsa.com"
    settings.HALO_CLIENT_ID = "portal-app"
    settings.HALO_CLIENT_SECRET = "s3cret-never-shown"
    html = admin_client_.get(CONNECTION).content.decode()
    for value in ("https://acme.halopsa.com", "portal-app", "HALO_TENANT", "HALO_SCOPE", "HALO_RATE_LIMIT"):
        assert value in html
    assert "HALO_TIMEOUT" in html and "HALO_AUTH_URL" in html
    assert "s3cret-never-shown" not in html
    assert '<span class="badge badge-ok" id="secret-state">set</span>' in html


def test_connection_says_when_the_secret_is_missing(admin_client_, settings) -> None:
    settings.HALO_CLIENT_SECRET = ""
    assert 'id="secret-state">not set<' in admin_client_.get(CONNECTION).content.decode()


@pytest.mark.parametrize("fixture", ["billing_client", "operator_client"])
def test_connection_is_for_administrators_only(request, fixture: str) -> None:
    staff_client = request.getfixturevalue(fixture)
    assert staff_client.get(CONNECTION).status_code == 403
    assert staff_client.post(SCHEDULE, {"enabled": "on", "interval_minutes": 10}).status_code == 403
    assert staff_client.post(TEST_ACCESS).status_code == 403
    assert not SyncSchedule.objects.filter(enabled=True, interval_minutes=10).exists()


def test_a_staff_member_who_is_not_superuser_may_see_it(client, django_user_model) -> None:
    client.force_login(django_user_model.objects.create_user("staffer", password="x", is_staff=True))
    assert client.get(CONNECTION).status_code == 200


def test_schedule_switch_and_interval_are_saved(admin_client_, admin_user) -> None:
    response = admin_client_.post(SCHEDULE, {"enabled": "on", "interval_minutes": "15"}, follow=True)
    schedule = SyncSchedule.objects.get()
    assert (schedule.enabled, schedule.interval_minutes, schedule.updated_by) == (True, 15, admin_user)
    assert "runs every 15 minutes" in response.content.decode()
    admin_client_.post(SCHEDULE, {"interval_minutes": "15"})
    assert SyncSchedule.objects.get().enabled is False


@pytest.mark.parametrize("interval", ["2", "", "abc"])
def test_a_bad_interval_is_refused_on_the_form(admin_client_, interval: str) -> None:
    before = SyncSchedule.objects.create(enabled=False, interval_minutes=60)
    response = admin_client_.post(SCHEDULE, {"enabled": "on", "interval_minutes": interval})
    assert response.status_code == 400
    assert response.context["form"].errors["interval_minutes"]
    after = SyncSchedule.objects.get()
    assert (after.enabled, after.interval_minutes) == (before.enabled, before.interval_minutes)


def test_test_account_access_reports_success(admin_client_, halo_sim) -> None:
    halo_sim.edit(lambda t: t.add_client("Acme", ticked=True))
    halo_sim.edit(lambda t: t.add_client("Beta", ticked=False))
    halo_sim.reset_stats()
    response = admin_client_.post(TEST_ACCESS)
    html = response.content.decode()
    assert response.status_code == 200
    assert "HaloPSA access OK" in html
    assert "2 clients, ticked clients are counted by the first sync" in html
    # One page proves access: token, custom field list, one client page; never every client.
    assert halo_sim.stats() == {"POST /auth/token": 1, "GET /api/FieldInfo": 1, "GET /api/Client": 1}


def test_test_account_access_counts_ticked_clients_from_the_last_sync(admin_client_, halo_sim) -> None:
    from syncapp.choices import SyncStatus
    from tests.factories import HaloClientEntryFactory, SyncRunFactory

    halo_sim.edit(lambda t: [t.add_client(f"Client {n}", ticked=n % 2 == 0) for n in range(250)])
    SyncRunFactory(status=SyncStatus.SUCCEEDED, finished_at=timezone.now())
    for n in range(3):
        HaloClientEntryFactory(halo_id=n + 1, is_ticked=True)
    HaloClientEntryFactory(halo_id=99, is_ticked=False)
    halo_sim.reset_stats()
    html = admin_client_.post(TEST_ACCESS).content.decode()
    assert "250 clients, 3 ticked at the last sync" in html
    assert halo_sim.stats()["GET /api/Client"] == 1


def test_test_account_access_says_plainly_when_halopsa_is_slow(admin_client_, halo_sim, settings) -> None:
    halo_sim.edit(lambda t: t.add_client("Acme", ticked=True))
    settings.HALO_INTERACTIVE_BUDGET_SECONDS = 0.5
    halo_sim.config.latency_seconds = 1.0  # each answer arrives after the whole budget is gone
    halo_sim.reset_stats()
    response = admin_client_.post(TEST_ACCESS)
    html = response.content.decode()
    assert response.status_code == 200
    assert "is slow: it did not answer within 0.5 seconds" in html
    assert halo_sim.stats() == {"POST /auth/token": 1}  # no retry after the budget is spent


def test_test_account_access_reports_an_unreachable_halopsa(admin_client_, halo_unreachable) -> None:
    html = admin_client_.post(TEST_ACCESS).content.decode()
    assert "HaloPSA check failed:" in html
    assert "could not be reached" in html  # the dead port, not some other refusal, is what is reported
    assert "message-error" in html


def test_connection_says_webhooks_are_off_until_configured(admin_client_, settings) -> None:
    settings.HALO_WEBHOOK_TOKEN = settings.HALO_WEBHOOK_USERNAME = settings.HALO_WEBHOOK_PASSWORD = ""
    html = admin_client_.get(reverse("syncapp:connection")).content.decode()
    assert 'id="webhook-off"' in html and 'id="webhook-url"' not in html


def test_connection_shows_the_webhook_url_settings_and_health_but_never_the_password(admin_client_, settings) -> None:
    from syncapp.choices import WebhookEventStatus
    from syncapp.models import WebhookEvent

    settings.HALO_WEBHOOK_TOKEN = ""
    settings.HALO_WEBHOOK_USERNAME, settings.HALO_WEBHOOK_PASSWORD = "halopsa", "pw-never-shown-8812"
    WebhookEvent.objects.create(event="Client Updated", object_type="client", object_id=5, client_halo_id=5)
    WebhookEvent.objects.create(status=WebhookEventStatus.REJECTED, error="The body is not JSON.")
    html = admin_client_.get(reverse("syncapp:connection")).content.decode()
    assert "http://testserver/halo/webhook/" in html
    assert "Client created, Client updated, Client deleted, Site created, Site updated, Site deleted" in html
    assert "Basic: username <code>halopsa</code>" in html
    assert 'id="webhook-today">1 event<' in html  # the refused body is not counted as an event received
    assert "The body is not JSON." in html
    assert "pw-never-shown-8812" not in html


@pytest.mark.django_db(transaction=True)
def test_send_a_test_event_posts_to_the_webhook_over_http(client, admin_user, live_server, settings) -> None:
    from syncapp.choices import WebhookEventStatus
    from syncapp.models import WebhookEvent

    settings.HALO_WEBHOOK_TOKEN = "token-never-shown-5521"
    client.force_login(admin_user)
    host = live_server.url.removeprefix("http://")
    response = client.post(reverse("syncapp:connection-webhook-test"), HTTP_HOST=host)
    html = response.content.decode()
    assert "reached" in html and 'id="webhook-check-result"' in html
    assert WebhookEvent.objects.get().status == WebhookEventStatus.TEST
    assert "token-never-shown-5521" not in html

    settings.HALO_WEBHOOK_TOKEN = ""
    html = client.post(reverse("syncapp:connection-webhook-test"), HTTP_HOST=host).content.decode()
    assert "Webhooks are off" in html

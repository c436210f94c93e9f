"""Security headers on the screens: CSP without inline code, Permissions-Policy, no caching of customer data."""

import re
from pathlib import Path

import pytest
from django.urls import reverse

from tests.factories import CustomerFactory, FieldChangeFactory, HaloLinkFactory, SyncRunFactory

pytestmark = pytest.mark.django_db

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"
INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.IGNORECASE)
INLINE_STYLE = re.compile(r"<style\b|\sstyle\s*=|\son[a-z]+\s*=|javascript:", re.IGNORECASE)


@pytest.fixture
def screens(db) -> list[str]:
    customer = CustomerFactory(name="Acme Pty Ltd")
    HaloLinkFactory(customer=customer)
    FieldChangeFactory(customer=customer, field="name", old_value="Acme", new_value="Acme Pty Ltd")
    run = SyncRunFactory()
    return [
        reverse("syncapp:customer-list"),
        reverse("syncapp:customer-detail", args=[customer.pk]),
        reverse("syncapp:matching"),
        reverse("syncapp:match-customer", args=[CustomerFactory(name="Local").pk]),
        reverse("syncapp:run-list"),
        reverse("syncapp:run-detail", args=[run.pk]),
        reverse("syncapp:run-progress", args=[run.pk]),
        reverse("syncapp:sync-halopsa"),
        reverse("syncapp:field-mappings"),
        reverse("syncapp:connection"),
    ]


def test_every_screen_sends_a_strict_csp_permissions_policy_and_no_store(admin_client_, screens) -> None:
    for url in screens:
        response = admin_client_.get(url)
        assert response.status_code == 200, url
        csp = response["Content-Security-Policy"]
        assert "script-src 'self'" in csp and "style-src 'self'" in csp and "unsafe-inline" not in csp, url
        assert "frame-ancestors 'none'" in csp and "object-src 'none'" in csp
        assert "camera=()" in response["Permissions-Policy"] and "geolocation=()" in response["Permissions-Policy"]
        cache_control = response["Cache-Control"]
        assert "private" in cache_control and "no-store" in cache_control, (url, cache_control)


def test_no_screen_carries_inline_scripts_styles_or_event_handlers(admin_client_, screens) -> None:
    for url in screens:
        html = admin_client_.get(url).content.decode()
        assert not INLINE_SCRIPT.search(html), url
        assert not INLINE_STYLE.search(html), (url, INLINE_STYLE.search(html))


def test_no_template_has_inline_scripts_or_styles() -> None:
    offenders = []
    for template in TEMPLATES.rglob("*.html"):
        text = template.read_text()
        if INLINE_SCRIPT.search(text) or INLINE_STYLE.search(text):
            offenders.append(str(template.relative_to(TEMPLATES)))
    assert offenders == []


def test_the_login_and_lockout_pages_carry_the_csp_too(client) -> None:
    response = client.get(reverse("login"))
    assert "script-src 'self'" in response["Content-Security-Policy"]
    assert "Permissions-Policy" in response


def test_the_admin_pages_are_not_cached_either(admin_client_) -> None:
    response = admin_client_.get(reverse("admin:syncapp_customer_changelist"))
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"] and "private" in response["Cache-Control"]

"""Foundation guarantees: login everywhere, database constraints, staff groups and deployment settings."""

import importlib

import pytest
from django.contrib.auth.models import Group
from django.db import IntegrityError, transaction
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from syncapp.choices import SyncStatus, SyncTrigger
from syncapp.models import FieldChange, HaloLink, Site, SyncRun, SyncSchedule
from tests.factories import CustomerFactory, FieldChangeFactory, HaloLinkFactory, SiteFactory, SyncRunFactory


def _portal_paths() -> list[str]:
    """Every URL of the staff portal, with 1 for each path argument."""
    paths = []

    def walk(patterns, prefix: str, namespace: str) -> None:
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                if pattern.namespace == "admin":
                    continue
                ns = pattern.namespace or namespace
                walk(pattern.url_patterns, prefix, ns)
            elif isinstance(pattern, URLPattern) and pattern.name:
                name = f"{namespace}:{pattern.name}" if namespace else pattern.name
                kwargs = {key: 1 for key in pattern.pattern.converters}
                paths.append(reverse(name, kwargs=kwargs))

    walk(get_resolver().url_patterns, "", "")
    return sorted(set(paths))


PORTAL_PATHS = _portal_paths()


# The login page, and HaloPSA's webhook endpoint, which has its own authentication (tests/webhooks/).
PUBLIC_PATHS = {"/login/", "/halo/webhook/"}


@pytest.mark.django_db
@pytest.mark.parametrize("path", [p for p in PORTAL_PATHS if p not in PUBLIC_PATHS] + ["/admin/"])
@pytest.mark.parametrize("method", ["get", "post"])
def test_anonymous_requests_redirect_to_login(client, path: str, method: str) -> None:
    response = getattr(client, method)(path)
    assert response.status_code == 302
    login = "/admin/login/" if path.startswith("/admin/") else "/login/"
    assert response["Location"].startswith(login)


@pytest.mark.django_db
def test_login_page_is_public(client) -> None:
    response = client.get("/login/")
    assert response.status_code == 200
    assert b"Sign in" in response.content


@pytest.mark.django_db
def test_a_login_leads_to_the_customers_screen(client, billing_user) -> None:
    response = client.post("/login/", {"username": "billing", "password": "correct-horse-battery"})
    assert response.status_code == 302
    assert response["Location"] == reverse("syncapp:customer-list")


@pytest.mark.django_db(transaction=True)
def test_a_halopsa_client_links_at_most_one_customer() -> None:
    HaloLinkFactory(halo_id=77)
    with pytest.raises(IntegrityError):
        HaloLinkFactory(halo_id=77)


@pytest.mark.django_db(transaction=True)
def test_a_customer_has_at_most_one_link() -> None:
    link = HaloLinkFactory(halo_id=78)
    with pytest.raises(IntegrityError):
        HaloLink.objects.create(customer=link.customer, halo_id=79, method="matched")


@pytest.mark.django_db(transaction=True)
def test_a_halopsa_site_belongs_to_at_most_one_site() -> None:
    SiteFactory(halo_id=501)
    SiteFactory(halo_id=None)
    SiteFactory(halo_id=None)  # many local-only sites without a HaloPSA id are fine
    with pytest.raises(IntegrityError):
        SiteFactory(halo_id=501)
    assert Site.objects.count() == 3


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("first", [SyncStatus.QUEUED, SyncStatus.RUNNING])
@pytest.mark.parametrize("second", [SyncStatus.QUEUED, SyncStatus.RUNNING])
def test_at_most_one_sync_run_is_open(first: str, second: str) -> None:
    SyncRunFactory(status=SyncStatus.SUCCEEDED)
    SyncRunFactory(status=SyncStatus.FAILED)
    SyncRunFactory(status=first)
    with pytest.raises(IntegrityError):
        SyncRunFactory(status=second)
    assert SyncRun.objects.filter(status__in=SyncStatus.open_values()).count() == 1


@pytest.mark.django_db(transaction=True)
def test_closed_runs_free_the_slot() -> None:
    run = SyncRunFactory(status=SyncStatus.RUNNING, trigger=SyncTrigger.SCHEDULED)
    run.status = SyncStatus.ABANDONED
    run.save()
    assert SyncRunFactory(status=SyncStatus.QUEUED).pk


@pytest.mark.django_db(transaction=True)
def test_a_sync_history_row_names_its_run() -> None:
    customer = CustomerFactory()
    with pytest.raises(IntegrityError):
        FieldChange.objects.create(customer=customer, field="name", origin="sync", sync_run=None)


@pytest.mark.django_db(transaction=True)
def test_the_schedule_is_a_single_row() -> None:
    SyncSchedule.objects.create()
    with pytest.raises(IntegrityError):
        SyncSchedule.objects.create(singleton=2)
    with pytest.raises(IntegrityError), transaction.atomic():
        SyncSchedule.objects.create()


@pytest.mark.django_db
def test_history_is_append_only() -> None:
    change = FieldChangeFactory()
    change.new_value = "Tampered"
    with pytest.raises(TypeError):
        change.save()
    with pytest.raises(TypeError):
        change.delete()
    with pytest.raises(TypeError):
        FieldChange.objects.filter(pk=change.pk).update(new_value="Tampered")
    with pytest.raises(TypeError):
        FieldChange.objects.all().delete()
    assert FieldChange.objects.get(pk=change.pk).new_value == "New"


VIEW = {
    "view_customer",
    "view_site",
    "view_halolink",
    "view_syncrun",
    "view_fieldchange",
    "view_halocliententry",
    "view_duplicatecandidate",
}
EDIT = {"add_customer", "change_customer", "add_site", "change_site"}


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("group", "expected"),
    [
        ("Billing staff", VIEW | EDIT | {"match_customer"}),
        ("Sync operators", VIEW | EDIT | {"match_customer", "run_halo_sync"}),
    ],
)
def test_staff_groups_hold_exactly_their_permissions(group: str, expected: set[str]) -> None:
    permissions = Group.objects.get(name=group).permissions.all()
    assert {p.codename for p in permissions} == expected
    assert {p.content_type.app_label for p in permissions} == {"syncapp"}


@pytest.mark.django_db
def test_group_members_get_the_app_permissions(billing_user, operator_user) -> None:
    assert billing_user.has_perm("syncapp.match_customer")
    assert not billing_user.has_perm("syncapp.run_halo_sync")
    assert operator_user.has_perm("syncapp.run_halo_sync")
    assert billing_user.has_perm("syncapp.add_customer") and billing_user.has_perm("syncapp.change_site")
    assert not billing_user.has_perm("syncapp.delete_customer")  # nothing is deleted


@pytest.mark.django_db
def test_the_group_migrations_run_twice_give_the_same_groups(staff_groups) -> None:
    from django.apps import apps

    before = {g.name: sorted(g.permissions.values_list("codename", flat=True)) for g in Group.objects.all()}
    importlib.import_module("syncapp.migrations.0002_staff_groups").create_groups(apps, None)
    importlib.import_module("syncapp.migrations.0004_matching_billing_permissions").grant_editing(apps, None)
    after = {g.name: sorted(g.permissions.values_list("codename", flat=True)) for g in Group.objects.all()}
    assert before == after

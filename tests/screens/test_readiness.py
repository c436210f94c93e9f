"""Invoice export readiness: who would not export and why, its filters, CSV export, permission and query counts."""

import csv
import io

import pytest
from django.urls import reverse

from syncapp.choices import ExportBlock, NotSyncingReason
from syncapp.models import Customer, HaloLink
from syncapp.selectors.readiness import export_readiness_counts
from tests.factories import CustomerFactory, HaloLinkFactory, bulk_create_links

URL = reverse("syncapp:export-readiness")
CSV_URL = reverse("syncapp:export-readiness-csv")
# Session, user, the user's group and direct permissions, the per-reason counts (which also count the rows the
# page lists, unless it searches by name) and the page.
READINESS_QUERIES = 6


def _portal() -> dict[str, Customer]:
    """One customer per reason, one with two reasons, one that exports fine and one inactive (never listed)."""
    customers = {
        "typed": CustomerFactory(name="Typed Co"),
        "unticked": CustomerFactory(name="Unticked Co"),
        "halo_inactive": CustomerFactory(name="Halo Inactive Co"),
        "no_site": CustomerFactory(name="No Site Co"),
        "both": CustomerFactory(name="Missing And Siteless Co"),
        "fine": CustomerFactory(name="Fine Co"),
        "inactive": CustomerFactory(name="Inactive Typed Co", is_active=False),
    }
    HaloLinkFactory(customer=customers["unticked"], not_syncing_reason=NotSyncingReason.UNTICKED, in_scope=False)
    HaloLinkFactory(customer=customers["halo_inactive"], halo_inactive=True)
    HaloLinkFactory(customer=customers["no_site"], main_site_missing=True)
    HaloLinkFactory(customer=customers["both"], not_syncing_reason=NotSyncingReason.MISSING, main_site_missing=True)
    HaloLinkFactory(customer=customers["fine"])
    return customers


def _names(response) -> list[str]:
    return [row.record.name for row in response.context["table"].paginated_rows]


def test_lists_active_customers_that_would_not_export_with_every_reason(billing_client) -> None:
    _portal()
    response = billing_client.get(URL)
    assert _names(response) == ["Halo Inactive Co", "Missing And Siteless Co", "No Site Co", "Typed Co", "Unticked Co"]
    html = response.content.decode()
    assert "Not syncing: Client no longer found in HaloPSA" in html and "No main site in HaloPSA" in html
    assert "Fine Co" not in html and "Inactive Typed Co" not in html


def test_counts_per_reason_count_a_customer_under_each_of_its_reasons(db) -> None:
    _portal()
    assert export_readiness_counts() == {
        "total": 5,
        ExportBlock.NO_HALO_ID: 1,
        ExportBlock.NOT_SYNCING: 2,
        ExportBlock.HALO_INACTIVE: 1,
        ExportBlock.NO_MAIN_SITE: 2,
    }


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"reason": "no_halo_id"}, ["Typed Co"]),
        ({"reason": "not_syncing"}, ["Missing And Siteless Co", "Unticked Co"]),
        ({"reason": "halo_inactive"}, ["Halo Inactive Co"]),
        ({"reason": "no_main_site"}, ["Missing And Siteless Co", "No Site Co"]),
        ({"q": "site"}, ["Missing And Siteless Co", "No Site Co"]),
        ({"reason": "no_main_site", "q": "missing"}, ["Missing And Siteless Co"]),
    ],
)
def test_filters(billing_client, query: dict, expected: list[str]) -> None:
    _portal()
    assert _names(billing_client.get(URL, query)) == expected


def test_a_bad_reason_is_refused_on_the_form_not_a_crash(billing_client) -> None:
    _portal()
    response = billing_client.get(URL, {"reason": "nonsense"})
    assert response.status_code == 200
    assert len(_names(response)) == 5  # the bad value filters nothing
    assert 'class="field-error"' in response.content.decode()  # and the form says why


def test_the_customers_header_counts_link_to_the_filtered_page(billing_client) -> None:
    _portal()
    html = billing_client.get(reverse("syncapp:customer-list")).content.decode()
    assert "5 active customers won't export invoices" in html
    assert f'href="{URL}?reason=not_syncing" data-reason="not_syncing">Not syncing: <b>2</b>' in html
    assert 'data-reason="halo_inactive"' in html


def test_a_portal_where_everything_exports_says_so(billing_client) -> None:
    HaloLinkFactory(customer=CustomerFactory(name="Fine Co"))
    assert "Every active customer's invoices would export" in billing_client.get(URL).content.decode()
    assert (
        "Every active customer's invoices would export"
        in billing_client.get(reverse("syncapp:customer-list")).content.decode()
    )


def _csv(response) -> list[dict]:
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    return list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))


def test_csv_export_has_the_rows_of_the_screen_under_the_same_filters(billing_client) -> None:
    customers = _portal()
    rows = _csv(billing_client.get(CSV_URL, {"reason": "not_syncing"}))
    assert [row["Customer"] for row in rows] == _names(billing_client.get(URL, {"reason": "not_syncing"}))
    both = next(row for row in rows if row["Customer"] == "Missing And Siteless Co")
    assert both["Why not"] == "Not syncing: Client no longer found in HaloPSA; No main site in HaloPSA"
    assert both["HaloPSA id"] == str(customers["both"].halo_link.halo_id)
    assert "main site" in both["What to do"]


def test_csv_export_has_every_page_not_only_the_first(billing_client) -> None:
    Customer.objects.bulk_create(Customer(name=f"Typed {n:03d}") for n in range(60))
    assert len(_names(billing_client.get(URL))) == 25
    assert len(_csv(billing_client.get(CSV_URL))) == 60


def test_match_links_only_for_people_who_may_match(billing_client, client, django_user_model) -> None:
    _portal()
    typed = Customer.objects.get(name="Typed Co")
    assert reverse("syncapp:match-customer", args=[typed.pk]) in billing_client.get(URL).content.decode()
    viewer = django_user_model.objects.create_user("viewer", password="x")
    from django.contrib.auth.models import Permission

    viewer.user_permissions.add(Permission.objects.get(codename="view_customer"))
    client.force_login(viewer)
    assert reverse("syncapp:match-customer", args=[typed.pk]) not in client.get(URL).content.decode()


@pytest.mark.parametrize("url", [URL, CSV_URL])
def test_needs_the_view_permission(client, django_user_model, url: str) -> None:
    client.force_login(django_user_model.objects.create_user("nobody", password="x"))
    assert client.get(url).status_code == 403


def _bulk(count: int) -> None:
    customers = Customer.objects.bulk_create(Customer(name=f"Customer {n:05d}") for n in range(count))
    bulk_create_links(
        HaloLink(customer=c, halo_id=50_000 + n, method="imported", main_site_missing=n % 3 == 0)
        for n, c in enumerate(customers[::2])
    )


@pytest.mark.parametrize("count", [10, 10_000])
def test_queries_do_not_grow_with_the_number_of_customers(billing_client, django_assert_num_queries, count) -> None:
    _bulk(count)
    with django_assert_num_queries(READINESS_QUERIES):
        response = billing_client.get(URL)
    assert response.status_code == 200
    assert response.context["counts"]["total"] == count // 2 + len(range(0, count // 2 + count % 2, 3))
    assert response.context["table"].paginator.found == response.context["counts"]["total"]


@pytest.mark.parametrize("count", [10, 10_000])
def test_a_name_search_counts_its_rows_in_one_more_query(billing_client, django_assert_num_queries, count) -> None:
    _bulk(count)
    with django_assert_num_queries(READINESS_QUERIES + 1):
        response = billing_client.get(URL, {"q": "customer", "reason": ExportBlock.NO_HALO_ID})
    assert response.status_code == 200
    shown = response.context["table"].paginator
    assert shown.found == min(response.context["counts"][ExportBlock.NO_HALO_ID], shown.depth + 1)


def test_each_reason_lists_as_many_rows_as_its_count_says(billing_client) -> None:
    _portal()
    for reason in ExportBlock:
        response = billing_client.get(URL, {"reason": reason})
        assert len(_names(response)) == response.context["counts"][reason] == response.context["table"].paginator.count


def test_csv_cells_that_a_spreadsheet_would_run_as_formulas_stay_text(billing_client) -> None:
    CustomerFactory(name='=HYPERLINK("http://evil.example","Click")')
    CustomerFactory(name="Plain Co")
    rows = _csv(billing_client.get(CSV_URL))
    assert [row["Customer"] for row in rows] == ['\'=HYPERLINK("http://evil.example","Click")', "Plain Co"]


# Session, user, the user's group and direct permissions, and the rows: the CSV holds every row in one query.
READINESS_CSV_QUERIES = 5


@pytest.mark.parametrize("count", [10, 10_000])
def test_the_csv_takes_the_same_queries_whatever_the_number_of_customers(
    billing_client, django_assert_num_queries, count
) -> None:
    _bulk(count)
    with django_assert_num_queries(READINESS_CSV_QUERIES):
        response = billing_client.get(CSV_URL)
    assert len(_csv(response)) == export_readiness_counts()["total"]

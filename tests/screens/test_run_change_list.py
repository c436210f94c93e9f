"""A run's change list and the sync history at scale: index order, one read of the filter, rows drawn as before."""

import re
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from syncapp.choices import ChangeAction, ChangeOrigin, SyncKind, SyncStatus, SyncTrigger
from syncapp.filters import RunChangeFilter
from syncapp.models import Customer, FieldChange, Site, SyncRun
from syncapp.selectors.runs import sync_run_changes, sync_run_list
from syncapp.tables import TABLE_TEMPLATE, RunChangeTable, SyncRunTable
from syncapp.templatetags.history_tags import old_new
from syncapp.views import runs as run_views
from tests.factories import CustomerFactory, FieldChangeFactory, SiteFactory, SyncRunFactory, UserFactory

pytestmark = pytest.mark.django_db
INDEX = "fieldchange_run_customer_idx"
# Session, user, group and user permissions, the run, the Extra Field labels, the first ids of the list (its count)
# and the page's rows: the same with a filter, which is read once.
RUN_PAGE_QUERIES = 8


def run_url(run: SyncRun) -> str:
    return reverse("syncapp:run-detail", args=[run.pk])


def explain(sql: str) -> str:
    """The plan of a statement as captured (its parameters already written into it)."""
    with connection.cursor() as cursor:
        prefix = "EXPLAIN QUERY PLAN " if connection.vendor == "sqlite" else "EXPLAIN "
        cursor.execute(prefix + sql)
        return "\n".join(" ".join(str(part) for part in row) for row in cursor.fetchall())


def walks_index_in_order(explained: str) -> bool:
    if connection.vendor == "sqlite":
        return INDEX in explained and "TEMP B-TREE FOR ORDER BY" not in explained
    return f"Index Scan using {INDEX}" in explained or f"Index Only Scan using {INDEX}" in explained


def change_queries(client, run: SyncRun, query: dict) -> list[str]:
    """The statements the run's page sends to the change table."""
    with CaptureQueriesContext(connection) as captured:
        assert client.get(run_url(run), query).status_code == 200
    return [q["sql"] for q in captured.captured_queries if "syncapp_fieldchange" in q["sql"]]


# --- a big run: the page reads along the index ----------------------------------------------------------------------

CUSTOMERS = 1_500


@pytest.fixture
def big_run() -> SyncRun:
    """A run that wrote 3,000 changes (a customer and a site row for each of 1,500 customers), a third of the table:
    two other runs wrote the same again."""
    runs = [SyncRunFactory(finished_at=timezone.now()) for _ in range(3)]
    customers = Customer.objects.bulk_create(Customer(name=f"Acme {n:05d} Pty Ltd") for n in range(CUSTOMERS))
    sites = Site.objects.bulk_create(Site(customer=c, name="Head office") for c in customers)
    FieldChange.objects.bulk_create(
        FieldChange(
            customer=customer,
            site=site if row else None,
            action=ChangeAction.CHANGED if row else ChangeAction.CREATED,
            field="city" if row else "",
            old_value="Perth" if row else "",
            new_value="Bunbury" if row else customer.name,
            origin=ChangeOrigin.SYNC,
            sync_run=run,
        )
        for run in runs
        for customer, site in zip(customers, sites, strict=True)
        for row in (0, 1)
    )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return runs[1]


def test_the_default_order_walks_the_run_index(big_run) -> None:
    explained = sync_run_changes(run=big_run).values("pk")[:51].explain()
    assert walks_index_in_order(explained), explained


def test_the_screens_own_queries_use_the_index_and_the_primary_key(billing_client, big_run, monkeypatch) -> None:
    # As deep, relative to the run, as the page's 5,000 rows are in a run of 100,000 changes.
    monkeypatch.setattr(run_views, "RUN_CHANGES_DEPTH", 150)
    ids_sql, page_sql = change_queries(billing_client, big_run, {})
    explained = explain(ids_sql)
    assert walks_index_in_order(explained), explained
    # The page's rows by primary key, not every change of the run tested against the page's ids.
    explained = explain(page_sql)
    if connection.vendor == "sqlite":
        assert "SEARCH syncapp_fieldchange USING INTEGER PRIMARY KEY" in explained, explained
    else:
        assert "syncapp_fieldchange_pkey" in explained, explained
    assert '"sync_run_id" =' not in page_sql


def test_the_customer_filter_reads_the_names_once_and_probes_the_index(billing_client, big_run) -> None:
    statements = change_queries(billing_client, big_run, {"customer": "acme 012"})
    assert sum("syncapp_customer" in sql and "LIKE" in sql.upper() for sql in statements) == 1
    explained = explain(statements[0])
    if connection.vendor == "sqlite":
        assert f"{INDEX} (sync_run_id=? AND customer_id=?)" in explained, explained
    else:
        # PostgreSQL finds the names as it judges best at this size (the trigram index of migration 0012 where it
        # pays: tests/screens/test_search_indexes.py); the run's changes always come from an index on the run.
        assert "Seq Scan on syncapp_fieldchange" not in explained, explained
        assert INDEX in explained or "syncapp_fieldchange_sync_run_id" in explained, explained
    response = billing_client.get(run_url(big_run), {"customer": "acme 012"})
    shown = [row.record for row in response.context["table"].paginated_rows]
    assert response.context["table"].paginator.count == 200  # 100 customers' changes in this run
    assert len(shown) == 50 and all(change.customer.name.startswith("Acme 012") for change in shown)
    assert [change.pk for change in shown] == sorted(change.pk for change in shown)


def test_a_deep_page_is_a_slice_of_the_ids_read_once(billing_client, big_run, monkeypatch) -> None:
    monkeypatch.setattr(run_views, "RUN_CHANGES_DEPTH", 120)
    everything = list(sync_run_changes(run=big_run).values_list("pk", flat=True)[:120])
    response = billing_client.get(run_url(big_run), {"page": 3})
    table = response.context["table"]
    assert [row.record.pk for row in table.paginated_rows] == everything[100:120]
    assert table.paginator.capped and table.paginator.count == 120
    assert "Pages stop after the first 120." in response.content.decode()
    # Past the last page: the last page, from the same ids.
    table = billing_client.get(run_url(big_run), {"page": 99}).context["table"]
    assert [row.record.pk for row in table.paginated_rows] == everything[100:120]


# --- order and filters, as staff read them --------------------------------------------------------------------------


def _run_in_written_order() -> tuple[SyncRun, list[FieldChange]]:
    """Customers created Zeta, Alpha, Mid (the order the portal got them), their changes written in that order."""
    run = SyncRunFactory(status=SyncStatus.SUCCEEDED, finished_at=timezone.now())
    zeta, alpha, mid = (CustomerFactory(name=name) for name in ("Zeta Pty Ltd", "Alpha Pty Ltd", "Mid Pty Ltd"))
    written = []
    for customer in (zeta, alpha, mid):
        written.append(FieldChangeFactory(customer=customer, sync_run=run, field="city"))
        written.append(FieldChangeFactory(customer=customer, sync_run=run, field="postcode"))
    written.append(FieldChangeFactory(customer=zeta, sync_run=run, field="name"))  # a later change of Zeta
    return run, written


def test_the_default_order_groups_each_customers_changes_in_the_order_written(billing_client) -> None:
    run, written = _run_in_written_order()
    shown = [row.record for row in billing_client.get(run_url(run)).context["table"].paginated_rows]
    assert shown == [written[0], written[1], written[6], written[2], written[3], written[4], written[5]]


def test_the_customer_column_still_sorts_by_name(billing_client) -> None:
    run, _ = _run_in_written_order()
    table = billing_client.get(run_url(run), {"sort": "customer"}).context["table"]
    assert [row.record.customer.name for row in table.paginated_rows] == ["Alpha Pty Ltd"] * 2 + ["Mid Pty Ltd"] * 2 + [
        "Zeta Pty Ltd"
    ] * 3
    table = billing_client.get(run_url(run), {"sort": "-customer"}).context["table"]
    assert table.paginated_rows[0].record.customer.name == "Zeta Pty Ltd"


@pytest.mark.parametrize(
    ("query", "fields"),
    [
        ({"customer": "alpha"}, ["city", "postcode"]),
        ({"customer": "ALPHA pty"}, ["city", "postcode"]),
        ({"customer": "Nobody"}, []),
        ({"field": "name"}, ["name"]),
        ({"customer": "zeta", "field": "postcode"}, ["postcode"]),
    ],
)
def test_the_filters_find_the_same_changes(billing_client, query: dict, fields: list[str]) -> None:
    run, _ = _run_in_written_order()
    table = billing_client.get(run_url(run), query).context["table"]
    assert [row.record.field for row in table.paginated_rows] == fields
    assert table.paginator.count == len(fields)


def test_the_customer_filter_is_the_filter_set_s_own(billing_client) -> None:
    run, written = _run_in_written_order()
    found = RunChangeFilter({"customer": "mid"}, queryset=sync_run_changes(run=run)).qs
    assert list(found) == written[4:6]


@pytest.mark.parametrize(
    ("query", "shown"),
    [
        ({"since": "2026-11-03"}, ["late", "next"]),
        ({"until": "2026-11-02"}, ["early", "evening"]),
        ({"since": "2026-11-02", "until": "2026-11-02"}, ["early", "evening"]),
        ({"since": "2026-11-03", "until": "2026-11-03"}, ["late"]),
    ],
)
def test_the_dates_are_days_in_the_portal_time_zone(billing_client, settings, query: dict, shown: list[str]) -> None:
    settings.TIME_ZONE = "Australia/Perth"  # UTC+8: 23:30 on the 2nd in Perth is 15:30 UTC the same day
    run = SyncRunFactory(status=SyncStatus.SUCCEEDED, finished_at=timezone.now())
    perth = ZoneInfo("Australia/Perth")
    for label, at in (
        ("early", datetime(2026, 11, 2, 0, 0, tzinfo=perth)),
        ("evening", datetime(2026, 11, 2, 23, 59, 59, tzinfo=perth)),
        ("late", datetime(2026, 11, 3, 0, 0, tzinfo=perth)),
        ("next", datetime(2026, 11, 4, 8, 0, tzinfo=perth)),
    ):
        FieldChangeFactory(sync_run=run, field="city", new_value=label, changed_at=at)
    table = billing_client.get(run_url(run), query).context["table"]
    assert [row.record.new_value for row in table.paginated_rows] == shown


@pytest.mark.parametrize("changes", [2, 40])
@pytest.mark.parametrize("query", [{}, {"customer": "customer"}, {"customer": "customer", "field": "city"}])
def test_the_page_takes_the_same_queries_whatever_its_length_or_filter(
    billing_client, django_assert_num_queries, changes: int, query: dict
) -> None:
    run = SyncRunFactory(status=SyncStatus.SUCCEEDED, finished_at=timezone.now())
    for n in range(changes):
        customer = CustomerFactory(name=f"Customer {n:03d}")
        FieldChangeFactory(customer=customer, sync_run=run, field="city", old_value="Perth", new_value="Fremantle")
        site = SiteFactory(customer=customer)
        FieldChangeFactory(customer=customer, site=site, sync_run=run, action=ChangeAction.CREATED, field="")
    with django_assert_num_queries(RUN_PAGE_QUERIES):
        response = billing_client.get(run_url(run), query)
    assert response.context["table"].paginator.count == (changes if "field" in query else changes * 2)


# --- the rows look exactly as django-tables2 draws them -------------------------------------------------------------


def _tbody(html: str) -> str:
    return re.search(r"<tbody[^>]*>(.*)</tbody>", html, re.S).group(1)


def _generic_and_own(table_class, data, request_factory, **kwargs) -> tuple[str, str]:
    request = request_factory.get("/")
    own = table_class(data, **kwargs)
    generic = table_class(data, template_name=TABLE_TEMPLATE, **kwargs)
    return _tbody(generic.as_html(request)), _tbody(own.as_html(request))


def test_the_change_rows_are_drawn_as_the_generic_table_draws_them(rf) -> None:
    run, _ = _run_in_written_order()
    customer = CustomerFactory(name="Smith & <Sons>")
    site = SiteFactory(customer=customer, name="Depot <2>")
    for action, field, old, new in (
        (ChangeAction.CREATED, "", "", "Smith & <Sons>"),
        (ChangeAction.CHANGED, "is_active", "Active", "Inactive"),
        (ChangeAction.CHANGED, "invoice_email_to", "", "a@b.example"),
        (ChangeAction.LINKED, "", "", "4711"),
        (ChangeAction.CHANGED, "extra_field_1", "<b>", ""),
    ):
        FieldChangeFactory(
            customer=customer,
            site=site if field == "" else None,
            sync_run=run,
            action=action,
            field=field,
            old_value=old,
            new_value=new,
        )
    labels = {"extra_field_1": "Cost centre"}
    generic, own = _generic_and_own(RunChangeTable, sync_run_changes(run=run), rf, field_labels=labels)
    assert own == generic
    assert '<td  data-label="Site">Depot &lt;2&gt;</td>' in own and "Cost centre" in own
    assert (
        f'<td  data-label="Customer"><a href="{customer.get_absolute_url()}">Smith &amp; &lt;Sons&gt;</a></td>' in own
    )


def test_the_history_rows_are_drawn_as_the_generic_table_draws_them(rf) -> None:
    person = UserFactory(username="jo", first_name="Jo", last_name="Citizen")
    SyncRunFactory(requested_by=person, finished_at=timezone.now(), created_count=1_234, updated_count=5)
    SyncRunFactory(status=SyncStatus.RUNNING)
    SyncRunFactory(kind=SyncKind.WEBHOOK, trigger=SyncTrigger.WEBHOOK, finished_at=timezone.now())
    SyncRunFactory(kind=SyncKind.LINK, finished_at=timezone.now(), failed_count=2)
    generic, own = _generic_and_own(SyncRunTable, sync_run_list(), rf)
    assert own == generic
    assert '<td class="nowrap" data-label="Duration">' in own and "Jo Citizen" in own
    assert '<span class="c-created">Created <b>1,234</b></span>' in own


# --- old → new --------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("action", "field", "old", "new", "html"),
    [
        (
            "changed",
            "is_active",
            "Active",
            "Inactive",
            '<span class="old-new state-change"><span class="state-on old-state">Active</span> '
            '<span class="arrow" aria-label="changed to">→</span> <span class="state-off new-state">Inactive</span>'
            "</span>",
        ),
        (
            "changed",
            "city",
            "",
            "<Perth>",
            '<span class="old-new"><span class="empty-value">(empty)</span> '
            '<span class="arrow" aria-label="changed to">→</span> <ins class="new">&lt;Perth&gt;</ins></span>',
        ),
        (
            "changed",
            "city",
            "A&B",
            "",
            '<span class="old-new"><del class="old">A&amp;B</del> <span class="arrow" aria-label="changed to">→</span>'
            ' <span class="empty-value">(empty)</span></span>',
        ),
        ("created", "", "", "", '<span class="new">Created</span>'),
        ("created", "", "", "Site <1>", '<span class="new">Site &lt;1&gt;</span>'),
        ("linked", "halo_id", "", "42", "Linked to HaloPSA client <b>42</b>"),
        ("unlinked", "halo_id", "42", "", "Unlinked from HaloPSA client <b>42</b>"),
        ("merged_into", "", "", "Acme", "<b>Acme</b>"),
        ("merged_from", "", "", "Acme", "<b>Acme</b>"),
    ],
)
def test_old_new_reads_as_before(action: str, field: str, old: str, new: str, html: str) -> None:
    assert old_new(FieldChange(action=action, field=field, old_value=old, new_value=new)) == html


@pytest.mark.parametrize(
    "query", [{"until": "9999-12-31"}, {"since": "0001-01-01"}, {"since": "0001-01-01", "until": "9999-12-31"}]
)
def test_the_first_and_last_days_there_are_list_every_change(billing_client, settings, query: dict) -> None:
    """A bound at the end of the calendar is bad input at worst: a page, never an overflow (a 500)."""
    settings.TIME_ZONE = "Australia/Perth"  # east of UTC: the first day's midnight is before year 1 in UTC
    run = SyncRunFactory(status=SyncStatus.SUCCEEDED, finished_at=timezone.now())
    FieldChangeFactory(sync_run=run, field="city", new_value="only")
    response = billing_client.get(run_url(run), query)
    assert response.status_code == 200
    assert [row.record.new_value for row in response.context["table"].paginated_rows] == ["only"]

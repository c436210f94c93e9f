"""A customer's page reads its history and merged customers off indexes, however many customers and rows exist."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from syncapp.choices import ChangeAction, ChangeOrigin
from syncapp.models import Customer, FieldChange

pytestmark = pytest.mark.django_db
ROWS = 3_000


@pytest.fixture
def crowd() -> Customer:
    """Many customers with one history row each, one of them (returned) with two merged into it."""
    customers = Customer.objects.bulk_create(Customer(name=f"Customer {n:05d}") for n in range(ROWS))
    kept = customers[ROWS // 2]
    Customer.objects.filter(pk__in=[customers[1].pk, customers[2].pk]).update(merged_into=kept, is_active=False)
    FieldChange.objects.bulk_create(
        FieldChange(customer=customer, action=ChangeAction.CREATED, origin=ChangeOrigin.STAFF) for customer in customers
    )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return kept


def _plans(client, customer: Customer) -> dict[str, str]:
    """EXPLAIN of the page's statements that read customers merged into it and its history."""
    with CaptureQueriesContext(connection) as captured:
        assert client.get(reverse("syncapp:customer-detail", args=[customer.pk])).status_code == 200
    plans = {}
    for query in captured.captured_queries:
        sql = query["sql"]
        with connection.cursor() as cursor:
            cursor.execute(("EXPLAIN QUERY PLAN " if connection.vendor == "sqlite" else "EXPLAIN ") + sql)
            explained = "\n".join(" ".join(str(part) for part in row) for row in cursor.fetchall())
        if '"merged_into_id" =' in sql and "ORDER BY" in sql:
            plans["merged"] = explained
        elif 'FROM "syncapp_fieldchange"' in sql and "ORDER BY" in sql and "changed_at" in sql:
            plans["history"] = explained
    return plans


def test_merged_customers_and_history_come_from_their_indexes(billing_client, crowd) -> None:
    plans = _plans(billing_client, crowd)
    # Either merged_into index (PostgreSQL takes the foreign key's and sorts the few rows), never a walk of every
    # customer in name order (what SQLite did, told the column is nearly all NULL).
    assert "merged_into_id" in plans["merged"] or "customer_merged_into_idx" in plans["merged"], plans["merged"]
    assert "customer_name_idx" not in plans["merged"], plans["merged"]
    # An index on the history's customer (either), never a read of every history row.
    assert "fieldchange_customer" in plans["history"], plans["history"]
    assert "Seq Scan on syncapp_fieldchange" not in plans["history"], plans["history"]
    assert "SCAN syncapp_fieldchange\n" not in plans["history"] + "\n", plans["history"]


def test_the_timeline_holds_the_merged_customers_rows(billing_client, crowd) -> None:
    response = billing_client.get(reverse("syncapp:customer-detail", args=[crowd.pk]))
    shown = {change.customer_id for change in response.context["history_page"].object_list}
    assert shown == {crowd.pk, *crowd.merged_customers.values_list("pk", flat=True)}

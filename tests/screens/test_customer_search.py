"""The customer search: every attribute a clerk may hold finds the customer and says what matched; bad input."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from syncapp.models import Customer
from syncapp.selectors.customer_search import MAX_SEARCH_LENGTH, CustomerSearch
from tests.factories import CustomerFactory, HaloLinkFactory

URL = reverse("syncapp:customer-list")

pytestmark = pytest.mark.django_db


@pytest.fixture
def customers() -> dict[str, Customer]:
    """Two customers that differ in every searchable attribute, and one with nothing to find."""
    knight = HaloLinkFactory(
        halo_id=4711,
        customer__name="Knight & Gibson Partners Pty. Ltd.",
        customer__invoice_email_to="accounts@knightgibson.com.au",
        customer__invoice_email_cc="boss@kg-holdings.net",
        customer__contact_phone="(02) 9876-5432",
        customer__postcode="2650",
        customer__city="Wagga Wagga",
    ).customer
    acme = CustomerFactory(
        name="ACME Plumbing Ltd",
        invoice_email_to="billing@acme.example",
        contact_phone="+61 3 5550 1234",
        postcode="SW1A 1AA",
        city="Ballarat",
    )
    CustomerFactory(name="Quiet Co", invoice_email_to="", contact_phone="", postcode="", city="")
    return {"knight": knight, "acme": acme}


def search(client, text: str, **filters) -> tuple[list[str], str]:
    response = client.get(URL, {"q": text, **filters})
    assert response.status_code == 200
    rows = [row.name for row in response.context["table"].page.object_list.data]
    return rows, response.content.decode()


@pytest.mark.parametrize(
    ("text", "found", "matched"),
    [
        # Name: partial, any case, punctuation and word order ignored.
        ("gibson", "Knight & Gibson Partners Pty. Ltd.", "Matched: name"),
        ("KNIGHT gibson", "Knight & Gibson Partners Pty. Ltd.", "Matched: name"),
        ("gibson & knight", "Knight & Gibson Partners Pty. Ltd.", "Matched: name"),
        ("pty ltd partners", "Knight & Gibson Partners Pty. Ltd.", "Matched: name"),
        ("plumb", "ACME Plumbing Ltd", "Matched: name"),
        # HaloPSA id.
        ("4711", "Knight & Gibson Partners Pty. Ltd.", "Matched: HaloPSA id"),
        # E-mail: whole address, domain, or the CC list.
        ("accounts@knightgibson.com.au", "Knight & Gibson Partners Pty. Ltd.", "e-mail accounts@knightgibson.com.au"),
        ("acme.example", "ACME Plumbing Ltd", "e-mail billing@acme.example"),
        ("boss@kg-holdings.net", "Knight & Gibson Partners Pty. Ltd.", "CC e-mail boss@kg-holdings.net"),
        # Phone: the digits, however either side wrote them.
        ("0298765432", "Knight & Gibson Partners Pty. Ltd.", "phone (02) 9876-5432"),
        ("02 9876 5432", "Knight & Gibson Partners Pty. Ltd.", "phone (02) 9876-5432"),
        ("9876-5432", "Knight & Gibson Partners Pty. Ltd.", "phone (02) 9876-5432"),
        ("+61 3 5550 1234", "ACME Plumbing Ltd", "phone +61 3 5550 1234"),
        # Postcode and city.
        ("2650", "Knight & Gibson Partners Pty. Ltd.", "postcode 2650"),
        ("sw1a 1aa", "ACME Plumbing Ltd", "postcode SW1A 1AA"),
        ("wagga", "Knight & Gibson Partners Pty. Ltd.", "city Wagga Wagga"),
        ("Ballarat", "ACME Plumbing Ltd", "city Ballarat"),
    ],
)
def test_finds_by_every_attribute_and_says_what_matched(billing_client, customers, text, found, matched) -> None:
    rows, html = search(billing_client, text)
    assert rows == [found]
    assert matched.replace("&", "&amp;") in html


def test_words_may_come_from_different_fields(billing_client, customers) -> None:
    rows, html = search(billing_client, "knight wagga")
    assert rows == ["Knight & Gibson Partners Pty. Ltd."]
    assert "Matched: name; e-mail accounts@knightgibson.com.au; city Wagga Wagga" in html


def test_every_word_must_be_found(billing_client, customers) -> None:
    assert search(billing_client, "knight ballarat")[0] == []


def test_search_combines_with_the_filters(billing_client, customers) -> None:
    assert search(billing_client, "ltd", linked="yes")[0] == ["Knight & Gibson Partners Pty. Ltd."]
    assert search(billing_client, "ltd", linked="no")[0] == ["ACME Plumbing Ltd"]


def test_no_search_says_nothing_about_matches(billing_client, customers) -> None:
    html = billing_client.get(URL).content.decode()
    assert "Matched:" not in html


def test_search_text_follows_every_way_a_name_is_written(billing_client, customers) -> None:
    """search_text is computed by the database, so the sync's bulk writes and plain updates keep it right."""
    knight = customers["knight"]
    knight.name = "Renamed Holdings"
    Customer.objects.bulk_update([knight], ["name"])  # how the sync engine writes changed customers
    assert search(billing_client, "renamed")[0] == ["Renamed Holdings"]
    Customer.objects.filter(pk=knight.pk).update(city="Dubbo", contact_phone="02 6000 1111")
    assert search(billing_client, "dubbo")[0] == ["Renamed Holdings"]
    assert search(billing_client, "0260001111")[0] == ["Renamed Holdings"]
    assert search(billing_client, "wagga")[0] == []
    created = Customer.objects.bulk_create([Customer(name="Bulk Made Ltd", city="Orange")])[0]
    assert search(billing_client, "bulk orange")[0] == [created.name]


@pytest.mark.parametrize(
    "text",
    [
        "acme\x00",
        "\x00",
        "a" * 10_000,
        "acme " * 500,
        "%",
        "_",
        "'; DROP TABLE syncapp_customer; --",
        "\\",
        "Ünïcödé ☃ 🚀",
        "99999999999999999999999",
        "0",
        "   ",
        "|",
    ],
)
def test_bad_input_is_answered_not_a_500(billing_client, customers, text) -> None:
    response = billing_client.get(URL, {"q": text})
    # A NUL is refused with a message (400, no rows, see below); anything else is simply searched for.
    assert response.status_code == (400 if "\x00" in text else 200)
    assert Customer.objects.count() == 3


def test_wildcards_are_searched_for_literally(billing_client, customers) -> None:
    CustomerFactory(name="100% Juice", city="")
    assert search(billing_client, "100%")[0] == ["100% Juice"]
    assert search(billing_client, "_")[0] == []


def test_a_nul_byte_is_refused_with_a_message(billing_client, customers) -> None:
    response = billing_client.get(URL, {"q": "acme\x00"})
    assert response.status_code == 400
    assert not response.context["table"].page.object_list.data  # a refused search lists no rows
    html = response.content.decode()
    assert '<span class="field-error" role="alert">Null characters are not allowed.</span>' in html
    assert "Matched:" not in html


def test_control_characters_are_read_as_spaces() -> None:
    assert CustomerSearch.parse("acme\tplumbing\x01").words == ("acme", "plumbing")


def test_a_very_long_search_is_cut_and_still_answered(billing_client, customers) -> None:
    parsed = CustomerSearch.parse("knight " + "x" * 10_000)
    assert parsed.words == ("knight", "x" * (MAX_SEARCH_LENGTH - len("knight ")))
    assert search(billing_client, "knight " + "x" * 10_000)[0] == []


def test_a_search_without_letters_or_digits_shows_everyone(billing_client, customers) -> None:
    assert len(search(billing_client, "&&& ---")[0]) == 3


def test_a_number_too_large_for_an_id_is_still_searched_as_digits(billing_client, customers) -> None:
    assert CustomerSearch.parse("99999999999").halo_id is None
    assert search(billing_client, "99999999999")[0] == []


@pytest.mark.parametrize("count", [10, 2_000])
def test_search_queries_do_not_grow_with_the_number_of_customers(
    billing_client, django_assert_num_queries, count
) -> None:
    Customer.objects.bulk_create(
        Customer(name=f"Customer {n:05d}", city="Sydney" if n % 2 else "Perth", contact_phone=f"02 9000 {n:04d}")
        for n in range(count)
    )
    HaloLinkFactory(halo_id=77, customer__name="Linked One")
    # Session, user, group and direct permissions, the invoice-readiness counts, the last sync's line (with the last
    # complete sync), the page's ids with the number of matches, and the page's rows.
    for text in ("sydney", "77", "02 9000 0001", "customer 0000"):
        with django_assert_num_queries(8):
            response = billing_client.get(URL, {"q": text})
        assert response.status_code == 200


def _statements_searching(client, query: dict) -> tuple[object, list[str]]:
    """The response, and the statements that searched the customers (not those that load rows by their ids)."""
    with CaptureQueriesContext(connection) as captured:
        response = client.get(URL, query)
    return response, [
        q["sql"]
        for q in captured.captured_queries
        if "LIKE" in q["sql"] and '"syncapp_customer"."id" IN (' not in q["sql"]
    ]


def test_a_search_reads_the_rows_once_for_its_page_and_its_count(billing_client) -> None:
    Customer.objects.bulk_create(Customer(name=f"Walker {n:03d}", city="Perth") for n in range(60))
    Customer.objects.bulk_create(Customer(name=f"Other {n:03d}") for n in range(40))
    response, searching = _statements_searching(billing_client, {"q": "walker", "page": 2})
    assert len(searching) == 1, searching
    paginator = response.context["table"].paginator
    assert (paginator.count, paginator.num_pages, response.context["table"].page.number) == (60, 3, 2)
    assert next(row.record.name for row in response.context["table"].paginated_rows) == "Walker 025"


def test_a_search_page_past_the_end_shows_the_last_one(billing_client) -> None:
    Customer.objects.bulk_create(Customer(name=f"Walker {n:03d}") for n in range(30))
    response, searching = _statements_searching(billing_client, {"q": "walker", "page": 9})
    assert response.status_code == 200 and response.context["table"].page.number == 2
    assert [row.record.name for row in response.context["table"].paginated_rows] == [
        "Walker 025",
        "Walker 026",
        "Walker 027",
        "Walker 028",
        "Walker 029",
    ]
    assert len(searching) == 2  # the empty page and the count (the last page is then read as any page is)


def test_a_search_finding_nothing_counts_nothing_more(billing_client) -> None:
    Customer.objects.bulk_create(Customer(name=f"Walker {n:03d}") for n in range(30))
    response, searching = _statements_searching(billing_client, {"q": "zzqxv"})
    assert response.status_code == 200 and response.context["table"].paginator.count == 0
    assert len(searching) == 1


def test_a_search_finding_more_than_the_depth_says_more_than(billing_client, settings) -> None:
    from syncapp.views import customers as views

    Customer.objects.bulk_create(Customer(name=f"Walker {n:03d}") for n in range(60))
    original = views.CUSTOMER_LIST_DEPTH
    views.CUSTOMER_LIST_DEPTH = 50
    try:
        response = billing_client.get(URL, {"q": "walker", "page": 2})
    finally:
        views.CUSTOMER_LIST_DEPTH = original
    paginator = response.context["table"].paginator
    assert (paginator.capped, paginator.count, paginator.num_pages) == (True, 50, 2)
    assert "of more than 50" in response.content.decode()

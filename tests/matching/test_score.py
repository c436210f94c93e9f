"""The match score pinned on a table of real-looking pairs: what must match, how strongly, and what must not."""

import pytest

from syncapp.choices import MatchLevel
from syncapp.matching.score import WEIGHTS, email_domain, name_similarity, name_tokens, phone_digits, profile, score

HIGH, MEDIUM, LOW, NONE = MatchLevel.HIGH, MatchLevel.MEDIUM, MatchLevel.LOW, None

# (customer as typed in Datagate, HaloPSA client, expected level, reasons that must be among the given ones)
PAIRS = [
    # The case of the issue: a hand-typed name against the HaloPSA client's fuller name.
    (
        {"name": "Knight and Gibson"},
        {"name": "Knight & Gibson Partners"},
        HIGH,
        {"same name apart from legal words, “&” or “St.”"},
    ),
    ({"name": "St. Vincent's Medical Centre"}, {"name": "Saint Vincents Medical Centre"}, HIGH, set()),
    ({"name": "Acme Pty Ltd"}, {"name": "ACME Proprietary Limited"}, HIGH, set()),
    ({"name": "acme pty. ltd"}, {"name": "Acme Pty Ltd"}, HIGH, {"same name"}),
    ({"name": "A.B.C. Plumbing"}, {"name": "ABC Plumbing Pty Ltd"}, HIGH, set()),
    # An initial is alike, not the same: the phone makes it High.
    ({"name": "J Smith Electrical"}, {"name": "John Smith Electrical"}, MEDIUM, {"names 90% alike"}),
    (
        {"name": "J Smith Electrical", "phone": "(02) 9555 1234"},
        {"name": "John Smith Electrical", "phone": "+61 2 9555 1234"},
        HIGH,
        {"names 90% alike", "same phone"},
    ),
    # A different name but the same phone, e-mail domain and address: a trading name of the same firm.
    (
        {"name": "Coastal IT", "phone": "07 3000 1111", "emails": "accounts@coastal-it.com.au"},
        {"name": "Coastal Information Technology", "phone": "0730001111", "emails": "billing@coastal-it.com.au"},
        HIGH,
        {"same phone", "same e-mail domain"},
    ),
    # A typo in the name, same postcode and street: High.
    (
        {"name": "Harbourside Accountants", "postcode": "2000", "address_1": "12 George Street"},
        {"name": "Harbourside Acountants", "postcode": "2000", "address_1": "12 George St"},
        HIGH,
        {"same postcode", "same address"},
    ),
    # Must NOT match: same suburb and postcode, different firm.
    (
        {"name": "Harbour View Dental", "city": "Manly", "postcode": "2095"},
        {"name": "Manly Plumbing Services", "city": "Manly", "postcode": "2095"},
        NONE,
        set(),
    ),
    (
        {"name": "Harbour View Dental", "city": "Manly", "postcode": "2095"},
        {"name": "Harbour View Plumbing", "city": "Manly", "postcode": "2095"},
        LOW,
        {"same postcode", "same city"},
    ),
    # Must NOT be High: two firms in one building sharing only a public mail provider.
    (
        {"name": "Bright Dental", "emails": "brightdental@gmail.com", "address_1": "1 Main St"},
        {"name": "Peak Physio", "emails": "peakphysio@gmail.com", "address_1": "1 Main Street"},
        LOW,
        {"same address"},
    ),
    ({"name": "Smith Legal"}, {"name": "Smith Accounting"}, NONE, set()),
    ({"name": "Acme"}, {"name": "Apex"}, NONE, set()),
]


@pytest.mark.parametrize(("customer", "client", "level", "reasons"), PAIRS, ids=lambda v: str(v)[:40])
def test_each_pair_scores_its_level_with_its_reasons(customer, client, level, reasons) -> None:
    result = score(profile(**customer), profile(**client))
    assert result.level == level, (result.points, result.reasons)
    assert reasons <= set(result.reasons)


def test_the_ranking_puts_the_same_firm_first() -> None:
    customer = profile(name="Knight and Gibson", phone="08 9200 1000", postcode="6000", city="Perth")
    clients = {
        "Knight & Gibson Partners": profile(name="Knight & Gibson Partners", phone="(08) 9200 1000", postcode="6000"),
        "Knight Frank Perth": profile(name="Knight Frank Perth", postcode="6000", city="Perth"),
        "Gibson Knight Legal": profile(name="Gibson Knight Legal"),
        "Perth Plumbing": profile(name="Perth Plumbing", city="Perth", postcode="6000"),
    }
    ranked = sorted(clients, key=lambda name: -score(customer, clients[name]).points)
    assert ranked[0] == "Knight & Gibson Partners"
    assert score(customer, clients["Knight & Gibson Partners"]).level == HIGH
    assert all(score(customer, clients[name]).level != HIGH for name in ranked[1:])


def test_the_score_is_symmetric_and_blank_values_never_agree() -> None:
    for customer, client, *_ in PAIRS:
        assert (
            score(profile(**customer), profile(**client)).points == score(profile(**client), profile(**customer)).points
        )
    assert score(profile(name="Acme"), profile(name="Zenith")).reasons == ()
    assert score(profile(name=""), profile(name="")).points == 0


def test_every_reason_adds_its_declared_weight() -> None:
    base = profile(name="Alpha Widgets")
    other = profile(name="Omega Gadgets")
    assert score(base, other).points == 0
    for field, weight in (("phone", WEIGHTS.phone), ("postcode", WEIGHTS.postcode), ("city", WEIGHTS.city)):
        value = {"phone": "02 9000 0000", "postcode": "2000", "city": "Sydney"}[field]
        assert (
            score(
                profile(name="Alpha Widgets", **{field: value}), profile(name="Omega Gadgets", **{field: value})
            ).points
            == weight
        )


@pytest.mark.parametrize(
    ("name", "tokens"),
    [
        ("Knight & Gibson Partners Pty. Ltd.", ("knight", "gibson")),
        ("A.B.C. Plumbing", ("abc", "plumbing")),
        ("St. Kilda Motors", ("saint", "kilda", "motors")),
        ("Crème Brûlée Café", ("creme", "brulee", "cafe")),
        ("Pty Ltd", ("pty", "ltd")),  # a name of nothing but legal words keeps them
    ],
)
def test_name_tokens(name, tokens) -> None:
    assert name_tokens(name) == tokens


def test_values_are_normalised_before_they_are_compared() -> None:
    assert phone_digits("+61 (2) 9000-0000") == phone_digits("02 9000 0000") == "90000000"
    assert email_domain("Accounts@Acme.example; cc@other.example") == "acme.example"
    assert email_domain("someone@gmail.com") == ""
    assert name_similarity("Acme", "Acme") == 1.0

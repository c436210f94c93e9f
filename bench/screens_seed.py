"""Seed a screens-benchmark database: N customers (most linked) with sites, history, runs and HaloPSA clients seen."""

from __future__ import annotations

import random
from datetime import timedelta

BATCH = 5_000
HEAVY_HISTORY_ROWS = 5_000
RUNS = 200
UNLINKED_CLIENTS_SEEN = 2_000

SURNAMES = (
    "Knight Gibson Walker Harris Nguyen Smith Brown Wilson Taylor Anderson Thomas Jackson White Martin Thompson "
    "Young King Wright Scott Green Baker Adams Nelson Hill Campbell Mitchell Roberts Carter Phillips Evans Turner "
    "Torres Parker Collins Edwards Stewart Morris Murphy Cook Rogers Morgan Peterson Cooper Reed Bailey Bell Kelly "
    "Howard Ward Cox Diaz Richardson Wood Watson Brooks Bennett Gray James Reyes Hughes Price Myers Long Foster "
    "Sanders Ross Morales Powell Sullivan Russell Ortiz Jenkins Gutierrez Perry Butler Barnes Fisher Henderson "
    "Coleman Simmons Patterson Jordan Reynolds Hamilton Graham Kim Gonzales Alexander Ramos Wallace Griffin West "
    "Cole Hayes Chavez Gibbs Byrne Doyle Lynch Quinn Moreau Dubois Müller Schmidt Rossi Russo Tanaka Sato Chen Wang"
).split()
TRADES = (
    "Plumbing Electrical Logistics Dental Legal Accounting Engineering Consulting Builders Roofing Cafe Bakery "
    "Motors Transport Medical Pharmacy Architects Surveyors Printing Media Security Cleaning Catering Travel "
    "Fitness Veterinary Optometry Physiotherapy Landscaping Storage Freight Software Marketing Recruitment"
).split()
SUFFIXES = ("Pty Ltd", "Ltd", "Partners", "Group", "Holdings", "& Co", "Services", "Pty. Ltd.", "")
CITIES = (
    "Sydney Melbourne Brisbane Perth Adelaide Hobart Darwin Canberra Geelong Newcastle Wollongong Cairns Townsville "
    "Ballarat Bendigo Toowoomba Launceston Mackay Rockhampton Bunbury Bundaberg Wagga Mildura Shepparton Gladstone"
).split()


def company_name(rng: random.Random, n: int) -> str:
    first, second = rng.choice(SURNAMES), rng.choice(SURNAMES)
    joiner = rng.choice((" & ", " and ", " ", "-"))
    name = f"{first}{joiner}{second} {rng.choice(TRADES)} {rng.choice(SUFFIXES)}".strip()
    if n % 7 == 0:
        name = name.lower()  # hand-typed names are not always capitalised; the list must still sort them in place
    elif n % 11 == 0:
        name = name.upper()
    return f"{name} {n}" if n % 3 == 0 else name


def seed(count: int, *, seed_value: int = 11, log=print) -> dict:
    """Insert `count` customers and everything around them; return the ids and values the screens are timed with."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group
    from django.db import transaction
    from django.utils import timezone

    from syncapp.choices import LinkMethod, NotSyncingReason, SyncStatus, SyncTrigger
    from syncapp.models import Customer, DuplicateCandidate, HaloClientEntry, HaloLink, Site, SyncRun
    from syncapp.site_counts import refresh_active_site_counts

    rng = random.Random(seed_value)
    now = timezone.now()
    runs = SyncRun.objects.bulk_create(
        SyncRun(
            status=SyncStatus.SUCCEEDED if n % 10 else SyncStatus.PARTIAL,
            trigger=SyncTrigger.SCHEDULED if n % 4 else SyncTrigger.MANUAL,
            queued_at=now - timedelta(hours=RUNS - n),
            started_at=now - timedelta(hours=RUNS - n),
            finished_at=now - timedelta(hours=RUNS - n, seconds=-30),
            created_count=n,
            updated_count=2 * n,
        )
        for n in range(RUNS)
    )
    import_run, busy_run = runs[0], runs[-1]
    customer_ids: list[int] = []
    linked: list[tuple[int, int]] = []  # (customer id, halo id)
    halo_id = 1_000
    for start in range(0, count, BATCH):
        rows = []
        for n in range(start, min(start + BATCH, count)):
            city = rng.choice(CITIES)
            name = company_name(rng, n)
            slug = "".join(ch for ch in name.lower() if ch.isalnum())[:20] or "customer"
            rows.append(
                Customer(
                    name=name,
                    postal_address_1=f"{rng.randint(1, 400)} {rng.choice(SURNAMES)} Street",
                    city=city,
                    state="NSW",
                    postcode=f"{rng.randint(2000, 7999)}",
                    country="Australia",
                    contact_phone=f"0{rng.randint(2, 8)} {rng.randint(1000, 9999)} {rng.randint(1000, 9999)}",
                    invoice_email_to=f"accounts@{slug}{n}.com.au",
                    is_active=n % 20 != 0,
                    halo_linked=n % 5 != 4,  # the links below are bulk-created, as the sync's import does
                )
            )
        with transaction.atomic():
            created = Customer.objects.bulk_create(rows, batch_size=1_000)
            links, sites = [], []
            for customer in created:
                index = len(customer_ids)
                customer_ids.append(customer.pk)
                is_linked = index % 5 != 4  # 80% linked (halo_linked above says the same)
                if is_linked:
                    halo_id += 1
                    linked.append((customer.pk, halo_id))
                    links.append(
                        HaloLink(
                            customer_id=customer.pk,
                            halo_id=halo_id,
                            method=LinkMethod.IMPORTED,
                            not_syncing_reason=NotSyncingReason.UNTICKED if index % 20 == 3 else "",
                            linked_at=now - timedelta(days=30),
                            last_seen_at=now - timedelta(hours=1),
                            last_synced_at=now - timedelta(days=index % 30),
                        )
                    )
                for s in range(1 + index % 3):
                    sites.append(
                        Site(
                            customer_id=customer.pk,
                            name="Head office" if s == 0 else f"Branch {s}",
                            address_1=f"{rng.randint(1, 400)} {rng.choice(SURNAMES)} Road",
                            city=customer.city,
                            postcode=customer.postcode,
                            halo_id=halo_id * 10 + s if is_linked else None,
                            is_active=s != 2,
                        )
                    )
            HaloLink.objects.bulk_create(links, batch_size=1_000)
            Site.objects.bulk_create(sites, batch_size=1_000)
            refresh_active_site_counts(customer.pk for customer in created)  # the stored count the list reads
        log(f"seeded {len(customer_ids):,} customers")
    _seed_history(customer_ids, linked, import_run, busy_run, now)
    HaloClientEntry.objects.bulk_create(
        [HaloClientEntry(halo_id=h, name=f"client {h}", is_ticked=True, linked=True) for _, h in linked]
        + [
            HaloClientEntry(halo_id=halo_id + 1 + n, name=company_name(rng, n), is_ticked=False)
            for n in range(UNLINKED_CLIENTS_SEEN)
        ],
        batch_size=BATCH,
    )
    linked_ids = {pk for pk, _ in linked}
    unlinked_ids = [pk for pk in customer_ids if pk not in linked_ids][:10]
    DuplicateCandidate.objects.bulk_create(
        DuplicateCandidate(customer_id=pk, halo_id=halo_id + 1 + n, halo_name=f"Possible {n}", detected_by_run=busy_run)
        for n, pk in enumerate(unlinked_ids)
    )
    user_model = get_user_model()
    operator = user_model.objects.create_user("bench-operator", password="unused-bench-password", is_staff=True)
    operator.groups.add(Group.objects.get(name="Sync operators"))
    return {
        "user": operator.pk,
        "import_run": import_run.pk,
        "busy_run": busy_run.pk,
        "heavy_customer": customer_ids[0],
        "sample_customer": customer_ids[len(customer_ids) // 2],
        "unlinked_customer": unlinked_ids[-1],
        "sample_halo_id": linked[len(linked) // 2][1],
        "customers": count,
    }


def _seed_history(customer_ids, linked, import_run, busy_run, now) -> None:
    """One "created" row per customer (the import run's for linked ones), 20% renamed, one customer with 5,000 rows."""
    from syncapp.choices import ChangeAction, ChangeOrigin
    from syncapp.models import FieldChange

    linked_ids = {pk for pk, _ in linked}

    def rows():
        for index, pk in enumerate(customer_ids):
            from_sync = pk in linked_ids
            yield FieldChange(
                customer_id=pk,
                action=ChangeAction.CREATED,
                origin=ChangeOrigin.SYNC if from_sync else ChangeOrigin.STAFF,
                sync_run=import_run if from_sync else None,
                changed_at=now - timedelta(days=30),
            )
            if from_sync and index % 4 == 0:
                yield FieldChange(
                    customer_id=pk,
                    field="name",
                    old_value="Old name",
                    new_value="New name",
                    origin=ChangeOrigin.SYNC,
                    sync_run=import_run,
                    changed_at=now - timedelta(days=29),
                )
        for n in range(HEAVY_HISTORY_ROWS):
            yield FieldChange(
                customer_id=customer_ids[0],
                field=("city", "postcode", "contact_phone", "name")[n % 4],
                old_value=f"old {n}",
                new_value=f"new {n}",
                origin=ChangeOrigin.SYNC,
                sync_run=busy_run,
                changed_at=now - timedelta(minutes=n),
            )

    batch = []
    for row in rows():
        batch.append(row)
        if len(batch) == BATCH:
            FieldChange.objects.bulk_create(batch)
            batch = []
    FieldChange.objects.bulk_create(batch)

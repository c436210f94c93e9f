"""The floors a sync is judged against: download every page it needs, bulk-insert the same rows, count requests."""

from __future__ import annotations

import json
import math
import time
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

import requests

PAGE_SIZE = 100
LISTING = {"pageinate": "true", "page_size": PAGE_SIZE, "order": "id", "includeactive": "true"}


def requests_floor(clients: int, sites: int) -> int:
    """1 token + ceil(N/100) client pages + ceil(S/100) site pages (halopsa-api.md §7)."""
    return 1 + math.ceil(clients / PAGE_SIZE) + math.ceil(sites / PAGE_SIZE)


@dataclass
class DownloadFloor:
    """The best of several downloads of exactly the pages a sync reads, over one keep-alive connection."""

    seconds: float
    runs: list[float]
    requests: int
    pages: int
    megabytes: float

    def merge(self, other: DownloadFloor) -> DownloadFloor:
        """Both sets of runs, best of all."""
        runs = [*self.runs, *other.runs]
        return DownloadFloor(min(runs), runs, self.requests, self.pages, self.megabytes)


def _download_once(sim: Any, *, client_id: str, client_secret: str, tenant_name: str) -> tuple[float, int, int, int]:
    from syncapp.halo import custom_fields_from_definitions
    from syncapp.halo.parsing import CLIENT_CUSTOM_FIELD_TYPEID, parse_field_info

    received = requests_made = pages = 0
    start = time.perf_counter()
    with requests.Session() as session:

        def get(url: str, params: dict[str, Any], headers: dict[str, str]) -> Any:
            nonlocal received, requests_made
            response = session.get(url, params=params, headers=headers, timeout=60)
            response.raise_for_status()
            received += len(response.content)
            requests_made += 1
            return json.loads(response.content)

        token = session.post(
            sim.auth_url + "/token",
            params={"tenant": tenant_name},
            data={
                "grant_type": "client_credentials",
                "client_id": client_id,
                "client_secret": client_secret,
                "scope": "all",
            },
            headers={"Accept": "application/json"},
            timeout=60,
        )
        token.raise_for_status()
        requests_made += 1
        headers = {"Accept": "application/json", "Authorization": f"Bearer {json.loads(token.content)['access_token']}"}
        # The same custom field discovery request the sync makes (FieldInfo), to learn the ids to ask clients for.
        definitions = get(sim.base_url + "/api/FieldInfo", {"typeid": CLIENT_CUSTOM_FIELD_TYPEID}, headers)
        fields = custom_fields_from_definitions(parse_field_info(definitions))
        listings = (
            ("/api/Site", "sites", {**LISTING, "includeinactive": "true", "includeaddress": "true"}),
            (
                "/api/Client",
                "clients",
                {
                    **LISTING,
                    "includeinactive": "true",
                    "include_custom_fields": ",".join(str(field_id) for field_id in fields.all_ids),
                },
            ),
        )
        for path, key, params in listings:
            page_no, seen = 1, 0
            while True:
                body = get(sim.base_url + path, {**params, "page_no": page_no}, headers)
                pages += 1
                seen += len(body[key])
                if seen >= body["record_count"] or not body[key]:
                    break
                page_no += 1
    return time.perf_counter() - start, requests_made, pages, received


def download_floor(
    sim: Any, *, client_id: str, client_secret: str, tenant_name: str, repeats: int = 2
) -> DownloadFloor:
    """Download every page the sync needs (token, FieldInfo, site and client pages), json.loads only; best of runs."""
    runs = []
    for _ in range(max(1, repeats)):
        seconds, requests_made, pages, received = _download_once(
            sim, client_id=client_id, client_secret=client_secret, tenant_name=tenant_name
        )
        runs.append(seconds)
    return DownloadFloor(min(runs), runs, requests_made, pages, received / 1024 / 1024)


@dataclass
class InsertFloor:
    """Bare bulk_create of the customers, links and sites into the empty database, one transaction per 100 clients."""

    seconds: float
    build_seconds: float  # constructing the model instances (part of `seconds`)
    customers: int
    links: int
    sites: int
    statements: int


def _customer_values(client: dict[str, Any], main: dict[str, Any] | None) -> dict[str, Any]:
    address = (main or {}).get("delivery_address") or {}
    extras = [entry for entry in client["customfields"] if entry["name"] != "CFDatagate"][:5]
    values = {
        "name": client["name"].strip(),
        "postal_address_1": address.get("line1", ""),
        "postal_address_2": address.get("line2", ""),
        "city": address.get("line3", ""),
        "state": address.get("line4", ""),
        "postcode": address.get("postcode", ""),
        "contact_phone": (main or {}).get("phonenumber", ""),
        "invoice_email_to": client["accountsemailaddress"].strip(),
        "invoice_email_cc": client["accountsccemailaddress"].strip(),
        "invoice_attention": f"{client['accountsfirstname']} {client['accountslastname']}".strip(),
        "is_active": not client["inactive"],
    }
    for position, entry in enumerate(extras, start=1):
        values[f"extra_field_{position}"] = str(entry.get("display") or "")
    return values


def bulk_insert_floor(tenant: Any) -> InsertFloor:
    """Insert the tenant's ticked clients as customers, links and sites with bare bulk_create; returns the floor.

    Model instances are built per batch inside the timing (bulk_create needs them; `build_seconds` says how much
    of the time that is). The caller counts the statements and empties the tables afterwards.
    """
    from django.db import transaction
    from django.utils import timezone

    from syncapp.choices import LinkMethod
    from syncapp.models import Customer, HaloLink, Site

    clients = sorted((c for c in tenant.clients.values() if tenant.is_ticked(c["id"])), key=lambda c: c["id"])
    sites_by_client: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for site in sorted(tenant.sites.values(), key=lambda s: s["id"]):
        sites_by_client[site["client_id"]].append(site)
    now = timezone.now()
    build = 0.0
    counts = [0, 0, 0]
    start = time.perf_counter()
    for offset in range(0, len(clients), PAGE_SIZE):
        batch = clients[offset : offset + PAGE_SIZE]
        mark = time.perf_counter()
        customers = [
            Customer(**_customer_values(c, tenant.sites.get(c["main_site_id"] or 0)), halo_linked=True) for c in batch
        ]
        build += time.perf_counter() - mark
        with transaction.atomic():
            Customer.objects.bulk_create(customers)
            mark = time.perf_counter()
            links = [
                HaloLink(
                    customer=customer,
                    halo_id=client["id"],
                    method=LinkMethod.IMPORTED,
                    linked_at=now,
                    halo_inactive=client["inactive"],
                    last_seen_at=now,
                    last_synced_at=now,
                )
                for client, customer in zip(batch, customers, strict=True)
            ]
            sites = [
                Site(
                    customer=customer,
                    name=site["name"],
                    address_1=site["delivery_address"]["line1"],
                    address_2=site["delivery_address"]["line2"],
                    city=site["delivery_address"]["line3"],
                    postcode=site["delivery_address"]["postcode"],
                    halo_id=site["id"],
                    is_active=not site["inactive"],
                )
                for client, customer in zip(batch, customers, strict=True)
                for site in sites_by_client.get(client["id"], ())
            ]
            build += time.perf_counter() - mark
            HaloLink.objects.bulk_create(links)
            Site.objects.bulk_create(sites)
        counts[0] += len(customers)
        counts[1] += len(links)
        counts[2] += len(sites)
    seconds = time.perf_counter() - start
    return InsertFloor(seconds, build, *counts, statements=0)

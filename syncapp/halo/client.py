"""HaloClient: complete, verified listings of HaloPSA clients and sites, custom field discovery and the access check."""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Self

import requests

from .budget import RequestBudget
from .errors import (
    HaloBadResponse,
    HaloError,
    HaloMissingDatagateField,
    HaloNotFound,
    HaloPermissionDenied,
)
from .listing import PAGE_SIZE, iter_verified_pages
from .parsing import (
    CLIENT_CUSTOM_FIELD_TYPEID,
    CLIENTS_KEY,
    DATAGATE_FIELD_NAME,
    SITES_KEY,
    client_field_definitions,
    parse_client,
    parse_field_info,
    parse_listing,
    parse_site,
)
from .records import (
    AccessCheck,
    ClientCustomFields,
    ClientPage,
    ClientStats,
    CustomFieldDefinition,
    HaloClientRecord,
    HaloSiteRecord,
    SitePage,
    WaitNotice,
)
from .settings import HaloSettings
from .transport import HaloTransport

logger = logging.getLogger("syncapp.halo")

EXTRA_FIELD_COUNT = 5


def _listing_params(include_inactive: bool) -> dict[str, Any]:
    # Without pageinate=true HaloPSA ignores page_size/page_no and returns 50 rows; order by id so pages are stable.
    params: dict[str, Any] = {"pageinate": "true", "page_size": PAGE_SIZE, "order": "id", "includeactive": "true"}
    if include_inactive:
        params["includeinactive"] = "true"
    return params


def custom_fields_from_definitions(definitions: list[CustomFieldDefinition]) -> ClientCustomFields | None:
    """CFDatagate's id and the first five other client custom field ids by id; None when CFDatagate is absent."""
    datagate = next((d for d in definitions if d.name.lower() == DATAGATE_FIELD_NAME.lower()), None)
    if datagate is None:
        return None
    by_id = {d.id: d for d in definitions if d.id != datagate.id}
    extra = [by_id[field_id] for field_id in sorted(by_id)[:EXTRA_FIELD_COUNT]]
    return ClientCustomFields(
        datagate_field_id=datagate.id,
        extra_field_ids=tuple(d.id for d in extra),
        extra_fields=tuple(extra),
    )


class HaloClient:
    """A HaloPSA REST client for one tenant; every HTTP call goes through `_request` (and so the transport)."""

    def __init__(
        self,
        settings: HaloSettings,
        *,
        session: requests.Session | None = None,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
        jitter: Callable[[], float] = random.random,
        budget: RequestBudget | None = None,
        on_wait: Callable[[WaitNotice | None], None] | None = None,
        fetch_ahead: bool = True,
    ) -> None:
        """`clock` is the wall clock by default: a shared `budget` compares times taken in other processes.

        `budget`: the rolling-window budget to draw from (shared by the portal's processes); by default this
        client's own. `on_wait`: told what holds the client before each wait (rate limit, full budget, retry).
        """
        self.settings = settings.validate()
        self.stats = ClientStats()
        # Listings request their next page on this thread while the caller parses and uses the current one
        # (fetch_ahead=False: one page after the other, on the caller's thread; the benchmark compares both).
        self._fetch_ahead = (
            ThreadPoolExecutor(max_workers=1, thread_name_prefix="halo-fetch-ahead") if fetch_ahead else None
        )
        self._transport = HaloTransport(
            settings,
            session=session,
            clock=clock,
            sleep=sleep,
            jitter=jitter,
            stats=self.stats,
            budget=budget,
            on_wait=on_wait,
        )

    @property
    def on_wait(self) -> Callable[[WaitNotice | None], None] | None:
        """The observer told what holds the client (set by whoever shows it, e.g. the sync engine)."""
        return self._transport.on_wait

    @on_wait.setter
    def on_wait(self, observer: Callable[[WaitNotice | None], None] | None) -> None:
        self._transport.on_wait = observer

    def __repr__(self) -> str:
        return f"HaloClient({self.settings.resource_url!r}, tenant={self.settings.tenant!r})"

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        """Stop the fetch-ahead thread and release the HTTP connection pool (if this client created the session)."""
        if self._fetch_ahead is not None:
            self._fetch_ahead.shutdown(wait=True, cancel_futures=True)
        self._transport.close()

    def _request(self, path: str, *, route: str, what: str, params: dict[str, Any] | None = None) -> Any:
        return self._transport.request("GET", self.settings.resource_url + path, route=route, what=what, params=params)

    def authenticate(self) -> None:
        """Fetch an access token now (unless a fresh one is cached); HaloAuthError when credentials are refused."""
        self._transport.ensure_token()

    # Single records -------------------------------------------------------------------------------------------

    def _client_detail(self, client_id: int) -> Any:
        return self._request(
            f"/api/Client/{client_id}",
            route="/api/Client/{id}",
            what=f"client {client_id}",
            params={"includedetails": "true"},
        )

    def get_client(self, client_id: int, *, datagate_field_id: int | None = None) -> HaloClientRecord:
        """One client with all its custom fields; HaloNotFound when HaloPSA has no such client."""
        return parse_client(self._client_detail(client_id), datagate_field_id=datagate_field_id)

    def get_client_with_fields(self, client_id: int) -> tuple[HaloClientRecord, ClientCustomFields | None]:
        """One client and the custom field definitions its detail lists, in one request (HaloNotFound if absent).

        The definitions are None when the detail lists no CFDatagate field (the client is then treated as unticked).
        """
        body = self._client_detail(client_id)
        custom_fields = custom_fields_from_definitions(client_field_definitions(body))
        datagate_id = custom_fields.datagate_field_id if custom_fields is not None else None
        return parse_client(body, datagate_field_id=datagate_id), custom_fields

    def list_client_sites(self, client_id: int) -> tuple[HaloSiteRecord, ...]:
        """Every site of one client (inactive ones too), with addresses: one request up to 100 sites."""
        return tuple(self.iter_sites(client_id=client_id))

    def get_site(self, site_id: int) -> HaloSiteRecord:
        """One site with its address; HaloNotFound when HaloPSA has no such site."""
        body = self._request(
            f"/api/Site/{site_id}", route="/api/Site/{id}", what=f"site {site_id}", params={"includedetails": "true"}
        )
        return parse_site(body)

    # Custom field discovery -----------------------------------------------------------------------------------

    def _definitions_from_field_info(self) -> list[CustomFieldDefinition] | None:
        try:
            body = self._request(
                "/api/FieldInfo",
                route="/api/FieldInfo",
                what="the custom field list",
                params={"typeid": CLIENT_CUSTOM_FIELD_TYPEID},
            )
            return parse_field_info(body)
        except (HaloNotFound, HaloPermissionDenied, HaloBadResponse) as exc:
            logger.info("HaloPSA FieldInfo unusable (%s); reading the first client's custom fields instead", exc)
            return None
        except HaloError as exc:
            # Plain HaloError is "some other 4xx" (the endpoint refused the request): try the other route.
            if type(exc) is not HaloError:
                raise
            logger.info("HaloPSA FieldInfo refused (%s); reading the first client's custom fields instead", exc)
            return None

    def _definitions_from_first_client(self) -> list[CustomFieldDefinition]:
        body = self._request(
            "/api/Client",
            route="/api/Client",
            what="the client list",
            params={**_listing_params(include_inactive=True), "page_size": 1, "page_no": 1},
        )
        _, rows = parse_listing(body, CLIENTS_KEY, "client list")
        if not rows:
            return []
        first = parse_client(rows[0])
        return client_field_definitions(self._client_detail(first.id))

    def discover_custom_fields(self) -> ClientCustomFields:
        """Find CFDatagate and the extra fields via FieldInfo, else via the first client's detail."""
        found = None
        definitions = self._definitions_from_field_info()
        if definitions is not None:
            found = custom_fields_from_definitions(definitions)
        if found is None:
            found = custom_fields_from_definitions(self._definitions_from_first_client())
        if found is None:
            raise HaloMissingDatagateField(
                f"HaloPSA has no client custom field named {DATAGATE_FIELD_NAME}: add a checkbox field "
                f"{DATAGATE_FIELD_NAME} (label Datagate) to clients in HaloPSA, or give the API agent access to it."
            )
        return found

    # Listings -------------------------------------------------------------------------------------------------

    def _page_fetcher(self, path: str, params: dict[str, Any]) -> Callable[[int], Any]:
        noun = path.rsplit("/", 1)[-1].lower()

        def fetch(page_no: int) -> Any:
            return self._request(path, route=path, what=f"the {noun} list", params={**params, "page_no": page_no})

        return fetch

    def _with_custom_fields(
        self, records: tuple[HaloClientRecord, ...], custom_fields: ClientCustomFields
    ) -> tuple[HaloClientRecord, ...]:
        """Read the detail of every row that came without CFDatagate (tenants that ignore include_custom_fields)."""
        wanted = custom_fields.datagate_field_id
        if all(record.has_custom_field(wanted) for record in records):
            return records
        if not self.stats.detail_fallback:
            logger.warning(
                "HaloPSA listed clients without their custom fields (include_custom_fields ignored); "
                "reading each such client one by one, which costs one request per client"
            )
        self.stats.detail_fallback = True
        completed = []
        for record in records:
            if record.has_custom_field(wanted):
                completed.append(record)
                continue
            self.stats.detail_calls += 1
            try:
                completed.append(self.get_client(record.id, datagate_field_id=wanted))
            except HaloNotFound:
                # Deleted between the listing and now: it is gone from HaloPSA, so it is rightly left out.
                logger.warning("HaloPSA client %d disappeared while its custom fields were being read", record.id)
        return tuple(completed)

    def iter_client_pages(
        self, *, custom_fields: ClientCustomFields | None = None, include_inactive: bool = True, start_page: int = 1
    ) -> Iterator[ClientPage]:
        """Every client, 100 per page, ordered by id, verified against record_count (HaloIncompleteListing if not)."""
        params = _listing_params(include_inactive)
        datagate_id = None
        if custom_fields is not None:
            params["include_custom_fields"] = ",".join(str(field_id) for field_id in custom_fields.all_ids)
            datagate_id = custom_fields.datagate_field_id

        def parse(row: Any) -> HaloClientRecord:
            return parse_client(row, datagate_field_id=datagate_id)

        for page_no, record_count, records in iter_verified_pages(
            self._page_fetcher("/api/Client", params),
            CLIENTS_KEY,
            "client",
            parse,
            start_page=start_page,
            fetch_ahead=self._fetch_ahead,
        ):
            if custom_fields is not None:
                records = self._with_custom_fields(records, custom_fields)
            yield ClientPage(page_no=page_no, record_count=record_count, clients=records)

    def iter_clients(self, **kwargs: Any) -> Iterator[HaloClientRecord]:
        """Every client, one by one (same arguments as iter_client_pages)."""
        for page in self.iter_client_pages(**kwargs):
            yield from page.clients

    def iter_site_pages(
        self, *, include_inactive: bool = True, client_id: int | None = None, start_page: int = 1
    ) -> Iterator[SitePage]:
        """Every site (or one client's), 100 per page with addresses, verified against record_count."""
        params = {**_listing_params(include_inactive), "includeaddress": "true"}
        if client_id is not None:
            params["client_id"] = client_id
        for page_no, record_count, records in iter_verified_pages(
            self._page_fetcher("/api/Site", params),
            SITES_KEY,
            "site",
            parse_site,
            start_page=start_page,
            fetch_ahead=self._fetch_ahead,
        ):
            yield SitePage(page_no=page_no, record_count=record_count, sites=records)

    def iter_sites(self, **kwargs: Any) -> Iterator[HaloSiteRecord]:
        """Every site, one by one (same arguments as iter_site_pages)."""
        for page in self.iter_site_pages(**kwargs):
            yield from page.sites

    # The "Test account access" check --------------------------------------------------------------------------

    def check_access(self) -> AccessCheck:
        """Token, CFDatagate, and one page of the client list; raises a HaloError on any problem.

        One page proves the listing works and its record_count is the number of clients; paging through every
        client would take minutes on a big tenant while a person waits (the ticked ones are counted by syncs).
        """
        self.authenticate()
        custom_fields = self.discover_custom_fields()
        params = {
            **_listing_params(include_inactive=True),
            "page_size": 1,
            "page_no": 1,
            "include_custom_fields": ",".join(str(field_id) for field_id in custom_fields.all_ids),
        }
        body = self._request("/api/Client", route="/api/Client", what="the client list", params=params)
        record_count, rows = parse_listing(body, CLIENTS_KEY, "client list")
        first = [parse_client(row, datagate_field_id=custom_fields.datagate_field_id) for row in rows[:1]]
        return AccessCheck(
            datagate_field_id=custom_fields.datagate_field_id,
            client_count=record_count,
            ticked_count=None,
            # A row without CFDatagate means this HaloPSA ignores include_custom_fields: syncs read each client.
            detail_fallback=bool(first) and not first[0].has_custom_field(custom_fields.datagate_field_id),
            extra_field_ids=custom_fields.extra_field_ids,
            request_count=self.stats.total_requests,
        )

"""HaloPSA REST client: auth, paging, pacing, retries and typed records; knows nothing of Django models."""

from .budget import BudgetStore, LocalBudgetStore, RequestBudget
from .check import (
    access_check_as_dict,
    access_failure_as_dict,
    describe_access_check,
    describe_access_failure,
    run_access_check,
)
from .client import HaloClient, custom_fields_from_definitions
from .errors import (
    HaloAuthError,
    HaloBadResponse,
    HaloConfigError,
    HaloError,
    HaloIncompleteListing,
    HaloMissingDatagateField,
    HaloNotFound,
    HaloPermissionDenied,
    HaloRateLimited,
    HaloUnavailable,
)
from .records import (
    AccessCheck,
    ClientCustomFields,
    ClientPage,
    ClientStats,
    CustomFieldDefinition,
    CustomFieldValue,
    HaloAddress,
    HaloClientRecord,
    HaloSiteRecord,
    SitePage,
    WaitNotice,
)
from .settings import HaloSettings, halo_settings_from_django

__all__ = [
    "AccessCheck",
    "BudgetStore",
    "ClientCustomFields",
    "ClientPage",
    "ClientStats",
    "CustomFieldDefinition",
    "CustomFieldValue",
    "HaloAddress",
    "HaloAuthError",
    "HaloBadResponse",
    "HaloClient",
    "HaloClientRecord",
    "HaloConfigError",
    "HaloError",
    "HaloIncompleteListing",
    "HaloMissingDatagateField",
    "HaloNotFound",
    "HaloPermissionDenied",
    "HaloRateLimited",
    "HaloSettings",
    "HaloSiteRecord",
    "HaloUnavailable",
    "LocalBudgetStore",
    "RequestBudget",
    "SitePage",
    "WaitNotice",
    "access_check_as_dict",
    "access_failure_as_dict",
    "custom_fields_from_definitions",
    "describe_access_check",
    "describe_access_failure",
    "halo_settings_from_django",
    "run_access_check",
]

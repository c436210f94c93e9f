"""factory-boy factories for the portal's models and users."""

import factory
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.utils import timezone

from syncapp.choices import ChangeOrigin, LinkMethod, SyncStatus, SyncTrigger
from syncapp.directory_links import refresh_directory_links
from syncapp.halo import HaloClientRecord
from syncapp.models import Customer, FieldChange, HaloClientEntry, HaloLink, Site, SyncRun


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    password = factory.django.Password("correct-horse-battery")

    @factory.post_generation
    def groups(self, create: bool, extracted: list[str] | None, **kwargs) -> None:
        if create and extracted:
            self.groups.add(*Group.objects.filter(name__in=extracted))


class CustomerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Customer

    name = factory.Sequence(lambda n: f"Customer {n:05d} Pty Ltd")
    postal_address_1 = factory.Faker("street_address")
    city = factory.Faker("city")
    postcode = factory.Faker("postcode")
    country = "Australia"


class SiteFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Site

    customer = factory.SubFactory(CustomerFactory)
    name = factory.Sequence(lambda n: f"Site {n}")
    address_1 = factory.Faker("street_address")
    city = factory.Faker("city")


class HaloLinkFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = HaloLink

    customer = factory.SubFactory(CustomerFactory)
    halo_id = factory.Sequence(lambda n: 1000 + n)
    method = LinkMethod.IMPORTED


class SyncRunFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SyncRun

    trigger = SyncTrigger.MANUAL
    status = SyncStatus.SUCCEEDED
    heartbeat_at = factory.LazyFunction(timezone.now)  # a run is requested with a heartbeat


class FieldChangeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = FieldChange

    customer = factory.SubFactory(CustomerFactory)
    field = "name"
    old_value = "Old"
    new_value = "New"
    origin = ChangeOrigin.SYNC
    sync_run = factory.SubFactory(SyncRunFactory)


class HaloClientEntryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = HaloClientEntry

    halo_id = factory.Sequence(lambda n: 5000 + n)
    name = factory.Sequence(lambda n: f"Halo client {n}")
    is_ticked = True


def bulk_create_links(links) -> list[HaloLink]:
    """HaloLink.objects.bulk_create for test data, marking customers and clients seen linked as the sync does."""
    created = HaloLink.objects.bulk_create(links)
    Customer.objects.filter(pk__in=[link.customer_id for link in created]).update(halo_linked=True)
    refresh_directory_links(link.halo_id for link in created)
    return created


def halo_client_record(halo_id: int = 501, name: str = "Acme", ticked: bool = True) -> HaloClientRecord:
    """A HaloPSA client as the HaloPSA client reads it, for linking in tests."""
    return HaloClientRecord(
        id=halo_id,
        name=name,
        inactive=False,
        main_site_id=None,
        accounts_email="",
        accounts_cc_email="",
        accounts_first_name="",
        accounts_last_name="",
        main_phone="",
        last_updated=None,
        datagate_ticked=ticked,
    )

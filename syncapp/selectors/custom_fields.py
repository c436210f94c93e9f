"""Reads of the HaloPSA custom field names behind Extra Fields 1-5 (as the last sync read them)."""

from dataclasses import dataclass
from datetime import datetime

from syncapp.models import HaloCustomFieldLabel


@dataclass(frozen=True)
class ExtraFieldLabel:
    """What Extra Field N is called in HaloPSA."""

    field: str
    number: int
    halo_id: int
    halo_name: str
    halo_label: str
    read_at: datetime

    @property
    def title(self) -> str:
        """The name staff know from HaloPSA: its label, else its internal name."""
        return self.halo_label or self.halo_name

    @property
    def secondary(self) -> str:
        return f"Extra Field {self.number}"

    @property
    def display(self) -> str:
        """One-line form for history rows and lists: "Contract Tier (Extra Field 2)"."""
        return f"{self.title} ({self.secondary})"


def extra_field_labels() -> dict[str, ExtraFieldLabel]:
    """Extra Field labels keyed by the customer field name ("extra_field_2"); one query."""
    return {
        f"extra_field_{row.position}": ExtraFieldLabel(
            field=f"extra_field_{row.position}",
            number=row.position,
            halo_id=row.halo_id,
            halo_name=row.name,
            halo_label=row.label,
            read_at=row.read_at,
        )
        for row in HaloCustomFieldLabel.objects.all()
    }


def field_display_labels() -> dict[str, str]:
    """Field name → label for history rows, filters and exports, where HaloPSA's name replaces "Extra Field N"."""
    return {name: label.display for name, label in extra_field_labels().items()}

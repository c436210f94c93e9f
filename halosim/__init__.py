"""The HaloPSA simulator: a standalone HTTP server that behaves like a HaloPSA tenant (no Django)."""

from .config import SimConfig
from .fields import is_ticked
from .simulator import Simulator
from .tenant import Tenant

__all__ = ["SimConfig", "Simulator", "Tenant", "is_ticked"]

"""Migration operations for indexes only PostgreSQL has (trigram indexes for searches); other databases skip them."""

from django.db.migrations.operations.base import Operation
from django.db.models import Index


class AddPostgresIndex(Operation):
    """Build an index on PostgreSQL only, outside the model state.

    Kept out of Meta.indexes on purpose: SQLite rebuilds a table from its model state whenever a later migration
    alters it, and would then try to build an index type it does not have. A test EXPLAINs the searches such an
    index serves, so an index dropped along the way (e.g. with the column it covers) does not go unnoticed.
    """

    reversible = True
    reduces_to_sql = False

    def __init__(self, model_name: str, index: Index) -> None:
        self.model_name = model_name
        self.index = index

    def deconstruct(self) -> tuple[str, list, dict]:
        return self.__class__.__qualname__, [], {"model_name": self.model_name, "index": self.index}

    def state_forwards(self, app_label: str, state) -> None:
        """The model state does not know the index (see the class docstring)."""

    def database_forwards(self, app_label: str, schema_editor, from_state, to_state) -> None:
        model = to_state.apps.get_model(app_label, self.model_name)
        if schema_editor.connection.vendor == "postgresql" and self.allow_migrate_model(
            schema_editor.connection.alias, model
        ):
            schema_editor.add_index(model, self.index)

    def database_backwards(self, app_label: str, schema_editor, from_state, to_state) -> None:
        model = from_state.apps.get_model(app_label, self.model_name)
        if schema_editor.connection.vendor == "postgresql" and self.allow_migrate_model(
            schema_editor.connection.alias, model
        ):
            schema_editor.remove_index(model, self.index)

    def describe(self) -> str:
        return f"Create index {self.index.name} on {self.model_name} (PostgreSQL only)"

    @property
    def migration_name_fragment(self) -> str:
        return f"{self.model_name.lower()}_{self.index.name.lower()}"

"""Management commands of the sync app."""

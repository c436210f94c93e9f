"""Management commands: sync_halo, halo_check and the demo helpers."""

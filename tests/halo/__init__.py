"""Tests of the HaloPSA client (syncapp.halo) and the halo_check command."""

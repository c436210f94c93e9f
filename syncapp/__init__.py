"""Datagate customer portal: the HaloPSA sync app."""

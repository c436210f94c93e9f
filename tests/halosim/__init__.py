"""Tests of the HaloPSA simulator (plain pytest, no Django)."""

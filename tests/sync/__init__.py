"""Sync engine tests: every rule of the design, against the simulator over real HTTP."""

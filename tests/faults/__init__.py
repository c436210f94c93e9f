"""Fault tests: private redis-server restarts, the broker down, lost task messages (marked `faults`)."""

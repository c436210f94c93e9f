"""The sync benchmark: `make bench` measures full, unchanged and 1%-renamed syncs against their floors."""

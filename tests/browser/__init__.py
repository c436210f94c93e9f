"""Browser tests: headless Chromium walks the real flows against a live portal, worker and simulator."""

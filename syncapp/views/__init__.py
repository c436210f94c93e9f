"""Staff screens: thin adapters over selectors (reads) and services (writes), one module per screen family."""

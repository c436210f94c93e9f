"""Template tags and filters of the staff screens."""

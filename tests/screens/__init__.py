"""View tests of the staff screens: rendering, permissions, bad input and query counts."""

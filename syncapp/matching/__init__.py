"""How alike a customer and a HaloPSA client are: pure scoring, no Django models (see score.py)."""

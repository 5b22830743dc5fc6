"""Branches: named release lines of a product (the default branch is no row)."""

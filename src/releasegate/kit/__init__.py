"""Shared mechanisms with no business rules."""

"""Customers: minimal records referenced by licenses (managed by the admin CLI)."""

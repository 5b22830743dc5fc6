"""Teams: tenants, their limits and settings, key pairs and storage usage."""

"""API keys: issuance, hashing and dev API authentication."""

"""Licenses: keys (stored as HMAC lookup + ciphertext), limits, expiry and links."""

"""Metadata: ordered key/value rows owned by a release, product, license or customer."""

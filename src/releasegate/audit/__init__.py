"""Audit log: one row per successful mutation, written in the mutation's transaction."""

"""The release file, end to end: intake, staging, inspection, the journal, usage, cleanup."""

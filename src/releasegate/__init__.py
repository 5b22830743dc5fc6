"""releasegate: a self-hostable release distribution server."""

__version__ = "0.1.0"

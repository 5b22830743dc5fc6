"""Who is asking: the dev API guard (API keys) and the actors that changes are recorded for."""

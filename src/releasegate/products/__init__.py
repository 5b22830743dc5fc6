"""Products: what a team publishes releases of."""

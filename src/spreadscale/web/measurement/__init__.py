"""measurement app."""

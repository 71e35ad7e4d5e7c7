"""Planning a migration: what a firmware sends (captures, sources), what the bridge carries."""

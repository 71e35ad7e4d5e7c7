"""The dialect definitions, shipped inside the package as `bridge.dialects` (see SCHEMA.md)."""

"""Helpers shared by the index and retrieval tests (fixtures live in the test modules)."""

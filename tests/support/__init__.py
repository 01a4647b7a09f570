"""Test support: fixtures by concern, loaded by tests/conftest.py (pytest_plugins)."""

"""Placeholder until the integration lands."""

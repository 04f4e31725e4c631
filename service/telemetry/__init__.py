"""Metrics and log formats."""

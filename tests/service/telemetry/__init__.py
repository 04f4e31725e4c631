"""Tests of service/telemetry."""

"""Tests of service/live."""

"""Tests of service/admin."""

"""Tests of service/match."""

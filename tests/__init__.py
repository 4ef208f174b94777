"""Test suite (a package so test modules get unique dotted names: tests.service.test_x)."""

"""Use cases: one function per endpoint, taking and returning API models."""

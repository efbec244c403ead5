"""Persistence: PynamoDB models and the repository functions that keep invariants."""

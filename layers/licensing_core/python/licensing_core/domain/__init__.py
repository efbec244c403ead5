"""Pure domain model and rules: no AWS, no HTTP."""

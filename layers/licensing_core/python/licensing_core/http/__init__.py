"""The HTTP edge: API Gateway HTTP API (payload 2.0) events in, responses out."""

"""The local development server: the API on 127.0.0.1 over an embedded moto.

``python -m local`` starts moto (DynamoDB, Cognito, KMS), creates the tables and a
Cognito user pool, seeds demo data, and dispatches HTTP requests to the very
handlers under ``functions/`` through API Gateway HTTP API (payload 2.0) events.
"""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FUNCTIONS_DIR = ROOT / "functions"

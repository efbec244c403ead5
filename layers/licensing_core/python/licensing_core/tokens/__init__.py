"""Tokens: signers, JWS/JWE building and verification, the published JWKS."""

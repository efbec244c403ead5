"""Identity: OIDC bearer verification, step-up policy, the identity-provider adapter."""

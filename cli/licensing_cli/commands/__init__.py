"""One module per command group; each exposes ``register(registry)``."""

from licensing_cli.commands import (
    activations,
    customers,
    features,
    keys,
    licenses,
    login,
    products,
    stats,
    tenants,
    tiers,
    usage,
)

GROUPS = (
    login, products, features, tiers, tenants, customers, licenses, activations, usage, stats, keys,
)  # fmt: skip

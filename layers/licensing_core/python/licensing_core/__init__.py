"""licensing_core: the shared layer of the licensing service.

Dependencies point downward only: http -> services -> store / tokens / identity -> domain.
"""

__version__ = "0.1.0"

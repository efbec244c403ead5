"""``licensing``: the administrator's command line of the licensing service."""

__version__ = "0.1.0"

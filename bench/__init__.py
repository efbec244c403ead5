"""Benchmarks of the licensing service: ``python -m bench`` (see ``bench/README.md``)."""

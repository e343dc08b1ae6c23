"""Support shared by tests/ and benchmarks/: a stand-in Bot API, import records, bot processes.

Not part of the product (not installed); both import it from the repository root.
"""

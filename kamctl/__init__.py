"""kamctl: Key Account Management plans kept as YAML in git."""

__version__ = "0.1.0"

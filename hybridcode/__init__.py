"""hybridcode: a terminal assistant with a local model and a consented escalation path."""

__version__ = "0.1.0"

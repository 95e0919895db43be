"""hybridcode: a terminal assistant with a local model and consented escalation."""

__version__ = "0.1.0"

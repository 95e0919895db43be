"""Adapters that read the world: source files, git, syntax, retrieval, budgets."""

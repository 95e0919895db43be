"""Model registry (models.toml) and the user cache of GGUF files."""

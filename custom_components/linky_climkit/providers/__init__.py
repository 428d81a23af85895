"""Provider clients and adapters; nothing here imports Home Assistant."""

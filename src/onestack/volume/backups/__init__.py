"""Volume backups: a chunk store behind a small interface, and the engine that
makes full and incremental backups and restores them."""

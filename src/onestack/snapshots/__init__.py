"""Whole-cloud snapshots: ``onestack snapshot save|restore|list|delete`` (see ``manager``)."""

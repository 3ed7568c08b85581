"""The default images onestack registers on first start (see docs/image-format.md)."""

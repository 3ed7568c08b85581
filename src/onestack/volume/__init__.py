"""Block storage (Cinder v3): volumes, snapshots, backups and attachments.

Volumes are sparse raw files in a reflink-capable pool (``backends``),
attached as loop devices; backups are chunked into a store (``backups``).
"""

"""Object storage: the Swift v1 API and an S3 subset over a replicated ring.

Object bytes live on ring devices (directories under
``<state_dir>/object/devices``) with N replicas, quorum writes and fsync;
account and container listings live in the main database (``models``).
"""

"""Object storage backends: implementations of ``onestack.object.backend.ObjectDevice``."""

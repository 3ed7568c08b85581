"""Templates: parsing, HOT versions and their functions, parameters, environments."""

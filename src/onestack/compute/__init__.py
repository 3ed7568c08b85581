"""The compute service (Nova v2.1 with microversions): servers as real containers.

API → scheduler → conductor → compute agent → driver, over the bus; see
docs/compute-drivers.md for what each driver does.
"""

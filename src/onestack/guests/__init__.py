"""Guest images built on this host from its own packages: the busybox root file
system of the containers' default image and the ``onestack-vm`` disk (kernel,
initramfs, busybox) of the VMs' (see docs/image-format.md).

Host tooling, not a service: the image service registers what it builds as its
default images (``onestack.image.defaults.register``) and the QEMU driver boots
its kernel to probe the accelerator (``compute/drivers/qemu/accel.py``).  It
imports no service (an import contract), so a driver may use it without reaching
into another service.
"""

"""The qemu compute driver: virtual machines run by ``qemu-system-x86_64`` over QMP.

Split by concern: ``driver`` (the ComputeDriver), ``qmp`` (the QMP client),
``process`` (launching QEMU, the KVM probe, cgroups), ``layout`` (a VM's
files and command line), ``disks`` (overlays, config drive, snapshots),
``taps`` (tap devices from the network's namespace), ``accel`` (KVM or TCG).
"""

from onestack.compute.drivers.qemu.driver import QemuComputeDriver

DRIVER = QemuComputeDriver

__all__ = ["DRIVER", "QemuComputeDriver"]

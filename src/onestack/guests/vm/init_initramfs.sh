#!/bin/busybox sh
# /init of the onestack-vm initramfs: load the modules, find the root, switch to it.
/bin/busybox mkdir -p /proc /sys /dev /newroot /bin /sbin
/bin/busybox mount -t proc proc /proc
/bin/busybox --install -s /bin
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null
# virtio, ext4, isofs, the power button: in dependency order (see /etc/modules)
while read -r module; do
  insmod "/lib/modules/$module" 2>/dev/null
done < /etc/modules
root=""
for arg in $(cat /proc/cmdline); do
  case "$arg" in root=*) root="${arg#root=}" ;; esac
done
device=""
tries=0
while [ -z "$device" ] && [ "$tries" -lt 100 ]; do
  case "$root" in
    LABEL=*|UUID=*) device="$(findfs "$root" 2>/dev/null)" ;;
    /dev/*) [ -b "$root" ] && device="$root" ;;
  esac
  [ -n "$device" ] || { sleep 0.1; tries=$((tries + 1)); }
done
if [ -n "$device" ] && mount -t ext4 -o rw "$device" /newroot; then
  mount --move /dev /newroot/dev 2>/dev/null || umount /dev
  umount /sys
  umount /proc
  exec switch_root /newroot /sbin/init
fi
echo "onestack-vm: root filesystem $root not found; a shell on the console"
exec sh

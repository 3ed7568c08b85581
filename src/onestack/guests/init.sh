#!/bin/sh
# /sbin/init of the onestack busybox image (PID 1). See docs/image-format.md.
export PATH=/sbin:/bin:/usr/sbin:/usr/bin
trap 'echo "onestack: stopping"; sync; exit 0' TERM INT

# In a container these are mounted already: ignore the errors.
[ -e /proc/self/stat ] || mount -t proc proc /proc 2>/dev/null
[ -d /sys/class ] || mount -t sysfs sysfs /sys 2>/dev/null
grep -q " /tmp " /proc/mounts 2>/dev/null || mount -t tmpfs -o mode=1777 tmpfs /tmp 2>/dev/null
mkdir -p /run/onestack /var/run 2>/dev/null

case "$(hostname 2>/dev/null)" in
  ""|"(none)"|localhost) [ -s /etc/hostname ] && hostname -F /etc/hostname 2>/dev/null ;;
esac
echo "onestack busybox image booted $(hostname) $(uname -sr)"

# Network: loopback, then DHCP on eth0 (best effort, a few seconds at most).
# Only as PID 1 of its own instance, and never on an interface that already
# has an address (it is configured by someone else: leave it alone).
ip link set lo up 2>/dev/null
if [ "$$" = 1 ] && ip link show eth0 >/dev/null 2>&1; then
  if ip -4 addr show dev eth0 2>/dev/null | grep -q inet; then
    echo "onestack: eth0 already configured"
  else
    ip link set eth0 up 2>/dev/null
    timeout 6 udhcpc -i eth0 -n -q -t 3 -T 1 -O staticroutes -s /usr/share/udhcpc/default.script \
      >/dev/null 2>&1 || echo "onestack: no DHCP lease on eth0"
  fi
  ip -4 -o addr show dev eth0 2>/dev/null | awk '{print "onestack: eth0 " $4}'
fi

# SSH keys: config drive (VM or container), else the metadata service.
meta=""
for f in /mnt/config/openstack/latest/meta_data.json \
         /run/onestack/config/openstack/latest/meta_data.json; do
  if [ -s "$f" ]; then meta="$f"; break; fi
done
if [ -z "$meta" ] && [ ! -e /mnt/config/openstack ]; then
  for dev in /dev/sr0 /dev/vdb /dev/disk/by-label/config-2; do
    [ -b "$dev" ] || continue
    mount -o ro "$dev" /mnt 2>/dev/null || continue
    if [ -s /mnt/openstack/latest/meta_data.json ]; then
      mkdir -p /run/onestack/config-drive
      cp -r /mnt/openstack /run/onestack/config-drive/ 2>/dev/null
      meta=/run/onestack/config-drive/openstack/latest/meta_data.json
    fi
    umount /mnt 2>/dev/null
    [ -n "$meta" ] && break
  done
fi
if [ -z "$meta" ]; then
  if wget -q -T 2 -O /run/onestack/meta_data.json \
      http://169.254.169.254/openstack/latest/meta_data.json 2>/dev/null; then
    meta=/run/onestack/meta_data.json
  fi
fi
if [ -n "$meta" ]; then
  mkdir -p /root/.ssh && chmod 700 /root/.ssh
  grep -o '"\(ssh-[a-z0-9-]*\|ecdsa-[a-z0-9-]*\|sk-[a-z0-9@.-]*\) [^"]*"' "$meta" \
    | sed -e 's/^"//' -e 's/"$//' -e 's/\\n$//' | sort -u > /root/.ssh/authorized_keys
  chmod 600 /root/.ssh/authorized_keys
  echo "onestack: $(wc -l < /root/.ssh/authorized_keys) ssh key(s) from $meta"
fi

# User data, as cloud-init runs it: a script (#!) runs once the instance is up; a
# multipart MIME document runs its parts that are scripts (text/x-shellscript, and
# Heat's cfn-userdata). Output goes to /run/onestack/user-data.log.
ud=""
for f in /run/onestack/config/openstack/latest/user_data /mnt/config/openstack/latest/user_data \
         /run/onestack/config-drive/openstack/latest/user_data; do
  if [ -s "$f" ]; then ud="$f"; break; fi
done
if [ -z "$ud" ] && [ -z "$meta" -o "$meta" = /run/onestack/meta_data.json ] && \
    wget -q -T 2 -O /run/onestack/user_data \
      http://169.254.169.254/openstack/latest/user_data 2>/dev/null && \
    [ -s /run/onestack/user_data ]; then
  ud=/run/onestack/user_data
fi
if [ -n "$ud" ]; then
  parts=/run/onestack/user-data
  mkdir -p "$parts"
  if [ "$(head -c 2 "$ud")" = "#!" ]; then
    cp "$ud" "$parts/00"
  elif grep -qi '^content-type: *multipart' "$ud"; then
    awk -v dir="$parts" '
      { sub(/\r$/, "") }
      boundary == "" && tolower($0) ~ /^content-type: *multipart/ && match($0, /boundary="[^"]*"/) {
        boundary = substr($0, RSTART + 10, RLENGTH - 11); next }
      boundary != "" && $0 == "--" boundary "--" { out = ""; head = 0; next }
      boundary != "" && $0 == "--" boundary { n++; head = 1; keep = 0; b64 = 0; out = ""; next }
      head && tolower($0) ~ /^content-type:.*(x-shellscript|x-cfninitdata)/ { keep = 1 }
      head && tolower($0) ~ /^content-transfer-encoding: *base64/ { b64 = 1 }
      head && $0 == "" { head = 0; if (keep) out = sprintf("%s/%02d%s", dir, n, b64 ? ".b64" : ""); next }
      !head && out != "" { print > out }
    ' "$ud"
    for f in "$parts"/*.b64; do
      [ -e "$f" ] && base64 -d < "$f" > "${f%.b64}" && rm -f "$f"
    done
  fi
  for f in "$parts"/*; do
    [ -f "$f" ] && [ "$(head -c 2 "$f")" = "#!" ] || continue
    chmod +x "$f"
    echo "onestack: running user data $(basename "$f")"
    "$f" >> /run/onestack/user-data.log 2>&1 &
  done
fi

echo "onestack: ready"
# Stay PID 1: reap children, exit cleanly on SIGTERM.
while true; do
  sleep 3600 &
  wait
done

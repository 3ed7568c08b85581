#!/bin/sh
# udhcpc event script of the onestack busybox image: address, routes, DNS.
RESOLV=/etc/resolv.conf
case "$1" in
  deconfig)
    # Bring the link up; addresses are only replaced once a lease is bound.
    ip link set "$interface" up 2>/dev/null
    ;;
  bound|renew)
    ip -4 addr flush dev "$interface" 2>/dev/null
    ip addr add "$ip/${mask:-24}" ${broadcast:+broadcast "$broadcast"} dev "$interface"
    [ -n "$mtu" ] && ip link set "$interface" mtu "$mtu"
    if [ -n "$staticroutes" ]; then
      # Option 121 (RFC 3442) carries the metadata and host routes and, when
      # there is a gateway, the default route; the router option is ignored.
      while ip route del default dev "$interface" 2>/dev/null; do :; done
      set -- $staticroutes
      while [ $# -ge 2 ]; do
        ip route replace "$1" via "$2" dev "$interface" 2>/dev/null
        shift 2
      done
    elif [ -n "$router" ]; then
      while ip route del default dev "$interface" 2>/dev/null; do :; done
      for gw in $router; do
        ip route add default via "$gw" dev "$interface" && break
      done
    fi
    if [ -n "$dns" ] || [ -n "$domain" ]; then
      : > "$RESOLV.tmp"
      [ -n "$domain" ] && echo "search $domain" >> "$RESOLV.tmp"
      for server in $dns; do echo "nameserver $server" >> "$RESOLV.tmp"; done
      cat "$RESOLV.tmp" > "$RESOLV" 2>/dev/null; rm -f "$RESOLV.tmp"
    fi
    [ -n "$hostname" ] && hostname "$hostname" 2>/dev/null
    ;;
esac
exit 0

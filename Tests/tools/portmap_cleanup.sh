#!/usr/bin/env bash
# Removes the chains the CNI portmap plugin creates once per host (CNI-HOSTPORT-DNAT,
# -SETMARK, -MASQ and the jumps to them) when no pod uses them any more: the plugin's DEL
# removes a pod's own rules but leaves these. Nothing is removed while CNI-HOSTPORT-DNAT
# still holds a pod's rule. Used by the tests and the demo that made them.
set -u
command -v iptables >/dev/null || exit 0
if iptables -t nat -S CNI-HOSTPORT-DNAT 2>/dev/null | grep -q -- '^-A'; then
  exit 0
fi
iptables -t nat -D PREROUTING -m addrtype --dst-type LOCAL -j CNI-HOSTPORT-DNAT 2>/dev/null
iptables -t nat -D OUTPUT -m addrtype --dst-type LOCAL -j CNI-HOSTPORT-DNAT 2>/dev/null
iptables -t nat -D POSTROUTING -m comment --comment "CNI portfwd requiring masquerade" -j CNI-HOSTPORT-MASQ 2>/dev/null
for chain in CNI-HOSTPORT-DNAT CNI-HOSTPORT-SETMARK CNI-HOSTPORT-MASQ; do
  iptables -t nat -F "$chain" 2>/dev/null
  iptables -t nat -X "$chain" 2>/dev/null
done
exit 0

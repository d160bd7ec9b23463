#!/bin/bash
# verify vxlan-ipv6-outer-masquerade (ip6tables MASQUERADE --random-fully on the encapsulating
# namespace) with the fixes and the settings around them; each line: the --set values and the result.
cd "$(dirname "$0")/../../.."
while read -r sets; do
  args=""; for s in $sets; do args="$args --set $s"; done
  r=$(timeout 600 .build/debug/csumlab verify topologies/vxlan-ipv6-outer-masquerade.yaml $args 2>&1 | grep -E '  compared')
  echo "${sets:-(as shipped)}: $r"
done <<'LIST'

vxA.tx-checksum-ip-generic=off
vxA.udp6zerocsumtx=on vxB.udp6zerocsumrx=on
vxA.udp6zerocsumtx=on
wire.wireA.tx=on
vxA.outer-masquerade=off
nodeA.checksum-fill=all
LIST
echo done

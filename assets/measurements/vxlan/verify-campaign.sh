#!/bin/bash
cd "$(dirname "$0")/../../.."
for u in auto off; do for m in on off; do for wt in on off; do for vt in on off; do
  r=$(timeout 600 .build/debug/csumlab verify topologies/vxlan-gso-outer-masquerade.yaml --set vxA.udpcsum=$u --set vxA.outer-masquerade=$m --set wire.wireA.tx=$wt --set vxA.tx=$vt 2>&1 | grep -E '  compared')
  echo "udpcsum=$u masq=$m wireA.tx=$wt vxA.tx=$vt: $r"
done; done; done; done
echo done

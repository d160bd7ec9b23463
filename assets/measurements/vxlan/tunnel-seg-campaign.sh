#!/bin/bash
# verify vxlan-tunnel-segmentation over the underlay's tunnel features, tx, tso and the outer checksum.
cd "$(dirname "$0")/../../.."
for u in auto off; do for c in on off; do for p in on off; do for tx in on off; do for tso in on off; do
  r=$(timeout 600 .build/debug/csumlab verify topologies/vxlan-tunnel-segmentation.yaml --set vxA.udpcsum=$u \
      --set wire1.wireA.tx-udp_tnl-csum-segmentation=$c --set wire1.wireA.tx-udp_tnl-segmentation=$p \
      --set wire1.wireA.tx=$tx --set wire1.wireA.tso=$tso --set nodeC.u.mtu=1400 2>&1 | grep -E '  compared')
  echo "udpcsum=$u csum-seg=$c seg=$p tx=$tx tso=$tso: $r"
done; done; done; done; done
echo done

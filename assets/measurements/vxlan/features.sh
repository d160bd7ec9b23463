#!/bin/bash
# tx-udp_tnl-[csum-]segmentation per device kind and after tx/sg/tso/gso off (6.18).
# usage: features.sh   (root; creates and deletes namespace hvxf)
N=hvxf
ip netns del $N 2>/dev/null; ip netns add $N
ip -n $N link add va type veth peer name vb
ip -n $N tuntap add tp0 mode tap vnet_hdr
ip -n $N link add br0 type bridge
ip -n $N addr add 10.9.0.1/24 dev va
ip -n $N link add vx0 type vxlan id 1 local 10.9.0.1 remote 10.9.0.2 dev va dstport 4789
k() { ip netns exec $N ethtool -k $1 | grep -E "udp_tnl|^tx-checksumming|^scatter-gather|tx-tcp-segmentation:|^generic-segmentation" | tr -s '\t ' ' ' | tr '\n' ';'; echo; }
for d in va tp0 br0 vx0; do echo "== $d: $(k $d)"; done
for opt in "tx off" "sg off" "tso off" "gso off" "tx-udp_tnl-segmentation off" "tx-udp_tnl-csum-segmentation off"; do
  ip netns exec $N ethtool -K va tx on sg on tso on gso on tx-udp_tnl-segmentation on tx-udp_tnl-csum-segmentation on >/dev/null 2>&1
  ip netns exec $N ethtool -K va $opt >/dev/null 2>&1
  echo "== va, $opt: $(k va)"
done
ip netns del $N

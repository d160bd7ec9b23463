#!/bin/bash
# VXLAN device MTU from its lower device (vxlan_config_apply / vxlan_change_mtu), 6.18.
# usage: mtu.sh   (root; creates and deletes namespace hvxm)
N=hvxm
ip netns del $N 2>/dev/null; ip netns add $N
ip -n $N link add u4 type veth peer name u4p
ip -n $N link add u6 type veth peer name u6p
ip -n $N link set u4 up; ip -n $N link set u6 up
ip -n $N addr add 10.77.0.1/24 dev u4
ip -n $N addr add fd77::1/64 dev u6 nodad
show() { echo "$1: mtu $(ip -n $N -j link show $2 | python3 -c 'import json,sys;print(json.load(sys.stdin)[0]["mtu"])')"; }
ip -n $N link add v4 type vxlan id 1 local 10.77.0.1 remote 10.77.0.2 dstport 4789 dev u4; show "IPv4 underlay 1500, no mtu" v4
ip -n $N link add v6 type vxlan id 2 local fd77::1 remote fd77::2 dstport 4789 dev u6; show "IPv6 underlay 1500, no mtu" v6
ip -n $N link add v0 type vxlan id 3 local 10.77.0.1 remote 10.77.0.2 dstport 4790; show "no dev, no mtu" v0
ip -n $N link add vm mtu 1400 type vxlan id 4 local 10.77.0.1 remote 10.77.0.2 dstport 4791 dev u4; show "mtu 1400 at add" vm
ip -n $N link add vb mtu 1600 type vxlan id 5 local 10.77.0.1 remote 10.77.0.2 dstport 4792 dev u4; show "mtu 1600 at add (above 1450)" vb
echo "set v4 mtu 1451: $(ip -n $N link set v4 mtu 1451 2>&1 || true)"; show "after" v4
ip -n $N link set u4 mtu 9000
ip -n $N link add vj type vxlan id 6 local 10.77.0.1 remote 10.77.0.2 dstport 4793 dev u4; show "IPv4 underlay 9000, no mtu" vj
show "v4 after the underlay went to 9000" v4
ip netns del $N

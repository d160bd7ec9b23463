/// The lab `csumlab` opens with no arguments: the seed question's routed lab, where a userspace
/// router (AF_PACKET, no `PACKET_VNET_HDR`) drops the `CHECKSUM_PARTIAL` promise and SSH dies.
/// A copy of `topologies/seed-routed-userspace.yaml` so the explorer works from any directory;
/// a test keeps the two byte for byte equal.
public enum DefaultLab {
    public static let fileName = "seed-routed-userspace.yaml"

    public static let text = #"""
csumlab: 1
name: seed-routed-userspace
description: >-
  The seed question as asked: two QEMU guests with offloads on, a router between two bridges
  that forwards in userspace (AF_PACKET, no PACKET_VNET_HDR) drops the CHECKSUM_PARTIAL
  promise, so VM2 drops VM1's SYN and SSH dies while ping works.
kernel: linux-6.x
nodes:
  vm1:
    kind: vm
    kernel: linux-4.4
    interfaces:
      eth0: {address: 10.0.1.2/24, gateway: 10.0.1.1}
  vm2:
    kind: vm
    kernel: linux-4.4
    interfaces:
      eth0: {address: 10.0.2.2/24, gateway: 10.0.2.1}
  tap1: {kind: tap}
  tap2: {kind: tap}
  br1: {kind: bridge}
  br2: {kind: bridge}
  vethA: {kind: veth, ends: {vethA: {}, vethA-r: {}}}
  vethB: {kind: veth, ends: {vethB: {}, vethB-r: {}}}
  router:
    kind: router
    flavour: userspace
    place: netns
    vnet-hdr: off
    interfaces:
      eth0: {address: 10.0.1.1/24}
      eth1: {address: 10.0.2.1/24}
links:
  - endpoints: ["vm1:eth0", "tap1"]
  - endpoints: ["tap1", "br1"]
  - endpoints: ["br1", "vethA:vethA"]
  - endpoints: ["vethA:vethA-r", "router:eth0"]
  - endpoints: ["router:eth1", "vethB:vethB-r"]
  - endpoints: ["vethB:vethB", "br2"]
  - endpoints: ["br2", "tap2"]
  - endpoints: ["tap2", "vm2:eth0"]
flows:
  ssh:
    type: tcp
    from: vm1
    to: vm2
    port: 22
    payload: 200
    expect: {verdict: fails, leg: SYN}
  ping:
    type: icmp
    from: vm1
    to: vm2
    expect: completes

"""#
}

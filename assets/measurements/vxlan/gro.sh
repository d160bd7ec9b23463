#!/bin/bash
# GRO on the receiving vxlan device (#16, gro_cells_receive) and the observation trap.
# usage: gro.sh NAME UNDERLAY_OBS(ring|plain|none) VXGRO(on|off) TXOFF_A(0|1) [BYTES]
# Two namespaces joined by veth hvu0 (A) – hvu1 (B), vx0 in each (default udpcsum), a TCP
# transfer A → B. On B a TPACKET_V2 ring on vx0 (tpacket_rcv: no clone) reports the inner frames
# after GRO; on hvu1 either a ring, a plain AF_PACKET socket (packet_rcv queues a clone, so the
# skb is skb_cloned() when vxlan_rcv hands it to gro_cells_receive), or nothing.
NAME=$1; OBS=$2; VXGRO=$3; TXOFF=$4; BYTES=${5:-40000}
D=$(cd "$(dirname "$0")" && pwd)
A=hgroa; B=hgrob
ip netns del $A 2>/dev/null; ip netns del $B 2>/dev/null
ip netns add $A; ip netns add $B
ip link add hvu0 netns $A type veth peer name hvu1 netns $B
for n in $A $B; do ip -n $n link set lo up; done
ip -n $A addr add 10.200.0.1/24 dev hvu0; ip -n $A link set hvu0 up
ip -n $B addr add 10.200.0.2/24 dev hvu1; ip -n $B link set hvu1 up
ip -n $A link add name vx0 type vxlan id 42 local 10.200.0.1 remote 10.200.0.2 dstport 4789 dev hvu0 nolearning
ip -n $B link add name vx0 type vxlan id 42 local 10.200.0.2 remote 10.200.0.1 dstport 4789 dev hvu1 nolearning
ip -n $A addr add 192.168.200.1/24 dev vx0; ip -n $A link set vx0 up
ip -n $B addr add 192.168.200.2/24 dev vx0; ip -n $B link set vx0 up
[ "$TXOFF" = 1 ] && ip netns exec $A ethtool -K hvu0 tx off >/dev/null 2>&1
ip netns exec $B ethtool -K vx0 gro $VXGRO
echo "== $NAME: underlay observer $OBS, B vx0 $(ip netns exec $B ethtool -k vx0 | grep generic-receive-offload), A hvu0 $(ip netns exec $A ethtool -k hvu0 | grep -E '^tx-checksumming')"
ip netns exec $B python3 - "$OBS" "$BYTES" > /tmp/hgro/$NAME.out <<'PY' &
import socket, mmap, struct, sys, time, select, threading
obs, nbytes = sys.argv[1], int(sys.argv[2])
SOL_PACKET=263; PACKET_RX_RING=5; PACKET_VERSION=10; TPACKET_V2=1; PACKET_AUXDATA=8
def ring(ifname):
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(3))
    s.setsockopt(SOL_PACKET, PACKET_VERSION, TPACKET_V2)
    s.setsockopt(SOL_PACKET, PACKET_RX_RING, struct.pack("IIII", 1<<17, 64, 1<<17, 64))
    s.bind((ifname, 0))
    return s, mmap.mmap(s.fileno(), (1<<17)*64, mmap.MAP_SHARED, mmap.PROT_READ|mmap.PROT_WRITE)
def drain(r, i, out):
    s, m = r
    while True:
        base = i*(1<<17)
        st = struct.unpack_from("I", m, base)[0]
        if st & 1 == 0: return i
        tp_len, snap, mac, net = struct.unpack_from("IIHH", m, base+4)
        out.append((st, tp_len, bytes(m[base+mac: base+mac+min(snap, 64)])))
        struct.pack_into("I", m, base, 0); i = (i+1) % 64
vx = ring("vx0"); vxi = 0; vxf = []
if obs == "ring": un = ring("hvu1"); uni = 0; unf = []
if obs == "plain":
    p = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(3)); p.bind(("hvu1", 0)); p.setblocking(False); pn = 0
t = socket.socket(); t.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); t.bind(("192.168.200.2", 5001)); t.listen()
got = [0]
def srv():
    c, _ = t.accept()
    while True:
        d = c.recv(1 << 20)
        if not d: break
        got[0] += len(d)
threading.Thread(target=srv, daemon=True).start()
end = time.time() + 6
while time.time() < end:
    select.select([vx[0]], [], [], 0.02)
    vxi = drain(vx, vxi, vxf)
    if obs == "ring": uni = drain(un, uni, unf)
    if obs == "plain":
        try:
            while True: p.recv(65536); pn += 1
        except BlockingIOError: pass
data = []
for st, ln, h in vxf:
    if h[12:14] == b"\x08\x00" and h[23] == 6 and ln > 100: data.append((st, ln))
print("B tcp bytes", got[0])
print("vx0 data frames", len(data), "max len", max([l for _, l in data] or [0]),
      "statuses", sorted(set("%#x" % s for s, _ in data)))
print("vx0 frames > 1514:", sum(1 for _, l in data if l > 1514))
PY
SP=$!
sleep 1
ip netns exec $A python3 -c "
import socket; t=socket.socket(); t.connect(('192.168.200.2',5001)); t.sendall(b'y'*$BYTES); t.close()"
wait $SP
cat /tmp/hgro/$NAME.out
ip netns del $A; ip netns del $B

#!/bin/bash
# VXLAN over an IPv6 underlay (#16). usage: run6.sh NAME "A-OPTS" "B-OPTS" [TXOFF(0|1)]
#   A-OPTS/B-OPTS: extra `ip link add … type vxlan` keywords per side, e.g. "udp6zerocsumtx" "udp6zerocsumrx"
# Prints the outer UDP checksum class of A→B frames on hvu1 (ring, no skb clone), B's UDP
# deliveries and its Udp6 counters.
mkdir -p /tmp/hvx
NAME=$1; AO=$2; BO=$3; TXOFF=${4:-0}
A=hvx6a; B=hvx6b
ip netns del $A 2>/dev/null; ip netns del $B 2>/dev/null
ip netns add $A; ip netns add $B
ip link add hvu0 netns $A type veth peer name hvu1 netns $B
for n in $A $B; do ip -n $n link set lo up; done
ip -n $A addr add fd00::1/64 dev hvu0 nodad; ip -n $A link set hvu0 up
ip -n $B addr add fd00::2/64 dev hvu1 nodad; ip -n $B link set hvu1 up
ip -n $A link add name vx0 type vxlan id 42 local fd00::1 remote fd00::2 dstport 4789 dev hvu0 nolearning $AO
ip -n $B link add name vx0 type vxlan id 42 local fd00::2 remote fd00::1 dstport 4789 dev hvu1 nolearning $BO
ip -n $A addr add 192.168.200.1/24 dev vx0; ip -n $A link set vx0 up
ip -n $B addr add 192.168.200.2/24 dev vx0; ip -n $B link set vx0 up
[ "$TXOFF" = 1 ] && ip netns exec $A ethtool -K hvu0 tx off >/dev/null 2>&1
echo "== $NAME: A: $(ip -n $A -j -d link show vx0 | python3 -c 'import json,sys;d=json.load(sys.stdin)[0]["linkinfo"]["info_data"];print({k:v for k,v in d.items() if "csum" in k})')  B: $(ip -n $B -j -d link show vx0 | python3 -c 'import json,sys;d=json.load(sys.stdin)[0]["linkinfo"]["info_data"];print({k:v for k,v in d.items() if "csum" in k})')"
ip netns exec $B nstat -n >/dev/null
ip netns exec $B python3 $(dirname "$0")/ring.py hvu1 4 /tmp/hvx/$NAME.cap > /dev/null &
RP=$!
ip netns exec $B python3 -c '
import socket
u=socket.socket(socket.AF_INET,socket.SOCK_DGRAM);u.bind(("192.168.200.2",5000));u.settimeout(3)
n=0
try:
  while True: u.recv(2000); n+=1
except Exception: pass
print("B udp datagrams",n)' &
SP=$!
sleep 1
ip netns exec $A python3 -c '
import socket
u=socket.socket(socket.AF_INET,socket.SOCK_DGRAM)
for i in range(3): u.sendto(b"x"*100,("192.168.200.2",5000))'
wait $SP; wait $RP
ip netns exec $B nstat -a 2>/dev/null | grep -E "^Udp6" | tr -s ' ' | tr '\n' ';'; echo
python3 - /tmp/hvx/$NAME.cap <<'PY'
import sys
def fold(s):
    while s>>16: s=(s&0xffff)+(s>>16)
    return s
def csum(b):
    if len(b)%2: b+=b"\0"
    return sum(int.from_bytes(b[i:i+2],"big") for i in range(0,len(b),2))
for line in open(sys.argv[1]):
    st,ln,h=line.split(); b=bytes.fromhex(h)
    if b[12:14]!=b"\x86\xdd" or b[20]!=17: continue
    udp=b[54:]; field=int.from_bytes(udp[6:8],"big")
    if int.from_bytes(udp[2:4],"big")!=4789: continue
    ph=b[22:54]+len(udp).to_bytes(4,"big")+b"\0\0\0\x11"
    ok=fold(csum(ph)+csum(udp))==0xffff
    print("status=0x%x outer=0x%04x %s" % (int(st), field, "zero" if field==0 else ("valid" if ok else "not-valid-as-is")))
PY
ip netns del $A; ip netns del $B

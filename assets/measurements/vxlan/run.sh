#!/bin/bash
# usage: run.sh NAME CSUMOPT(udpcsum|noudpcsum|default) MASQ(0|1) TXOFF_UNDERLAY(0|1) VXGENERIC_OFF(0|1) BULK(0|1|2: 2 = connect, then `ethtool -K hvu0 tx off`, then 2 MB)
mkdir -p /tmp/hvx
NAME=$1; CS=$2; MASQ=$3; TXOFF=$4; GENOFF=$5; BULK=$6
A=hvxa; B=hvxb
ip netns del $A 2>/dev/null; ip netns del $B 2>/dev/null
ip netns add $A; ip netns add $B
ip link add hvu0 netns $A type veth peer name hvu1 netns $B
for n in $A $B; do ip -n $n link set lo up; done
ip -n $A addr add 10.200.0.1/24 dev hvu0; ip -n $A link set hvu0 up
ip -n $B addr add 10.200.0.2/24 dev hvu1; ip -n $B link set hvu1 up
opt=""; [ "$CS" != default ] && opt=$CS
ip -n $A link add name vx0 type vxlan id 42 local 10.200.0.1 remote 10.200.0.2 dstport 4789 dev hvu0 $opt
ip -n $B link add name vx0 type vxlan id 42 local 10.200.0.2 remote 10.200.0.1 dstport 4789 dev hvu1 $opt
ip -n $A addr add 192.168.200.1/24 dev vx0; ip -n $A link set vx0 up
ip -n $B addr add 192.168.200.2/24 dev vx0; ip -n $B link set vx0 up
echo "== $NAME: $(ip -n $A -j -d link show vx0 | python3 -c 'import json,sys;d=json.load(sys.stdin)[0]["linkinfo"]["info_data"];print("udp_csum=",d.get("udp_csum"))')"
[ "$MASQ" = 1 ] && ip netns exec $A iptables -t nat -A POSTROUTING -p udp --dport 4789 -j MASQUERADE --random-fully
[ "$TXOFF" = 1 ] && ip netns exec $A ethtool -K hvu0 tx off >/dev/null 2>&1
[ "$GENOFF" = 1 ] && ip netns exec $A ethtool -K vx0 tx-checksum-ip-generic off >/dev/null 2>&1
ip netns exec $B nstat -n >/dev/null
ip netns exec $B python3 $(dirname "$0")/ring.py hvu1 10 /tmp/hvx/$NAME.cap > /tmp/hvx/ring.out &
RP=$!
ip netns exec $B python3 -c '
import socket,threading,time
u=socket.socket(socket.AF_INET,socket.SOCK_DGRAM);u.bind(("192.168.200.2",5000));u.settimeout(9)
t=socket.socket();t.setsockopt(socket.SOL_SOCKET,socket.SO_REUSEADDR,1);t.bind(("192.168.200.2",5001));t.listen();t.settimeout(5)
def tcp():
  try:
    c,_=t.accept();c.settimeout(8);n=0
    while True:
      d=c.recv(65536)
      if not d:break
      n+=len(d)
    print("B tcp bytes",n,flush=True)
  except Exception as e: print("B tcp",e,flush=True)
th=threading.Thread(target=tcp);th.start()
n=0
try:
  while True: u.recv(2000); n+=1
except Exception: pass
print("B udp datagrams",n,flush=True); th.join()
' > /tmp/hvx/$NAME.srv &
SP=$!
sleep 1
ip netns exec $A python3 -c '
import socket,sys
u=socket.socket(socket.AF_INET,socket.SOCK_DGRAM)
for i in range(3): u.sendto(b"x"*100,("192.168.200.2",5000))
t=socket.socket();t.settimeout(3)
try:
  t.connect(("192.168.200.2",5001))
  if '$BULK' == '2':
    import subprocess,time; subprocess.run(["ethtool","-K","hvu0","tx","off"],capture_output=True); time.sleep(0.2); t.settimeout(8)
  t.sendall(b"y"*(2000000 if '$BULK' != '0' else 100)); t.close(); print("A tcp sent")
except Exception as e: print("A tcp",e)
'
wait $SP; wait $RP
cat /tmp/hvx/$NAME.srv
ip netns exec $B nstat -a 2>/dev/null | grep -E "UdpInCsumErrors|UdpInDatagrams|TcpInCsumErrors" | tr -s ' ' | tr '\n' ';'; echo
python3 $(dirname "$0")/analyze.py /tmp/hvx/$NAME.cap | awk '{k=$0; sub(/len=[^ ]* sport=[^ ]* outer=[^ ]* /,"",k); sub(/inner_field=[^ ]* /,"",k); c[k]++; if(!(k in f)) f[k]=$0} END{for(k in c) print c[k]"x", f[k]}'
ip netns del $A; ip netns del $B

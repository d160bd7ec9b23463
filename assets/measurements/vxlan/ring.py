# TPACKET_V2 RX ring capture on an interface (no skb clone). usage: ring.py IF SECONDS OUTFILE
import socket, mmap, struct, sys, time, select, ctypes
IF, SECS, OUT = sys.argv[1], float(sys.argv[2]), sys.argv[3]
SOL_PACKET=263; PACKET_RX_RING=5; PACKET_VERSION=10; TPACKET_V2=1
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(3))
s.setsockopt(SOL_PACKET, PACKET_VERSION, TPACKET_V2)
bs, fs, nb = 1<<16, 1<<16, 64
s.setsockopt(SOL_PACKET, PACKET_RX_RING, struct.pack("IIII", bs, nb, fs, nb))
s.bind((IF, 0))
m = mmap.mmap(s.fileno(), bs*nb, mmap.MAP_SHARED, mmap.PROT_READ|mmap.PROT_WRITE)
out = open(OUT, "w"); i = 0; end = time.time()+SECS
print("ready", flush=True)
while time.time() < end:
    base = i*fs
    st = struct.unpack_from("I", m, base)[0]
    if st & 1 == 0:
        select.select([s], [], [], 0.05); continue
    tp_len, snap, mac, net = struct.unpack_from("IIHH", m, base+4)
    data = m[base+mac: base+mac+snap]
    out.write("%d %d %s\n" % (st, tp_len, data.hex())); out.flush()
    struct.pack_into("I", m, base, 0); i = (i+1) % nb

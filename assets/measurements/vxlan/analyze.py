# print outer/inner checksum facts of captured vxlan frames
import sys, struct
def csum(b):
    if len(b)%2: b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b)//2), b))
    while s >> 16: s = (s & 0xffff) + (s >> 16)
    return s
def l4ok(ip, proto, seg):
    ph = ip[12:20] + struct.pack("!BBH", 0, proto, len(seg))
    return csum(ph + seg) == 0xffff
for line in open(sys.argv[1]):
    st, ln, hx = line.split(); b = bytes.fromhex(hx); st = int(st); ln = int(ln)
    if b[12:14] != b"\x08\x00": continue
    ip = b[14:]; ihl = (ip[0]&15)*4; tot = struct.unpack("!H", ip[2:4])[0]; ip = ip[:tot]
    if ip[9] != 17: continue
    udp = ip[ihl:]; sp, dp, ul, ck = struct.unpack("!HHHH", udp[:8])
    if dp != 4789: continue
    inner = udp[16:]
    if inner[12:14] != b'\x08\x00': continue
    iip = inner[14:]; iihl = (iip[0]&15)*4; itot = struct.unpack("!H", iip[2:4])[0]
    iip = iip[:itot]; ipr = iip[9]; seg = iip[iihl:]
    ick = struct.unpack("!H", seg[16:18] if ipr == 6 else seg[6:8])[0]
    outer_ok = (ck == 0) or l4ok(ip, 17, udp)
    # would the outer verify once the inner is completed? complete inner on a copy
    seg2 = bytearray(seg); off = 16 if ipr == 6 else 6
    seg2[off:off+2] = b"\0\0"; ph = iip[12:20]+struct.pack("!BBH",0,ipr,len(seg2))
    c = (~csum(ph+bytes(seg2))) & 0xffff
    if ipr == 17 and c == 0: c = 0xffff
    seg2[off:off+2] = struct.pack("!H", c)
    udp2 = udp[:16+14+iihl] + bytes(seg2)
    outer_after = (ck == 0) or l4ok(ip, 17, udp2)
    print("src=%s status=%#x len=%d sport=%d outer=%#06x outer_ok_as_is=%s outer_ok_after_inner_done=%s inner_proto=%d inner_field=%#06x inner_ok=%s" % (".".join(map(str,ip[12:16])), st, ln, sp, ck, outer_ok, outer_after, ipr, ick, l4ok(iip, ipr, seg)))

// ckernellab: the few Linux ioctls and socket options csumlab's KernelLab needs that Swift cannot
// express directly (variadic ioctl, struct ifreq unions, ethtool's variable-length structs,
// sockaddr_ll, cmsg parsing). Every function returns >= 0 on success and -errno on failure.
#ifndef CKERNELLAB_H
#define CKERNELLAB_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

// TUNSETOFFLOAD flags (include/uapi/linux/if_tun.h).
#define CKL_TUN_F_CSUM 0x01
#define CKL_TUN_F_TSO4 0x02
#define CKL_TUN_F_TSO6 0x04
#define CKL_TUN_F_TSO_ECN 0x08
#define CKL_TUN_F_UFO 0x10

// tpacket_auxdata.tp_status bits (include/uapi/linux/if_packet.h).
#define CKL_TP_STATUS_CSUMNOTREADY (1u << 3)
#define CKL_TP_STATUS_CSUM_VALID (1u << 7)

// sockaddr_ll.sll_pkttype values.
#define CKL_PACKET_HOST 0
#define CKL_PACKET_OUTGOING 4

/// Opens /dev/net/tun and attaches to (creating if needed) TAP `name` with IFF_TAP|IFF_NO_PI and,
/// if `vnet_hdr`, IFF_VNET_HDR. The device lives in the network namespace of the calling thread.
/// Returns the fd (O_CLOEXEC) or -errno.
int ckl_tap_open(const char *name, int vnet_hdr);
/// TUNSETVNETHDRSZ.
int ckl_tap_set_vnet_hdr_size(int fd, int size);
/// TUNSETOFFLOAD with a CKL_TUN_F_* mask.
int ckl_tap_set_offload(int fd, unsigned int flags);
/// TUNSETPERSIST: keep the device after its last fd closes (1) or not (0).
int ckl_tap_set_persist(int fd, int on);
/// TUNGETIFF: the IFF_* flags the kernel reports for this fd (or -errno).
int ckl_tap_get_flags(int fd);

/// Enter the network namespace bound at `path` (e.g. /run/netns/NAME) on the calling thread.
int ckl_setns_net(const char *path);

/// Ask the kernel to SIGKILL this process when its parent dies.
int ckl_die_with_parent(void);

/// On SIGINT, SIGTERM or SIGHUP, replace this process with `path argv...` (execv is
/// async-signal-safe), so a cleanup program runs on every signalled exit. Copies the arguments;
/// at most 15 of them.
int ckl_exec_on_signal(const char *path, const char *const *argv, int argc);

/// One ethtool feature (ETH_SS_FEATURES string + ETHTOOL_GFEATURES bits).
typedef struct {
    char name[32];
    int available;
    int requested;
    int active;
    int never_changed;
} ckl_feature;

/// Fills up to `max` features of interface `ifname`; returns the number of features the device
/// has (may exceed `max`) or -errno.
int ckl_ethtool_features(const char *ifname, ckl_feature *out, int max);
/// ETHTOOL_SFEATURES for one feature by its ethtool name. Returns the ioctl's non-negative result
/// (ETHTOOL_F_WISH / ETHTOOL_F_UNSUPPORTED bits, 0 if applied as asked), -ENOENT for an unknown
/// name, or -errno.
int ckl_ethtool_set_feature(const char *ifname, const char *feature, int on);

/// The hardware address of `ifname` (6 bytes).
int ckl_get_mac(const char *ifname, uint8_t mac[6]);

/// An AF_PACKET/SOCK_RAW socket bound to `ifname` for ETH_P_ALL, with PACKET_AUXDATA on and
/// optionally PACKET_VNET_HDR. Returns the fd (O_CLOEXEC) or -errno.
int ckl_packet_open(const char *ifname, int vnet_hdr);
/// Receive one frame (with its virtio_net_hdr first when the socket has PACKET_VNET_HDR).
/// Waits up to `timeout_ms` (-1 forever). Returns the byte count, 0 on timeout, or -errno.
/// `pkttype` gets sll_pkttype, `tp_status` the PACKET_AUXDATA status (0 if none).
int ckl_packet_recv(int fd, uint8_t *buf, int len, int timeout_ms, int *pkttype, unsigned int *tp_status);

/// An AF_PACKET/SOCK_RAW socket bound to `ifname` for ETH_P_ALL with a TPACKET_V2 receive ring
/// (PACKET_RX_RING) of `frame_nr` frames of `frame_size` bytes, mapped at `*map`. `tpacket_rcv()`
/// copies each frame into the ring and keeps no clone of the skb, unlike `packet_rcv()` (a plain
/// socket queues a clone, so the skb is `skb_cloned()` further on: `gro_cells_receive()` then
/// skips GRO). Returns the fd (O_CLOEXEC) or -errno.
int ckl_ring_open(const char *ifname, unsigned int frame_size, unsigned int frame_nr, void **map);
/// Take the next frame of the ring (`*next` is the slot to look at, advanced on success), waiting
/// up to `timeout_ms`. Returns the byte count (the captured part, `tp_snaplen`), 0 on timeout, or
/// -errno. `pkttype` gets sll_pkttype, `tp_status` the slot's status word.
int ckl_ring_recv(int fd, void *map, unsigned int frame_size, unsigned int frame_nr, unsigned int *next,
                  uint8_t *buf, int len, int timeout_ms, int *pkttype, unsigned int *tp_status);
/// munmap the ring and close the socket.
void ckl_ring_close(int fd, void *map, unsigned int frame_size, unsigned int frame_nr);

/// Send `len` bytes as one UDP datagram from `src`:`sport` to `dst`:`dport` (IPv4 or IPv6 text
/// addresses) through the kernel's UDP stack of the calling thread's namespace. Returns bytes sent.
int ckl_udp_send(const char *src, int sport, const char *dst, int dport, const uint8_t *buf, int len);

/// pipe2(O_CLOEXEC).
int ckl_pipe_cloexec(int fds[2]);

/// poll(2) one fd for input. Returns 1 readable, 0 timeout, -errno.
int ckl_wait_readable(int fd, int timeout_ms);

#ifdef __cplusplus
}
#endif

#endif

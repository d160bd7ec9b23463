#define _GNU_SOURCE
#include "ckernellab.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <linux/ethtool.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <linux/if_tun.h>
#include <linux/sockios.h>
#include <signal.h>

static void ckl_ifname(struct ifreq *ifr, const char *name) {
    memset(ifr, 0, sizeof *ifr);
    strncpy(ifr->ifr_name, name, IFNAMSIZ - 1);
}

int ckl_tap_open(const char *name, int vnet_hdr) {
    int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
    if (fd < 0) return -errno;
    struct ifreq ifr;
    ckl_ifname(&ifr, name);
    ifr.ifr_flags = IFF_TAP | IFF_NO_PI | (vnet_hdr ? IFF_VNET_HDR : 0);
    if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
        int e = errno;
        close(fd);
        return -e;
    }
    return fd;
}

int ckl_tap_set_vnet_hdr_size(int fd, int size) {
    return ioctl(fd, TUNSETVNETHDRSZ, &size) < 0 ? -errno : 0;
}

int ckl_tap_set_offload(int fd, unsigned int flags) {
    return ioctl(fd, TUNSETOFFLOAD, (unsigned long)flags) < 0 ? -errno : 0;
}

int ckl_tap_set_persist(int fd, int on) {
    return ioctl(fd, TUNSETPERSIST, (unsigned long)(on ? 1 : 0)) < 0 ? -errno : 0;
}

int ckl_tap_get_flags(int fd) {
    struct ifreq ifr;
    memset(&ifr, 0, sizeof ifr);
    if (ioctl(fd, TUNGETIFF, &ifr) < 0) return -errno;
    return (unsigned short)ifr.ifr_flags;
}

int ckl_setns_net(const char *path) {
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return -errno;
    int r = setns(fd, CLONE_NEWNET);
    int e = errno;
    close(fd);
    return r < 0 ? -e : 0;
}

int ckl_die_with_parent(void) {
    return prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 ? -errno : 0;
}

static char *ckl_signal_path;
static char *ckl_signal_argv[16];

static void ckl_signal_exec(int sig) {
    (void)sig;
    execv(ckl_signal_path, ckl_signal_argv);
    _exit(128 + sig);
}

int ckl_exec_on_signal(const char *path, const char *const *argv, int argc) {
    if (argc > 15) return -E2BIG;
    ckl_signal_path = strdup(path);
    for (int i = 0; i < argc; i++) ckl_signal_argv[i] = strdup(argv[i]);
    ckl_signal_argv[argc] = NULL;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = ckl_signal_exec;
    sigemptyset(&sa.sa_mask);
    int sigs[] = { SIGINT, SIGTERM, SIGHUP };
    for (int i = 0; i < 3; i++) {
        if (sigaction(sigs[i], &sa, NULL) < 0) return -errno;
    }
    return 0;
}

static int ckl_ethtool(const char *ifname, void *data) {
    int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (s < 0) return -errno;
    struct ifreq ifr;
    ckl_ifname(&ifr, ifname);
    ifr.ifr_data = data;
    int r = ioctl(s, SIOCETHTOOL, &ifr);
    int e = errno;
    close(s);
    return r < 0 ? -e : r;
}

// Feature names (ETH_SS_FEATURES); returns count and a malloc'd ETH_GSTRING_LEN * count block.
static int ckl_feature_names(const char *ifname, char **names) {
    // struct ethtool_sset_info ends in a flexible array; one u32 follows for the one set asked.
    union {
        struct ethtool_sset_info hdr;
        uint8_t bytes[sizeof(struct ethtool_sset_info) + sizeof(uint32_t)];
    } sset;
    memset(&sset, 0, sizeof sset);
    sset.hdr.cmd = ETHTOOL_GSSET_INFO;
    sset.hdr.sset_mask = 1ULL << ETH_SS_FEATURES;
    int r = ckl_ethtool(ifname, &sset);
    if (r < 0) return r;
    if (!(sset.hdr.sset_mask & (1ULL << ETH_SS_FEATURES))) return -EOPNOTSUPP;
    int n = (int)sset.hdr.data[0];
    struct ethtool_gstrings *gs = calloc(1, sizeof *gs + (size_t)n * ETH_GSTRING_LEN);
    if (!gs) return -ENOMEM;
    gs->cmd = ETHTOOL_GSTRINGS;
    gs->string_set = ETH_SS_FEATURES;
    gs->len = (uint32_t)n;
    r = ckl_ethtool(ifname, gs);
    if (r < 0) { free(gs); return r; }
    char *out = malloc((size_t)n * ETH_GSTRING_LEN);
    if (!out) { free(gs); return -ENOMEM; }
    memcpy(out, gs->data, (size_t)n * ETH_GSTRING_LEN);
    free(gs);
    *names = out;
    return n;
}

int ckl_ethtool_features(const char *ifname, ckl_feature *out, int max) {
    char *names = NULL;
    int n = ckl_feature_names(ifname, &names);
    if (n < 0) return n;
    int blocks = (n + 31) / 32;
    struct ethtool_gfeatures *gf = calloc(1, sizeof *gf + (size_t)blocks * sizeof(struct ethtool_get_features_block));
    if (!gf) { free(names); return -ENOMEM; }
    gf->cmd = ETHTOOL_GFEATURES;
    gf->size = (uint32_t)blocks;
    int r = ckl_ethtool(ifname, gf);
    if (r < 0) { free(gf); free(names); return r; }
    for (int i = 0; i < n && i < max; i++) {
        uint32_t bit = 1u << (i % 32);
        struct ethtool_get_features_block *b = &gf->features[i / 32];
        memset(out[i].name, 0, sizeof out[i].name);
        size_t len = strnlen(names + (size_t)i * ETH_GSTRING_LEN, ETH_GSTRING_LEN);
        if (len > sizeof out[i].name - 1) len = sizeof out[i].name - 1;
        memcpy(out[i].name, names + (size_t)i * ETH_GSTRING_LEN, len);
        out[i].available = (b->available & bit) != 0;
        out[i].requested = (b->requested & bit) != 0;
        out[i].active = (b->active & bit) != 0;
        out[i].never_changed = (b->never_changed & bit) != 0;
    }
    free(gf);
    free(names);
    return n;
}

int ckl_ethtool_set_feature(const char *ifname, const char *feature, int on) {
    char *names = NULL;
    int n = ckl_feature_names(ifname, &names);
    if (n < 0) return n;
    int index = -1;
    for (int i = 0; i < n; i++) {
        if (strncmp(names + (size_t)i * ETH_GSTRING_LEN, feature, ETH_GSTRING_LEN) == 0) { index = i; break; }
    }
    free(names);
    if (index < 0) return -ENOENT;
    int blocks = (n + 31) / 32;
    struct ethtool_sfeatures *sf = calloc(1, sizeof *sf + (size_t)blocks * sizeof(struct ethtool_set_features_block));
    if (!sf) return -ENOMEM;
    sf->cmd = ETHTOOL_SFEATURES;
    sf->size = (uint32_t)blocks;
    uint32_t bit = 1u << (index % 32);
    sf->features[index / 32].valid = bit;
    sf->features[index / 32].requested = on ? bit : 0;
    int r = ckl_ethtool(ifname, sf);
    free(sf);
    return r;
}

int ckl_get_mac(const char *ifname, uint8_t mac[6]) {
    int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (s < 0) return -errno;
    struct ifreq ifr;
    ckl_ifname(&ifr, ifname);
    int r = ioctl(s, SIOCGIFHWADDR, &ifr);
    int e = errno;
    close(s);
    if (r < 0) return -e;
    memcpy(mac, ifr.ifr_hwaddr.sa_data, 6);
    return 0;
}

/* Bind an AF_PACKET socket to `ifname` for every protocol: 0, or -1 with errno set. */
static int bind_packet_socket(int s, const char *ifname) {
    unsigned int index = if_nametoindex(ifname);
    if (index == 0) return -1;
    struct sockaddr_ll sll;
    memset(&sll, 0, sizeof sll);
    sll.sll_family = AF_PACKET;
    sll.sll_protocol = htons(ETH_P_ALL);
    sll.sll_ifindex = (int)index;
    return bind(s, (struct sockaddr *)&sll, sizeof sll);
}

int ckl_packet_open(const char *ifname, int vnet_hdr) {
    int s = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, htons(ETH_P_ALL));
    if (s < 0) return -errno;
    int one = 1;
    if (setsockopt(s, SOL_PACKET, PACKET_AUXDATA, &one, sizeof one) < 0) goto fail;
    if (vnet_hdr && setsockopt(s, SOL_PACKET, PACKET_VNET_HDR, &one, sizeof one) < 0) goto fail;
    if (bind_packet_socket(s, ifname) < 0) goto fail;
    return s;
fail:;
    int e = errno;
    close(s);
    return -e;
}

int ckl_wait_readable(int fd, int timeout_ms) {
    struct pollfd p = { .fd = fd, .events = POLLIN };
    for (;;) {
        int r = poll(&p, 1, timeout_ms);
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) return -errno;
        return r > 0 ? 1 : 0;
    }
}

int ckl_packet_recv(int fd, uint8_t *buf, int len, int timeout_ms, int *pkttype, unsigned int *tp_status) {
    int w = ckl_wait_readable(fd, timeout_ms);
    if (w <= 0) return w;
    struct sockaddr_ll from;
    struct iovec iov = { .iov_base = buf, .iov_len = (size_t)len };
    union {
        struct cmsghdr align;
        char buf[CMSG_SPACE(sizeof(struct tpacket_auxdata))];
    } control;
    struct msghdr msg;
    memset(&msg, 0, sizeof msg);
    msg.msg_name = &from;
    msg.msg_namelen = sizeof from;
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = &control;
    msg.msg_controllen = sizeof control;
    ssize_t n = recvmsg(fd, &msg, MSG_DONTWAIT);
    if (n < 0) return errno == EAGAIN ? 0 : -errno;
    *pkttype = from.sll_pkttype;
    *tp_status = 0;
    for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
        if (c->cmsg_level == SOL_PACKET && c->cmsg_type == PACKET_AUXDATA) {
            struct tpacket_auxdata aux;
            memcpy(&aux, CMSG_DATA(c), sizeof aux);
            *tp_status = aux.tp_status;
        }
    }
    return (int)n;
}

int ckl_ring_open(const char *ifname, unsigned int frame_size, unsigned int frame_nr, void **map) {
    int s = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, htons(ETH_P_ALL));
    if (s < 0) return -errno;
    int version = TPACKET_V2;
    if (setsockopt(s, SOL_PACKET, PACKET_VERSION, &version, sizeof version) < 0) goto fail;
    struct tpacket_req req = { .tp_block_size = frame_size, .tp_block_nr = frame_nr,
                               .tp_frame_size = frame_size, .tp_frame_nr = frame_nr };
    if (setsockopt(s, SOL_PACKET, PACKET_RX_RING, &req, sizeof req) < 0) goto fail;
    if (bind_packet_socket(s, ifname) < 0) goto fail;
    void *m = mmap(NULL, (size_t)frame_size * frame_nr, PROT_READ | PROT_WRITE, MAP_SHARED, s, 0);
    if (m == MAP_FAILED) goto fail;
    *map = m;
    return s;
fail:;
    int e = errno;
    close(s);
    return -e;
}

int ckl_ring_recv(int fd, void *map, unsigned int frame_size, unsigned int frame_nr, unsigned int *next,
                  uint8_t *buf, int len, int timeout_ms, int *pkttype, unsigned int *tp_status) {
    volatile struct tpacket2_hdr *h = (volatile struct tpacket2_hdr *)((uint8_t *)map + (size_t)(*next % frame_nr) * frame_size);
    if (!(h->tp_status & TP_STATUS_USER)) {
        int w = ckl_wait_readable(fd, timeout_ms);
        if (w <= 0) return w;
        if (!(h->tp_status & TP_STATUS_USER)) return 0;
    }
    __sync_synchronize();
    unsigned int n = h->tp_snaplen;
    if (n > (unsigned int)len) n = (unsigned int)len;
    memcpy(buf, (uint8_t *)h + h->tp_mac, n);
    const struct sockaddr_ll *sll = (const struct sockaddr_ll *)((uint8_t *)h + TPACKET_ALIGN(sizeof(struct tpacket2_hdr)));
    *pkttype = sll->sll_pkttype;
    *tp_status = h->tp_status;
    __sync_synchronize();
    h->tp_status = TP_STATUS_KERNEL;
    *next = (*next + 1) % frame_nr;
    return (int)n;
}

void ckl_ring_close(int fd, void *map, unsigned int frame_size, unsigned int frame_nr) {
    munmap(map, (size_t)frame_size * frame_nr);
    close(fd);
}

int ckl_udp_send(const char *src, int sport, const char *dst, int dport, const uint8_t *buf, int len) {
    struct sockaddr_storage from, to;
    socklen_t alen;
    memset(&from, 0, sizeof from);
    memset(&to, 0, sizeof to);
    int family = strchr(dst, ':') ? AF_INET6 : AF_INET;
    if (family == AF_INET) {
        struct sockaddr_in *f = (struct sockaddr_in *)&from, *t = (struct sockaddr_in *)&to;
        f->sin_family = t->sin_family = AF_INET;
        f->sin_port = htons((uint16_t)sport);
        t->sin_port = htons((uint16_t)dport);
        if (inet_pton(AF_INET, src, &f->sin_addr) != 1 || inet_pton(AF_INET, dst, &t->sin_addr) != 1) return -EINVAL;
        alen = sizeof(struct sockaddr_in);
    } else {
        struct sockaddr_in6 *f = (struct sockaddr_in6 *)&from, *t = (struct sockaddr_in6 *)&to;
        f->sin6_family = t->sin6_family = AF_INET6;
        f->sin6_port = htons((uint16_t)sport);
        t->sin6_port = htons((uint16_t)dport);
        if (inet_pton(AF_INET6, src, &f->sin6_addr) != 1 || inet_pton(AF_INET6, dst, &t->sin6_addr) != 1) return -EINVAL;
        alen = sizeof(struct sockaddr_in6);
    }
    int s = socket(family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (s < 0) return -errno;
    int one = 1;
    setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (bind(s, (struct sockaddr *)&from, alen) < 0) { int e = errno; close(s); return -e; }
    ssize_t n = sendto(s, buf, (size_t)len, 0, (struct sockaddr *)&to, alen);
    int e = errno;
    close(s);
    return n < 0 ? -e : (int)n;
}

int ckl_pipe_cloexec(int fds[2]) {
    return pipe2(fds, O_CLOEXEC) < 0 ? -errno : 0;
}

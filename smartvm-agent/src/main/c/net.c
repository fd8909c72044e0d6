/* The guest's network, from the kernel command line's ip=ADDR::GATEWAY:NETMASK::DEV:off (the
 * form SmartVM writes): virtio_net is a module here, loaded after the kernel's own ip= handling
 * would have run, so the agent brings the interface up itself. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <net/if_arp.h>
#include <netpacket/packet.h>
#include <net/route.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "agent.h"

static int set_addr(int fd, unsigned long req, const char *dev, const char *addr) {
    struct ifreq ifr;
    memset(&ifr, 0, sizeof ifr);
    snprintf(ifr.ifr_name, sizeof ifr.ifr_name, "%s", dev);
    struct sockaddr_in *sin = (struct sockaddr_in *)&ifr.ifr_addr;
    sin->sin_family = AF_INET;
    if (inet_pton(AF_INET, addr, &sin->sin_addr) != 1) return -1;
    return ioctl(fd, req, &ifr);
}

/* Splits ip=A::G:M::DEV:off; returns 0 when every part is there. */
static int parse(const char *spec, char *addr, char *gw, char *mask, char *dev) {
    char copy[256];
    snprintf(copy, sizeof copy, "%s", spec);
    char *f[7] = {0};
    int n = 0;
    char *p = copy;
    while (n < 7) {
        f[n++] = p;
        char *c = strchr(p, ':');
        if (!c) break;
        *c = 0;
        p = c + 1;
    }
    if (n < 6 || !f[0][0] || !f[3][0] || !f[5][0]) return -1;
    snprintf(addr, 64, "%s", f[0]);
    snprintf(gw, 64, "%s", f[2]);
    snprintf(mask, 64, "%s", f[3]);
    snprintf(dev, IFNAMSIZ, "%s", f[5]);
    return 0;
}

/* lo is up in every VM, with a network or without: programs expect 127.0.0.1 (a test's server, a
 * database on localhost). */
static void loopback_up(void) {
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return;
    struct ifreq lo;
    memset(&lo, 0, sizeof lo);
    snprintf(lo.ifr_name, sizeof lo.ifr_name, "lo");
    if (ioctl(fd, SIOCGIFFLAGS, &lo) == 0 && !(lo.ifr_flags & IFF_UP)) {
        lo.ifr_flags |= IFF_UP;
        if (ioctl(fd, SIOCSIFFLAGS, &lo) != 0) agent_log("cannot bring lo up: %s", strerror(errno));
    }
    close(fd);
}

void net_configure(const char *spec) {
    char addr[64], gw[64], mask[64], dev[IFNAMSIZ];
    loopback_up();
    if (!spec[0]) return;
    if (parse(spec, addr, gw, mask, dev) != 0) {
        agent_log("ignoring ip=%s: not ADDR::GATEWAY:NETMASK::DEV:off", spec);
        return;
    }
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return;
    /* The driver probes asynchronously: wait for the device, 5 s at most. */
    struct ifreq ifr;
    int found = 0;
    for (int64_t until = now_ms() + 5000; now_ms() < until; usleep(10000)) {
        memset(&ifr, 0, sizeof ifr);
        snprintf(ifr.ifr_name, sizeof ifr.ifr_name, "%s", dev);
        if (ioctl(fd, SIOCGIFFLAGS, &ifr) == 0) {
            found = 1;
            break;
        }
    }
    if (!found) {
        agent_log("network device %s did not appear", dev);
        close(fd);
        return;
    }
    ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
    if (set_addr(fd, SIOCSIFADDR, dev, addr) != 0 || set_addr(fd, SIOCSIFNETMASK, dev, mask) != 0 ||
        ioctl(fd, SIOCSIFFLAGS, &ifr) != 0) {
        agent_log("configuring %s as %s/%s failed: %s", dev, addr, mask, strerror(errno));
        close(fd);
        return;
    }
    if (gw[0]) {
        struct rtentry rt;
        memset(&rt, 0, sizeof rt);
        struct sockaddr_in *g = (struct sockaddr_in *)&rt.rt_gateway;
        g->sin_family = AF_INET;
        inet_pton(AF_INET, gw, &g->sin_addr);
        ((struct sockaddr_in *)&rt.rt_dst)->sin_family = AF_INET;
        ((struct sockaddr_in *)&rt.rt_genmask)->sin_family = AF_INET;
        rt.rt_flags = RTF_UP | RTF_GATEWAY;
        rt.rt_dev = dev;
        if (ioctl(fd, SIOCADDRT, &rt) != 0 && errno != EEXIST)
            agent_log("default route via %s failed: %s", gw, strerror(errno));
    }
    close(fd);
    agent_log("network: %s %s/%s via %s", dev, addr, mask, gw[0] ? gw : "-");
}

/* Sends a gratuitous ARP (who-has ADDR tell ADDR, from MAC, broadcast), so that the host's bridge
 * and neighbours learn at once where the address lives now. */
static void announce(const char *dev, const unsigned char mac[6], const char *addr) {
    int fd = socket(AF_PACKET, SOCK_DGRAM | SOCK_CLOEXEC, htons(ETH_P_ARP));
    if (fd < 0) return;
    struct sockaddr_ll to;
    memset(&to, 0, sizeof to);
    to.sll_family = AF_PACKET;
    to.sll_protocol = htons(ETH_P_ARP);
    to.sll_ifindex = (int)if_nametoindex(dev);
    to.sll_halen = 6;
    memset(to.sll_addr, 0xff, 6);
    unsigned char arp[28];
    struct in_addr ip;
    if (to.sll_ifindex == 0 || inet_pton(AF_INET, addr, &ip) != 1) {
        close(fd);
        return;
    }
    arp[0] = 0; arp[1] = 1;       /* Ethernet */
    arp[2] = 0x08; arp[3] = 0x00; /* IPv4 */
    arp[4] = 6; arp[5] = 4;
    arp[6] = 0; arp[7] = 1;       /* request */
    memcpy(arp + 8, mac, 6);
    memcpy(arp + 14, &ip, 4);
    memset(arp + 18, 0, 6);
    memcpy(arp + 24, &ip, 4);
    if (sendto(fd, arp, sizeof arp, 0, (struct sockaddr *)&to, sizeof to) < 0) agent_log("announce: %s", strerror(errno));
    close(fd);
}

static int parse_mac(const char *text, unsigned char mac[6]) {
    unsigned int b[6];
    if (sscanf(text, "%2x:%2x:%2x:%2x:%2x:%2x", &b[0], &b[1], &b[2], &b[3], &b[4], &b[5]) != 6) return -1;
    for (int i = 0; i < 6; i++) mac[i] = (unsigned char)b[i];
    return 0;
}

/* A restored or cloned guest: its interface still has the saved VM's MAC (part of the device's
 * migrated state) and address. Down, the new MAC, up with the new address and default route
 * (a down drops routes), then announced. */
int net_readdress(const char *mac_text, const char *spec) {
    char addr[64], gw[64], mask[64], dev[IFNAMSIZ];
    unsigned char mac[6];
    if (parse(spec, addr, gw, mask, dev) != 0 || parse_mac(mac_text, mac) != 0) return -1;
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return -1;
    struct ifreq ifr;
    memset(&ifr, 0, sizeof ifr);
    snprintf(ifr.ifr_name, sizeof ifr.ifr_name, "%s", dev);
    if (ioctl(fd, SIOCGIFFLAGS, &ifr) != 0) {
        agent_log("readdress: no device %s", dev);
        close(fd);
        return -1;
    }
    short flags = ifr.ifr_flags;
    ifr.ifr_flags = (short)(flags & ~IFF_UP);
    ioctl(fd, SIOCSIFFLAGS, &ifr);
    struct ifreq hw;
    memset(&hw, 0, sizeof hw);
    snprintf(hw.ifr_name, sizeof hw.ifr_name, "%s", dev);
    hw.ifr_hwaddr.sa_family = ARPHRD_ETHER;
    memcpy(hw.ifr_hwaddr.sa_data, mac, 6);
    if (ioctl(fd, SIOCSIFHWADDR, &hw) != 0) agent_log("readdress: MAC of %s: %s", dev, strerror(errno));
    close(fd);
    net_configure(spec); /* address, mask, up, lo, default route */
    announce(dev, mac, addr);
    return 0;
}

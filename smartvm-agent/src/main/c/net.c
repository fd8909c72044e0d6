/* The guest's network, from the kernel command line's ip=ADDR::GATEWAY:NETMASK::DEV:off (the
 * form SmartVM writes): virtio_net is a module here, loaded after the kernel's own ip= handling
 * would have run, so the agent brings the interface up itself. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
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

void net_configure(const char *spec) {
    char addr[64], gw[64], mask[64], dev[IFNAMSIZ];
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
    /* lo too: programs expect 127.0.0.1. */
    struct ifreq lo;
    memset(&lo, 0, sizeof lo);
    snprintf(lo.ifr_name, sizeof lo.ifr_name, "lo");
    if (ioctl(fd, SIOCGIFFLAGS, &lo) == 0) {
        lo.ifr_flags |= IFF_UP;
        ioctl(fd, SIOCSIFFLAGS, &lo);
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

/*
 * SYNC: the host's wall clock and fresh entropy, sent at the start of every session. A guest
 * restored from a snapshot (or cloned from a template) otherwise resumes at the saved time, with
 * the saved RNG state: every copy would print the same "random" UUIDs.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/random.h>
#include <string.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "agent.h"

#define MAX_ENTROPY 512

void sync_guest(uint32_t id, struct reader *r) {
    uint64_t secs = rd_u64(r);
    uint32_t nanos = rd_u32(r);
    size_t n = r->bad ? 0 : r->len - r->off;
    if (r->bad || nanos >= 1000000000u || n > MAX_ENTROPY) {
        send_error(id, EINVAL, "malformed sync request");
        return;
    }
    /* Only the guest's init owns the clock and the RNG: an agent serving on a host (--listen,
     * the tests) or fuzzed leaves them alone. */
    if (getpid() == 1) {
        struct timespec ts = {(time_t)secs, (long)nanos};
        if (clock_settime(CLOCK_REALTIME, &ts) != 0) agent_log("sync: cannot set the clock: %s", strerror(errno));
        int fd = open("/dev/urandom", O_WRONLY | O_CLOEXEC);
        if (fd >= 0) {
            struct {
                int entropy_count;
                int buf_size;
                unsigned char buf[MAX_ENTROPY];
            } info;
            info.entropy_count = (int)(n * 8);
            info.buf_size = (int)n;
            memcpy(info.buf, r->p + r->off, n);
            if (n > 0 && ioctl(fd, RNDADDENTROPY, &info) != 0) agent_log("sync: RNDADDENTROPY: %s", strerror(errno));
            if (ioctl(fd, RNDRESEEDCRNG) != 0 && errno != ENOTTY) agent_log("sync: RNDRESEEDCRNG: %s", strerror(errno));
            memset(&info, 0, sizeof info);
            close(fd);
        }
    }
    send_frame(id, T_OK, NULL, 0);
}

/*
 * IDENTIFY: the VM's id and hostname. A clone or a restored VM runs its template's kernel, whose
 * command line names the template's VM: the host tells every new session who the guest is now.
 * The id goes to /run/smartvm/vm-id; the hostname is set. PID 1 only, as for SYNC.
 */
static int valid_hostname(const char *h) {
    size_t n = strlen(h);
    if (n == 0 || n > 63 || h[0] == '-') return 0;
    for (size_t i = 0; i < n; i++) {
        char c = h[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '.')) return 0;
    }
    return 1;
}

void identify_guest(uint32_t id, struct reader *r) {
    char *vm_id = rd_str(r);
    char *hostname = rd_str(r);
    /* optional: a restored guest's own MAC and ip=ADDR::GATEWAY:NETMASK::DEV:off ("" for none) */
    char *mac = r->off < r->len ? rd_str(r) : strdup("");
    char *ip = r->off < r->len ? rd_str(r) : strdup("");
    if (r->bad || !vm_id || !hostname || !mac || !ip || strlen(vm_id) > 64 || strchr(vm_id, '/')
        || !valid_hostname(hostname) || strlen(ip) > 200 || (ip[0] != 0) != (mac[0] != 0)) {
        send_error(id, EINVAL, "malformed identify request");
    } else if (ip[0] && getpid() == 1 && net_readdress(mac, ip) != 0) {
        send_error(id, EINVAL, "cannot readdress the network: mac %s, ip=%s", mac, ip);
    } else {
        if (getpid() == 1) {
            if (sethostname(hostname, strlen(hostname)) != 0) agent_log("identify: sethostname: %s", strerror(errno));
            mkdir("/run/smartvm", 0755);
            int fd = open("/run/smartvm/vm-id.tmp", O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
            if (fd >= 0) {
                size_t n = strlen(vm_id);
                int ok = write(fd, vm_id, n) == (ssize_t)n && write(fd, "\n", 1) == 1;
                close(fd);
                if (!ok || rename("/run/smartvm/vm-id.tmp", "/run/smartvm/vm-id") != 0) agent_log("identify: cannot write the VM id");
            }
        }
        send_frame(id, T_OK, NULL, 0);
    }
    free(vm_id);
    free(hostname);
    free(mac);
    free(ip);
}

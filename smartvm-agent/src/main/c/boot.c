/* PID 1 duties: early mounts, kernel modules, the agent port, the optional root disk. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "agent.h"

#define PORT_NAME "smartvm.agent"
#define MODULE_ORDER "/lib/modules/smartvm.order"
#define MODULE_RELEASE "/lib/modules/smartvm.release"
#define NEWROOT "/newroot"

void agent_log(const char *fmt, ...) {
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    dprintf(2, "smartvm-agent: %s\n", msg);
}

int64_t now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int stop_by_reset;

void power_off(void) {
    sync();
    /* Firecracker has no power-off device: a reset (reboot=k) is how its guest ends the VM. */
    reboot(stop_by_reset ? RB_AUTOBOOT : RB_POWER_OFF);
    for (;;) pause();
}

int agent_protected;

/* PID 1's death is a kernel panic: the agent is never the OOM killer's choice, and it runs at a
 * higher priority than guest commands, so that a fork bomb or a busy loop cannot starve the
 * host's requests (a kill among them). Each command goes back to the defaults (exec.c). */
static void protect_agent(void) {
    int fd = open("/proc/self/oom_score_adj", O_WRONLY | O_CLOEXEC);
    if (fd < 0 || write(fd, "-1000", 5) != 5) agent_log("cannot protect the agent from the OOM killer");
    if (fd >= 0) close(fd);
    if (setpriority(PRIO_PROCESS, 0, AGENT_NICE) != 0) agent_log("cannot raise the agent's priority: %s", strerror(errno));
    agent_protected = 1;
}

static void mount_one(const char *src, const char *target, const char *type, unsigned long flags,
                      const char *data) {
    mkdir(target, 0755);
    if (mount(src, target, type, flags, data) != 0 && errno != EBUSY)
        agent_log("mount %s on %s failed: %s", type, target, strerror(errno));
}

static void mount_api_filesystems(const char *prefix) {
    char path[256];
    const char *dirs[] = {"proc", "sys", "dev", "dev/pts", "tmp", "run"};
    const char *types[] = {"proc", "sysfs", "devtmpfs", "devpts", "tmpfs", "tmpfs"};
    /* Memory filesystems are capped so that all of them full together (with the root's cap,
     * set in boot_mount_early) leave more than a third of the RAM: a guest that fills them gets
     * ENOSPC instead of a kernel with nothing left to free (tmpfs pages cannot be reclaimed). */
    const char *data[] = {NULL, NULL, "mode=0755", "mode=0620,ptmxmode=0666", "mode=1777,size=25%", "mode=0755,size=5%"};
    for (size_t i = 0; i < sizeof dirs / sizeof dirs[0]; i++) {
        snprintf(path, sizeof path, "%s/%s", prefix, dirs[i]);
        mount_one(types[i], path, types[i], MS_NOSUID | (i == 2 ? 0 : MS_NODEV), data[i]);
    }
}

void boot_mount_early(void) {
    mount_api_filesystems("");
    /* The initramfs root is a tmpfs of half the RAM, /dev a devtmpfs of as much: cap both. */
    if (mount(NULL, "/", NULL, MS_REMOUNT, "size=25%") != 0)
        agent_log("capping the root filesystem failed: %s", strerror(errno));
    if (mount(NULL, "/dev", NULL, MS_REMOUNT | MS_NOSUID, "size=2%,mode=0755") != 0)
        agent_log("capping /dev failed: %s", strerror(errno));
    protect_agent();
    umask(022);
    setenv("PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", 1);
}

static void copy_value(char *dst, size_t cap, const char *v, size_t n) {
    if (n >= cap) n = cap - 1;
    memcpy(dst, v, n);
    dst[n] = 0;
}

void boot_read_cmdline(struct boot_config *cfg) {
    memset(cfg, 0, sizeof *cfg);
    strcpy(cfg->root_fstype, "ext4");
    strcpy(cfg->hostname, "smartvm");
    char line[4096];
    int fd = open("/proc/cmdline", O_RDONLY | O_CLOEXEC);
    if (fd < 0) return;
    ssize_t n = read(fd, line, sizeof line - 1);
    close(fd);
    if (n <= 0) return;
    line[n] = 0;
    for (char *tok = strtok(line, " \n"); tok; tok = strtok(NULL, " \n")) {
        char *eq = strchr(tok, '=');
        if (!eq) continue;
        size_t klen = (size_t)(eq - tok);
        const char *v = eq + 1;
        if (klen == 12 && !strncmp(tok, "smartvm.root", klen))
            copy_value(cfg->root_dev, sizeof cfg->root_dev, v, strlen(v));
        else if (klen == 18 && !strncmp(tok, "smartvm.rootfstype", klen))
            copy_value(cfg->root_fstype, sizeof cfg->root_fstype, v, strlen(v));
        else if (klen == 14 && !strncmp(tok, "smartvm.rootro", klen))
            cfg->root_readonly = !strcmp(v, "1");
        else if (klen == 16 && !strncmp(tok, "smartvm.hostname", klen))
            copy_value(cfg->hostname, sizeof cfg->hostname, v, strlen(v));
        else if (klen == 2 && !strncmp(tok, "ip", klen))
            copy_value(cfg->ip, sizeof cfg->ip, v, strlen(v));
        else if (klen == 13 && !strncmp(tok, "smartvm.ports", klen))
            cfg->ports = (unsigned)strtoul(v, NULL, 10);
        else if (klen == 17 && !strncmp(tok, "smartvm.transport", klen) && !strncmp(v, "vsock:", 6))
            cfg->vsock_port = (unsigned)strtoul(v + 6, NULL, 10);
    }
}

/* Whether the initramfs's modules are for the running kernel: a kernel of the user's own (a
 * Firecracker config's) is not the image's, and loading them would only fail, one by one. */
static int modules_fit(void) {
    char release[256] = {0};
    FILE *r = fopen(MODULE_RELEASE, "re");
    if (!r) return 1; /* an initramfs that does not say: try them */
    if (!fgets(release, sizeof release, r)) release[0] = 0;
    fclose(r);
    release[strcspn(release, "\r\n")] = 0;
    struct utsname u;
    if (uname(&u) != 0 || !release[0] || !strcmp(release, u.release)) return 1;
    agent_log("the initramfs's modules are for kernel %s, this one is %s: none loaded (what the agent needs"
              " must be built in)", release, u.release);
    return 0;
}

void boot_load_modules(void) {
    if (!modules_fit()) return;
    FILE *f = fopen(MODULE_ORDER, "re");
    if (!f) return;
    char name[256], path[512];
    while (fgets(name, sizeof name, f)) {
        name[strcspn(name, "\r\n")] = 0;
        if (!name[0]) continue;
        snprintf(path, sizeof path, "/lib/modules/%s", name);
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0) {
            agent_log("module %s: %s", name, strerror(errno));
            continue;
        }
        if (syscall(SYS_finit_module, fd, "", 0) != 0 && errno != EEXIST)
            agent_log("module %s: %s", name, strerror(errno));
        close(fd);
    }
    fclose(f);
}

/* The port's number in its name: 0 for "smartvm.agent", N for "smartvm.agent.N", -1 otherwise. */
static int port_index(const char *name) {
    size_t n = strlen(PORT_NAME);
    if (strncmp(name, PORT_NAME, n) != 0) return -1;
    if (name[n] == '\n' || name[n] == 0) return 0;
    if (name[n] != '.') return -1;
    char *end;
    long k = strtol(name + n + 1, &end, 10);
    return (end != name + n + 1 && (*end == '\n' || *end == 0) && k > 0 && k < MAX_CONNS) ? (int)k : -1;
}

/*
 * Opens /dev/vportNpM for each port named "smartvm.agent" (index 0) and "smartvm.agent.K" (index
 * K), K < want; module probing is asynchronous, so it waits (15 s at most) until all are there.
 * fds[K] is the port of index K, or -1; returns how many were opened.
 */
int boot_open_ports(int *fds, int want) {
    for (int k = 0; k < want; k++) fds[k] = -1;
    int opened = 0;
    int64_t deadline = now_ms() + 15000;
    while (opened < want && now_ms() < deadline) {
        DIR *d = opendir("/sys/class/virtio-ports");
        struct dirent *e;
        while (d && (e = readdir(d))) {
            if (e->d_name[0] == '.') continue;
            char path[512], name[128] = {0};
            snprintf(path, sizeof path, "/sys/class/virtio-ports/%s/name", e->d_name);
            int fd = open(path, O_RDONLY | O_CLOEXEC);
            if (fd < 0) continue;
            ssize_t n = read(fd, name, sizeof name - 1);
            close(fd);
            int k = n > 0 ? port_index(name) : -1;
            if (k < 0 || k >= want || fds[k] >= 0) continue;
            snprintf(path, sizeof path, "/dev/%s", e->d_name);
            fds[k] = open(path, O_RDWR | O_NONBLOCK | O_CLOEXEC);
            if (fds[k] >= 0) opened++;
        }
        if (d) closedir(d);
        if (opened < want) usleep(5000);
    }
    return opened;
}

static int wait_for_device(const char *dev, int ms) {
    int64_t deadline = now_ms() + ms;
    struct stat st;
    while (stat(dev, &st) != 0) {
        if (now_ms() >= deadline) return -1;
        usleep(5000);
    }
    return 0;
}

/* Mounts the root disk, gives it the API filesystems and makes it the agent's root. */
void boot_switch_root(const struct boot_config *cfg) {
    if (!cfg->root_dev[0]) return;
    if (wait_for_device(cfg->root_dev, 15000) != 0) {
        agent_log("root disk %s did not appear", cfg->root_dev);
        power_off();
    }
    mkdir(NEWROOT, 0755);
    unsigned long flags = cfg->root_readonly ? MS_RDONLY : 0;
    if (mount(cfg->root_dev, NEWROOT, cfg->root_fstype, flags, NULL) != 0) {
        agent_log("mount %s (%s) on %s failed: %s", cfg->root_dev, cfg->root_fstype, NEWROOT,
                  strerror(errno));
        power_off();
    }
    const char *moved[] = {"/proc", "/sys", "/dev", "/tmp", "/run"};
    char target[256];
    for (size_t i = 0; i < sizeof moved / sizeof moved[0]; i++) {
        snprintf(target, sizeof target, NEWROOT "%s", moved[i]);
        mkdir(target, 0755);
        if (mount(moved[i], target, NULL, MS_MOVE, NULL) != 0)
            agent_log("moving %s into the root disk failed: %s", moved[i], strerror(errno));
    }
    if (chdir(NEWROOT) != 0 || mount(".", "/", NULL, MS_MOVE, NULL) != 0 || chroot(".") != 0 ||
        chdir("/") != 0) {
        agent_log("switching to the root disk failed: %s", strerror(errno));
        power_off();
    }
}

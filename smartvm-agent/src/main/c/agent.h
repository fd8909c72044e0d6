/* Shared declarations of the SmartVM guest agent. */
#ifndef SMARTVM_AGENT_H
#define SMARTVM_AGENT_H

#include <poll.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "protocol.h"

/* ---- wire.c: growable byte buffers and the payload codec ---- */
struct buf {
    uint8_t *p;
    size_t len, cap;
};
void buf_reserve(struct buf *b, size_t extra);
void buf_put(struct buf *b, const void *data, size_t n);
void buf_u8(struct buf *b, uint8_t v);
void buf_u32(struct buf *b, uint32_t v);
void buf_u64(struct buf *b, uint64_t v);
void buf_str(struct buf *b, const char *s);
void buf_consume(struct buf *b, size_t n);
void buf_free(struct buf *b);

struct reader {
    const uint8_t *p;
    size_t len, off;
    int bad;
};
uint8_t rd_u8(struct reader *r);
uint32_t rd_u32(struct reader *r);
uint64_t rd_u64(struct reader *r);
char *rd_str(struct reader *r); /* malloc'd, NUL-terminated; NULL when bad or holds NUL */

/*
 * One host connection: a virtio port (QEMU gives the VM several, one per concurrent host
 * process), or an accepted socket (vsock under Firecracker, a Unix socket with --listen). Each
 * has its own handshake, input, output queue and requests; frames are sent to `current`.
 */
struct conn {
    int fd;        /* -1: free (a socket slot) */
    int is_port;   /* a virtio port: kept open; a hang-up means its host left */
    int present;   /* a host is there (always, for a socket) */
    int synced;    /* the host's preamble was seen */
    int64_t absent_since;
    struct buf inq, outq;
};
#define MAX_CONNS 32
extern struct conn *current;
#define OUTQ_HIGH (512u * 1024u)
void send_frame(uint32_t id, uint8_t type, const void *payload, size_t len);
void send_error(uint32_t id, int err, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
void send_window(uint32_t id, uint32_t n);
int outq_has_room(void);

/* ---- console.c: the host-side console log writer (see there) ---- */
int console_log_main(int argc, char **argv);

/* ---- boot.c ---- */
struct boot_config {
    char root_dev[128];
    char root_fstype[32];
    int root_readonly;
    char hostname[64];
    unsigned vsock_port; /* smartvm.transport=vsock:PORT (Firecracker); 0: the virtio ports */
    unsigned ports;      /* smartvm.ports=N: how many virtio ports to serve (1 when not said) */
    char ip[256];        /* ip=ADDR::GATEWAY:NETMASK::DEV:off, or empty for no network */
};
void net_configure(const char *spec);
int net_readdress(const char *mac, const char *spec); /* net.c: a restored guest's own MAC and address */
void boot_mount_early(void);
void boot_read_cmdline(struct boot_config *cfg);
void boot_load_modules(void);
int boot_open_ports(int *fds, int want);
void boot_switch_root(const struct boot_config *cfg);
void agent_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void power_off(void) __attribute__((noreturn));
extern int stop_by_reset; /* set under Firecracker: power_off() resets instead */
extern int agent_protected; /* PID 1 raised its priority and left the OOM killer's list: commands go back */
#define AGENT_NICE (-10)
int64_t now_ms(void);

/* ---- sessions (main.c, exec.c, files.c) ---- */
enum session_kind { S_FREE = 0, S_EXEC, S_PUT, S_GET, S_WATCH };

struct watch_dir {
    int wd;
    char *path;
};

struct get_entry {
    char *rel;   /* relative to the requested path, "" for the path itself */
    uint8_t kind;
    uint32_t mode;
    uint64_t size;
    char *link;
};

struct session {
    enum session_kind kind;
    struct conn *conn; /* the host connection the request came on */
    uint32_t id;
    uint32_t send_window; /* bytes we may still send for this stream */
    uint32_t unacked;     /* bytes received and consumed, not yet acknowledged */
    /* exec */
    pid_t pid;
    int in_fd, out_fd, err_fd;
    int pty; /* in_fd and out_fd are a pseudo-terminal's master (err_fd is -1) */
    int pty_master; /* the master, kept open once its output ended until the session ends: closing the last
                       master hangs the terminal up, and a command that closed its terminal but has not yet
                       exited would die of the SIGHUP */
    uint8_t in_ready, out_ready, err_ready; /* what the last poll() reported */
    struct buf stdin_pending;
    int stdin_eof;
    int reaped, status, timed_out;
    int64_t deadline_ms, reaped_ms;
    /* put */
    char *dest;
    char *base;
    int fd;
    char *part;  /* the file being written, under its temporary name */
    char *final; /* the name it takes once complete */
    uint64_t remaining;
    int failed;
    int have_root;
    /* get */
    struct get_entry *entries;
    size_t n_entries, next_entry;
    int get_fd;
    uint64_t get_left;
    /* watch: dirs[0] is the watched directory itself */
    int ino_fd;
    int recursive;
    struct watch_dir *dirs;
    size_t n_dirs, cap_dirs;
};

extern struct session sessions[MAX_SESSIONS];
struct session *session_find(uint32_t id);
struct session *session_new(uint32_t id, enum session_kind kind);
void session_free(struct session *s);
void session_ack(struct session *s, uint32_t n);

void exec_start(uint32_t id, struct reader *r);
void exec_stdin(struct session *s, const uint8_t *data, size_t n);
void exec_signal(struct session *s, int sig);
void exec_resize(struct session *s, struct reader *r);
void exec_pump(struct session *s, int64_t now);
void exec_on_child(pid_t pid, int status);
void exec_kill(struct session *s);
int exec_poll_fds(struct session *s, struct pollfd *fds, int max);
void exec_poll_result(struct session *s, const struct pollfd *fd);
void exec_init(void);
int64_t exec_next_deadline(struct session *s);

void put_start(uint32_t id, struct reader *r);
void put_entry(struct session *s, struct reader *r);
void put_data(struct session *s, const uint8_t *data, size_t n);
void put_end(struct session *s);
void get_start(uint32_t id, struct reader *r);
void sync_guest(uint32_t id, struct reader *r); /* sync.c */
void identify_guest(uint32_t id, struct reader *r); /* sync.c */
void get_pump(struct session *s);
void files_release(struct session *s);
int relpath_ok(const char *rel);
char *guest_path(char *path); /* files.c: the path itself (the fuzzer's stay in its scratch directory) */
void read_start(uint32_t id, struct reader *r);

/* fsops.c, watch.c: the files API */
char *path_arg(uint32_t id, struct reader *r, const char *what); /* an absolute path, or NULL (ERROR sent) */
void stat_path(uint32_t id, struct reader *r);
void list_dir(uint32_t id, struct reader *r);
void make_dirs(uint32_t id, struct reader *r);
void remove_path(uint32_t id, struct reader *r);
void rename_path(uint32_t id, struct reader *r);
void watch_start(uint32_t id, struct reader *r);
int watch_poll_fd(struct session *s, struct pollfd *fd);
void watch_pump(struct session *s);
void watch_release(struct session *s);

/* usage.c: USAGE, and the activity it reports */
void usage_note_activity(uint8_t type);
void usage_note_now(void); /* activity now: the agent starts, a request ends */
void usage_report(uint32_t id);

#endif

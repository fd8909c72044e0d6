/*
 * SmartVM guest agent: PID 1 of the initramfs. It mounts the API filesystems, loads the virtio
 * modules, optionally switches to a root disk, then serves docs/agent-protocol.md on the virtio
 * serial port named "smartvm.agent" (QEMU), or on a vsock port when the kernel command line says
 * smartvm.transport=vsock:PORT (Firecracker, whose host side is its hybrid vsock Unix socket).
 *
 * `smartvm-agent --listen PATH|vsock:PORT` serves the same protocol on a Unix socket (or a vsock
 * port) without any of the PID 1 duties: the host's tests use it to exercise the protocol
 * without booting a VM.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <linux/vm_sockets.h>
#include <sys/wait.h>
#include <unistd.h>

#include "agent.h"

#ifndef AGENT_VERSION
#define AGENT_VERSION "dev"
#endif

struct session sessions[MAX_SESSIONS];

static struct conn conns[MAX_CONNS];
static int n_conns;         /* slots in use: the virtio ports, or MAX_CONNS socket slots */
static int listen_fd = -1;  /* a listening socket (vsock, or --listen), -1 with virtio ports */

struct session *session_find(uint32_t id) {
    for (int i = 0; i < MAX_SESSIONS; i++)
        if (sessions[i].kind != S_FREE && sessions[i].conn == current && sessions[i].id == id) return &sessions[i];
    return NULL;
}

struct session *session_new(uint32_t id, enum session_kind kind) {
    if (id == 0 || session_find(id)) {
        send_error(id, EEXIST, "request id %u is zero or already in use", id);
        return NULL;
    }
    for (int i = 0; i < MAX_SESSIONS; i++) {
        struct session *s = &sessions[i];
        if (s->kind != S_FREE) continue;
        memset(s, 0, sizeof *s);
        s->kind = kind;
        s->conn = current;
        s->id = id;
        s->send_window = INITIAL_WINDOW;
        s->in_fd = s->out_fd = s->err_fd = s->pty_master = s->fd = s->get_fd = s->ino_fd = -1;
        return s;
    }
    send_error(id, EAGAIN, "too many concurrent requests (at most %d)", MAX_SESSIONS);
    return NULL;
}

void session_free(struct session *s) {
    struct conn *was = current;
    current = s->conn; /* whatever it still sends goes to its own host */
    if (s->kind == S_EXEC || s->kind == S_PUT || s->kind == S_GET) usage_note_now();
    if (s->kind == S_EXEC) {
        exec_kill(s);
        if (s->in_fd >= 0) close(s->in_fd);
        if (s->out_fd >= 0) close(s->out_fd);
        if (s->err_fd >= 0) close(s->err_fd);
        if (s->pty_master >= 0) close(s->pty_master);
        buf_free(&s->stdin_pending);
    }
    files_release(s);
    watch_release(s);
    memset(s, 0, sizeof *s);
    s->kind = S_FREE;
    current = was;
}

void session_ack(struct session *s, uint32_t n) {
    s->unacked += n;
    if (s->unacked >= INITIAL_WINDOW / 4) {
        send_window(s->id, s->unacked);
        s->unacked = 0;
    }
}

/* Forget the connection's session: its requests die with it; unread input stays (it may hold
 * the next host's preamble). */
static void reset_session(struct conn *c) {
    for (int i = 0; i < MAX_SESSIONS; i++)
        if (sessions[i].kind != S_FREE && sessions[i].conn == c) session_free(&sessions[i]);
    c->outq.len = 0;
    c->synced = 0;
}

/* Its host left: forget everything of the connection, its unread input too. */
static void disconnect(struct conn *c) {
    reset_session(c);
    c->inq.len = 0;
    c->present = 0;
    c->absent_since = now_ms();
    if (!c->is_port) {
        close(c->fd);
        c->fd = -1;
    }
}

static void send_hello(const uint8_t *nonce) {
    struct buf b = {0};
    buf_put(&b, nonce, PROTO_NONCE_LEN);
    buf_u32(&b, PROTO_VERSION);
    buf_u32(&b, MAX_PAYLOAD);
    buf_u32(&b, INITIAL_WINDOW);
    buf_str(&b, "smartvm-agent " AGENT_VERSION);
    send_frame(0, T_HELLO, b.p, b.len);
    buf_free(&b);
}

static void flush_outq_blocking(struct conn *c, int ms) {
    int64_t deadline = now_ms() + ms;
    while (c->fd >= 0 && c->outq.len > 0 && now_ms() < deadline) {
        struct pollfd p = {c->fd, POLLOUT, 0};
        poll(&p, 1, 50);
        ssize_t n = write(c->fd, c->outq.p, c->outq.len);
        if (n > 0) buf_consume(&c->outq, (size_t)n);
        else if (n < 0 && errno != EAGAIN && errno != EINTR) return;
    }
}

static void shutdown_guest(void) {
    struct conn *asker = current;
    for (int i = 0; i < n_conns; i++) {
        reset_session(&conns[i]);
        conns[i].inq.len = 0;
    }
    if (asker) {
        current = asker;
        send_frame(0, T_OK, NULL, 0);
        flush_outq_blocking(asker, 500);
    }
#ifdef AGENT_FUZZING
    return; /* the fuzzer goes on with the next input */
#endif
    if (getpid() != 1) exit(0);
    /* Everything in the guest descends from us: wait until nothing is left, 100 ms at most. */
    kill(-1, SIGTERM);
    for (int64_t until = now_ms() + 100; now_ms() < until;) {
        pid_t reaped;
        while ((reaped = waitpid(-1, NULL, WNOHANG)) > 0) {
        }
        if (reaped < 0 && errno == ECHILD) break; /* no process left */
        usleep(2000);
    }
    kill(-1, SIGKILL);
    sync();
    mount(NULL, "/", NULL, MS_REMOUNT | MS_RDONLY, NULL);
    power_off();
}

static void dispatch(uint32_t id, uint8_t type, const uint8_t *payload, uint32_t len) {
    struct reader r = {payload, len, 0, 0};
    struct session *s = id ? session_find(id) : NULL;
    usage_note_activity(type);
    switch (type) {
    case T_EXEC: exec_start(id, &r); break;
    case T_PUT: put_start(id, &r); break;
    case T_GET: get_start(id, &r); break;
    case T_READ: read_start(id, &r); break;
    case T_STAT: stat_path(id, &r); break;
    case T_LIST: list_dir(id, &r); break;
    case T_MKDIR: make_dirs(id, &r); break;
    case T_REMOVE: remove_path(id, &r); break;
    case T_RENAME: rename_path(id, &r); break;
    case T_WATCH: watch_start(id, &r); break;
    case T_CANCEL: /* a watch ends (answered by END); a read the host gave up on stops (no answer) */
        if (s && s->kind == S_WATCH) send_frame(id, T_END, NULL, 0);
        if (s && (s->kind == S_WATCH || s->kind == S_GET)) session_free(s);
        break;
    case T_STDIN:
        if (s && s->kind == S_EXEC) {
            if (s->stdin_pending.len + len > 2 * INITIAL_WINDOW) {
                send_error(id, EPROTO, "stdin beyond the granted window");
                session_free(s);
            } else {
                exec_stdin(s, payload, len);
            }
        }
        break;
    case T_SIGNAL: {
        uint32_t sig = rd_u32(&r);
        if (s && s->kind == S_EXEC && !r.bad && sig > 0 && sig < 65) exec_signal(s, (int)sig);
        break;
    }
    case T_RESIZE:
        if (s && s->kind == S_EXEC) exec_resize(s, &r);
        break;
    case T_WINDOW: {
        uint32_t n = rd_u32(&r);
        if (s && !r.bad && n <= 0x7fffffffu && s->send_window <= 0x7fffffffu - n) s->send_window += n;
        break;
    }
    case T_ENTRY:
        if (s && s->kind == S_PUT) put_entry(s, &r);
        break;
    case T_DATA:
        if (s && s->kind == S_PUT) put_data(s, payload, len);
        break;
    case T_END:
        if (s && s->kind == S_PUT) put_end(s);
        break;
    case T_PING: send_frame(id, T_PONG, payload, len); break;
    case T_SYNC: sync_guest(id, &r); break;
    case T_IDENTIFY: identify_guest(id, &r); break;
    case T_SHUTDOWN: shutdown_guest(); break;
    case T_USAGE: usage_report(id); break;
    default: send_error(id, ENOSYS, "unknown frame type 0x%02x", type); break;
    }
}

/* Handles the complete frames in the current connection's input. */
static void process_input(void) {
    struct conn *c = current;
    for (;;) {
        if (!c->synced) {
            if (c->inq.len == 0) return; /* (and no buffer yet to search) */
            uint8_t *m = memmem(c->inq.p, c->inq.len, PROTO_MAGIC, PROTO_MAGIC_LEN);
            if (!m) {
                if (c->inq.len > PROTO_MAGIC_LEN) buf_consume(&c->inq, c->inq.len - PROTO_MAGIC_LEN);
                return;
            }
            buf_consume(&c->inq, (size_t)(m - c->inq.p));
            if (c->inq.len < PROTO_MAGIC_LEN + PROTO_NONCE_LEN + 4) return;
            send_hello(c->inq.p + PROTO_MAGIC_LEN);
            buf_consume(&c->inq, PROTO_MAGIC_LEN + PROTO_NONCE_LEN + 4);
            c->synced = 1;
            continue;
        }
        if (c->inq.len < FRAME_HEADER_LEN) return;
        struct reader h = {c->inq.p, c->inq.len, 0, 0};
        uint32_t len = rd_u32(&h), id = rd_u32(&h);
        uint8_t type = rd_u8(&h);
        if (len > MAX_PAYLOAD) {
            /* Not a frame: a new host's preamble (its hang-up and arrival came between two polls of
             * the virtio port, so no hang-up was seen), or garbage. Start over, keeping the input:
             * the preamble is found in it. */
            reset_session(c);
            continue;
        }
        if (c->inq.len < FRAME_HEADER_LEN + len) return;
        dispatch(id, type, c->inq.p + FRAME_HEADER_LEN, len);
        if (!c->synced) return; /* the frame reset the connection */
        buf_consume(&c->inq, FRAME_HEADER_LEN + len);
    }
}

static void reap_children(int sigfd) {
    struct signalfd_siginfo si;
    int ctrl_alt_del = 0;
    while (read(sigfd, &si, sizeof si) == (ssize_t)sizeof si) {
        if (si.ssi_signo == SIGINT) ctrl_alt_del = 1;
    }
    if (ctrl_alt_del) {
        /* The kernel turns Ctrl-Alt-Del (Firecracker's SendCtrlAltDel) into SIGINT for PID 1. */
        agent_log("Ctrl-Alt-Del: stopping");
        current = NULL;
        shutdown_guest();
    }
    int status;
    pid_t pid;
    while ((pid = waitpid(-1, &status, WNOHANG)) > 0) exec_on_child(pid, status);
}

/* Whether the host side of a virtio port is there; a port whose host left is drained. */
static int port_host_present(struct conn *c) {
    struct pollfd p = {c->fd, POLLIN, 0};
    if (poll(&p, 1, 0) < 0) return 0;
    if (!(p.revents & POLLHUP)) return 1;
    /* Stale bytes of a host that left must not reach the next one. But a new host's preamble may
     * be among them already (a guest restored from a snapshot sees its saved host leave after the
     * new one arrived): from a preamble on, the bytes are kept for when the host is there. */
    uint8_t junk[4096];
    ssize_t n;
    int keeping = 0;
    while ((n = read(c->fd, junk, sizeof junk)) > 0) {
        uint8_t *m = memmem(junk, (size_t)n, PROTO_MAGIC, PROTO_MAGIC_LEN);
        if (m) {
            c->inq.len = 0;
            buf_put(&c->inq, m, (size_t)(junk + n - m));
            keeping = 1;
        } else if (keeping) {
            buf_put(&c->inq, junk, (size_t)n);
        }
    }
    return 0;
}

/* Accepts a waiting connection into a free socket slot (none free: it waits in the backlog). */
static void accept_one(void) {
    for (int i = 0; i < n_conns; i++) {
        if (conns[i].fd >= 0) continue;
        int fd = accept4(listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) return;
        conns[i].fd = fd;
        conns[i].present = 1;
        conns[i].synced = 0;
        return;
    }
}

/* Reads what the connection's host sent and handles it; 0 when the host left. */
static int read_conn(struct conn *c, short revents) {
    static uint8_t rbuf[256 * 1024];
    if (revents & POLLIN) {
        ssize_t got = read(c->fd, rbuf, sizeof rbuf);
        if (got > 0) {
            buf_put(&c->inq, rbuf, (size_t)got);
            current = c;
            process_input();
            return 1;
        }
        return !(got == 0 || (errno != EAGAIN && errno != EINTR));
    }
    return !(revents & (POLLHUP | POLLERR));
}

static void write_conn(struct conn *c) {
    while (c->present && c->outq.len > 0) {
        ssize_t w = write(c->fd, c->outq.p, c->outq.len);
        if (w > 0) {
            buf_consume(&c->outq, (size_t)w);
        } else {
            if (w < 0 && errno != EAGAIN && errno != EINTR) disconnect(c);
            break;
        }
    }
}

static void serve(int sigfd) {
    static struct pollfd fds[2 + MAX_CONNS + 3 * MAX_SESSIONS];
    static struct session *owner[2 + MAX_CONNS + 3 * MAX_SESSIONS];
    static int conn_slot[MAX_CONNS];
    for (int i = 0; i < n_conns; i++) conns[i].absent_since = now_ms();
    usage_note_now();
    for (;;) {
        int64_t now = now_ms();
        int waiting_port = 0; /* a virtio port has no "host arrived" event to wait on */
        int64_t quiet_since = 0;
        for (int i = 0; i < n_conns; i++) {
            struct conn *c = &conns[i];
            if (c->is_port && !c->present && port_host_present(c)) {
                c->present = 1;
                c->synced = 0;
                if (c->inq.len > 0) { /* a preamble kept while the port still said its host had left */
                    current = c;
                    process_input();
                }
            }
            if (c->is_port && !c->present) {
                waiting_port = 1;
                if (c->absent_since > quiet_since) quiet_since = c->absent_since;
            }
        }
        int n = 0;
        fds[n++] = (struct pollfd){sigfd, POLLIN, 0};
        int free_slot = 0;
        for (int i = 0; i < n_conns; i++) {
            struct conn *c = &conns[i];
            conn_slot[i] = -1;
            if (c->fd >= 0 && c->present) {
                conn_slot[i] = n;
                fds[n++] = (struct pollfd){c->fd, (short)(POLLIN | (c->outq.len ? POLLOUT : 0)), 0};
            } else if (!c->is_port) {
                free_slot = 1;
            }
        }
        int listen_slot = -1;
        if (listen_fd >= 0 && free_slot) {
            listen_slot = n;
            fds[n++] = (struct pollfd){listen_fd, POLLIN, 0};
        }
        int64_t deadline = 0;
        int first_session_fd = n;
        for (int i = 0; i < MAX_SESSIONS; i++) {
            struct session *s = &sessions[i];
            if (s->kind == S_WATCH) {
                current = s->conn;
                if (watch_poll_fd(s, fds + n)) owner[n++] = s;
                continue;
            }
            if (s->kind != S_EXEC) continue;
            current = s->conn;
            int added = exec_poll_fds(s, fds + n, 3);
            for (int k = 0; k < added; k++) owner[n + k] = s;
            n += added;
            int64_t d = exec_next_deadline(s);
            if (d && (!deadline || d < deadline)) deadline = d;
        }
        int timeout = -1;
        if (deadline) timeout = deadline > now ? (int)(deadline - now) : 0;
        if (waiting_port) {
            int recheck = now - quiet_since < 2000 ? 5 : 50;
            if (timeout < 0 || timeout > recheck) timeout = recheck;
        }
        if (poll(fds, (nfds_t)n, timeout) < 0 && errno != EINTR) {
            agent_log("poll: %s", strerror(errno));
            continue;
        }
        if (fds[0].revents) reap_children(sigfd);
        for (int i = first_session_fd; i < n; i++)
            if (owner[i]->kind == S_EXEC) exec_poll_result(owner[i], &fds[i]);
        for (int i = 0; i < n_conns; i++) {
            if (conn_slot[i] >= 0 && !read_conn(&conns[i], fds[conn_slot[i]].revents)) disconnect(&conns[i]);
        }
        if (listen_slot >= 0 && (fds[listen_slot].revents & POLLIN)) accept_one();
        now = now_ms();
        for (int i = 0; i < MAX_SESSIONS; i++) {
            struct session *s = &sessions[i];
            current = s->conn;
            if (s->kind == S_EXEC) exec_pump(s, now);
            else if (s->kind == S_GET) get_pump(s);
            else if (s->kind == S_WATCH) watch_pump(s);
        }
        for (int i = 0; i < n_conns; i++) write_conn(&conns[i]);
    }
}

/* Socket slots for a listening socket: each accepted host is a connection of its own. */
static void use_listening_socket(int fd) {
    listen_fd = fd;
    n_conns = MAX_CONNS;
    for (int i = 0; i < n_conns; i++) conns[i].fd = -1;
}

static int listen_vsock(unsigned port) {
    int fd = socket(AF_VSOCK, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_vm a = {.svm_family = AF_VSOCK, .svm_port = port, .svm_cid = VMADDR_CID_ANY};
    if (fd < 0) return -1;
    if (bind(fd, (struct sockaddr *)&a, sizeof a) != 0 || listen(fd, MAX_CONNS) != 0) {
        int e = errno;
        close(fd);
        errno = e;
        return -1;
    }
    return fd;
}

static int listen_on(const char *path) {
    if (!strncmp(path, "vsock:", 6)) return listen_vsock((unsigned)strtoul(path + 6, NULL, 10));
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_un a = {.sun_family = AF_UNIX};
    if (fd < 0 || strlen(path) >= sizeof a.sun_path) return -1;
    strcpy(a.sun_path, path);
    unlink(path);
    if (bind(fd, (struct sockaddr *)&a, sizeof a) != 0 || listen(fd, MAX_CONNS) != 0) return -1;
    return fd;
}

#ifdef AGENT_FUZZING
/*
 * One fuzz input: the bytes a host sends on one connection. They are handled as the agent
 * handles them (handshake, frames, requests; a command is not run but has ended by the time
 * its EXEC is handled), each request is pumped once, and the connection is reset for the next
 * input.
 */
void fuzz_feed(const uint8_t *data, size_t size) {
    struct conn *c = &conns[0];
    n_conns = 1;
    c->fd = -1;
    c->is_port = 0;
    c->present = 1;
    buf_put(&c->inq, data, size);
    current = c;
    process_input();
    int64_t later = now_ms() + 3600 * 1000; /* as if the drain and timeout periods had passed */
    for (int i = 0; i < MAX_SESSIONS; i++) {
        struct session *s = &sessions[i];
        current = s->conn;
        if (s->kind == S_EXEC) exec_pump(s, later);
        else if (s->kind == S_GET) get_pump(s);
    }
    reset_session(c);
    c->inq.len = 0;
    current = NULL;
}

void fuzz_init(void) {
    signal(SIGPIPE, SIG_IGN); /* as main() does: a write to a pipe whose command ended is an error, not death */
    exec_init();
}
#else
int main(int argc, char **argv) {
    /* first: the VMM it starts must inherit no signal setting of the agent's */
    if (argc >= 2 && !strcmp(argv[1], "--console-log")) return console_log_main(argc, argv);
    signal(SIGPIPE, SIG_IGN);
    sigset_t mask;
    sigemptyset(&mask);
    sigaddset(&mask, SIGCHLD);
    if (getpid() == 1) sigaddset(&mask, SIGINT);
    sigprocmask(SIG_BLOCK, &mask, NULL);
    int sigfd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);

    if (argc == 3 && !strcmp(argv[1], "--listen")) {
        exec_init();
        int fd = listen_on(argv[2]);
        if (fd < 0) {
            agent_log("cannot listen on %s: %s", argv[2], strerror(errno));
            return 1;
        }
        use_listening_socket(fd);
        serve(sigfd);
    }
    if (argc == 2 && !strcmp(argv[1], "--version")) {
        printf("smartvm-agent %s protocol %u\n", AGENT_VERSION, PROTO_VERSION);
        return 0;
    }
    if (getpid() != 1) {
        fprintf(stderr, "usage: smartvm-agent --listen SOCKET|vsock:PORT | --version (as PID 1: no arguments)\n");
        return 2;
    }
    struct boot_config cfg;
    boot_mount_early();
    exec_init();
    boot_read_cmdline(&cfg);
    sethostname(cfg.hostname, strlen(cfg.hostname));
    boot_load_modules();
    net_configure(cfg.ip);
    if (cfg.vsock_port) {
        stop_by_reset = 1;
        /* The transport module probes asynchronously: wait for it, 10 s at most. */
        int fd;
        for (int64_t until = now_ms() + 10000; (fd = listen_vsock(cfg.vsock_port)) < 0 && now_ms() < until;)
            usleep(10000);
        if (fd < 0) {
            agent_log("cannot listen on vsock port %u: %s; powering off", cfg.vsock_port, strerror(errno));
            power_off();
        }
        use_listening_socket(fd);
    } else {
        int want = cfg.ports == 0 ? 1 : cfg.ports > MAX_CONNS ? MAX_CONNS : (int)cfg.ports;
        int fds[MAX_CONNS];
        if (boot_open_ports(fds, want) == 0) {
            agent_log("no virtio port named smartvm.agent appeared; powering off");
            power_off();
        }
        for (int k = 0; k < want; k++) {
            if (fds[k] < 0) {
                agent_log("virtio port %d of %d did not appear; serving without it", k, want);
                continue;
            }
            conns[n_conns++] = (struct conn){.fd = fds[k], .is_port = 1};
        }
    }
    boot_switch_root(&cfg);
    agent_log("ready (protocol %u)", PROTO_VERSION);
    serve(sigfd);
    return 0;
}
#endif

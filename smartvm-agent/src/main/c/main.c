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

static int conn = -1;       /* the byte stream to the host, -1 while none */
static int listen_fd = -1;  /* --listen mode only */
static int vport = -1;      /* PID 1 mode: the virtio port, reopened state is host_connected */
static int synced;          /* the host's preamble was seen on this connection */
static int64_t disconnected_since;
static struct buf inq;

struct session *session_find(uint32_t id) {
    for (int i = 0; i < MAX_SESSIONS; i++)
        if (sessions[i].kind != S_FREE && sessions[i].id == id) return &sessions[i];
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
        s->id = id;
        s->send_window = INITIAL_WINDOW;
        s->in_fd = s->out_fd = s->err_fd = s->fd = s->get_fd = -1;
        return s;
    }
    send_error(id, EAGAIN, "too many concurrent requests (at most %d)", MAX_SESSIONS);
    return NULL;
}

void session_free(struct session *s) {
    if (s->kind == S_EXEC) {
        exec_kill(s);
        if (s->in_fd >= 0) close(s->in_fd);
        if (s->out_fd >= 0) close(s->out_fd);
        if (s->err_fd >= 0) close(s->err_fd);
        buf_free(&s->stdin_pending);
    }
    files_release(s);
    memset(s, 0, sizeof *s);
    s->kind = S_FREE;
}

void session_ack(struct session *s, uint32_t n) {
    s->unacked += n;
    if (s->unacked >= INITIAL_WINDOW / 4) {
        send_window(s->id, s->unacked);
        s->unacked = 0;
    }
}

/* Forget the current session: its requests die with it; unread input stays (it may hold the
 * next host's preamble). */
static void reset_session(void) {
    for (int i = 0; i < MAX_SESSIONS; i++)
        if (sessions[i].kind != S_FREE) session_free(&sessions[i]);
    outq.len = 0;
    synced = 0;
}

/* Forget everything of the current connection, its unread input too. */
static void reset_connection(void) {
    reset_session();
    inq.len = 0;
}

static void disconnect(void) {
    reset_connection();
    if (listen_fd >= 0 && conn >= 0) close(conn);
    conn = -1;
    disconnected_since = now_ms();
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

static void flush_outq_blocking(int ms) {
    int64_t deadline = now_ms() + ms;
    while (conn >= 0 && outq.len > 0 && now_ms() < deadline) {
        struct pollfd p = {conn, POLLOUT, 0};
        poll(&p, 1, 50);
        ssize_t n = write(conn, outq.p, outq.len);
        if (n > 0) buf_consume(&outq, (size_t)n);
        else if (n < 0 && errno != EAGAIN && errno != EINTR) return;
    }
}

static void shutdown_guest(void) {
    reset_connection();
    send_frame(0, T_OK, NULL, 0);
    flush_outq_blocking(500);
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
    switch (type) {
    case T_EXEC: exec_start(id, &r); break;
    case T_PUT: put_start(id, &r); break;
    case T_GET: get_start(id, &r); break;
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
    case T_SHUTDOWN: shutdown_guest(); break;
    default: send_error(id, ENOSYS, "unknown frame type 0x%02x", type); break;
    }
}

static void process_input(void) {
    for (;;) {
        if (!synced) {
            uint8_t *m = memmem(inq.p, inq.len, PROTO_MAGIC, PROTO_MAGIC_LEN);
            if (!m) {
                if (inq.len > PROTO_MAGIC_LEN) buf_consume(&inq, inq.len - PROTO_MAGIC_LEN);
                return;
            }
            buf_consume(&inq, (size_t)(m - inq.p));
            if (inq.len < PROTO_MAGIC_LEN + PROTO_NONCE_LEN + 4) return;
            send_hello(inq.p + PROTO_MAGIC_LEN);
            buf_consume(&inq, PROTO_MAGIC_LEN + PROTO_NONCE_LEN + 4);
            synced = 1;
            continue;
        }
        if (inq.len < FRAME_HEADER_LEN) return;
        struct reader h = {inq.p, inq.len, 0, 0};
        uint32_t len = rd_u32(&h), id = rd_u32(&h);
        uint8_t type = rd_u8(&h);
        if (len > MAX_PAYLOAD) {
            /* Not a frame: a new host's preamble (its hang-up and arrival came between two polls of
             * the virtio port, so no hang-up was seen), or garbage. Start over, keeping the input:
             * the preamble is found in it. */
            reset_session();
            continue;
        }
        if (inq.len < FRAME_HEADER_LEN + len) return;
        dispatch(id, type, inq.p + FRAME_HEADER_LEN, len);
        if (!synced) return; /* the frame reset the connection */
        buf_consume(&inq, FRAME_HEADER_LEN + len);
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
        shutdown_guest();
    }
    int status;
    pid_t pid;
    while ((pid = waitpid(-1, &status, WNOHANG)) > 0) exec_on_child(pid, status);
}

/* Returns 1 when the host side of the stream is present. */
static int host_present(void) {
    if (vport >= 0) {
        struct pollfd p = {vport, POLLIN, 0};
        if (poll(&p, 1, 0) < 0) return 0;
        if (!(p.revents & POLLHUP)) return 1;
        /* Stale bytes of a host that left must not reach the next one. */
        uint8_t junk[4096];
        while (read(vport, junk, sizeof junk) > 0) {
        }
        return 0;
    }
    struct pollfd p = {listen_fd, POLLIN, 0};
    if (poll(&p, 1, 0) == 1) {
        conn = accept4(listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        return conn >= 0;
    }
    return 0;
}

static void serve(int sigfd) {
    static struct pollfd fds[2 + 3 * MAX_SESSIONS];
    static struct session *owner[2 + 3 * MAX_SESSIONS];
    static uint8_t rbuf[256 * 1024];
    disconnected_since = now_ms();
    for (;;) {
        int64_t now = now_ms();
        if (conn < 0 && host_present()) {
            if (vport >= 0) conn = vport;
            synced = 0;
        }
        int n = 0;
        fds[n++] = (struct pollfd){sigfd, POLLIN, 0};
        int conn_slot = -1;
        if (conn >= 0) {
            conn_slot = n;
            fds[n++] = (struct pollfd){conn, (short)(POLLIN | (outq.len ? POLLOUT : 0)), 0};
        } else if (listen_fd >= 0) {
            fds[n++] = (struct pollfd){listen_fd, POLLIN, 0};
        }
        int64_t deadline = 0;
        int first_session_fd = n;
        for (int i = 0; i < MAX_SESSIONS; i++) {
            struct session *s = &sessions[i];
            if (s->kind != S_EXEC) continue;
            int added = exec_poll_fds(s, fds + n, 3);
            for (int k = 0; k < added; k++) owner[n + k] = s;
            n += added;
            int64_t d = exec_next_deadline(s);
            if (d && (!deadline || d < deadline)) deadline = d;
        }
        int timeout = -1;
        if (deadline) timeout = deadline > now ? (int)(deadline - now) : 0;
        if (conn < 0 && vport >= 0) {
            /* A virtio port has no "host arrived" event to wait on: look again soon. */
            int recheck = now - disconnected_since < 2000 ? 5 : 50;
            if (timeout < 0 || timeout > recheck) timeout = recheck;
        }
        if (poll(fds, (nfds_t)n, timeout) < 0 && errno != EINTR) {
            agent_log("poll: %s", strerror(errno));
            continue;
        }
        if (fds[0].revents) reap_children(sigfd);
        for (int i = first_session_fd; i < n; i++) exec_poll_result(owner[i], &fds[i]);
        if (conn_slot >= 0) {
            short re = fds[conn_slot].revents;
            if (re & POLLIN) {
                ssize_t got = read(conn, rbuf, sizeof rbuf);
                if (got > 0) {
                    buf_put(&inq, rbuf, (size_t)got);
                    process_input();
                } else if (got == 0 || (errno != EAGAIN && errno != EINTR)) {
                    disconnect();
                    continue;
                }
            } else if (re & (POLLHUP | POLLERR)) {
                disconnect();
                continue;
            }
        }
        now = now_ms();
        for (int i = 0; i < MAX_SESSIONS; i++) {
            struct session *s = &sessions[i];
            if (s->kind == S_EXEC) exec_pump(s, now);
            else if (s->kind == S_GET) get_pump(s);
        }
        while (conn >= 0 && outq.len > 0) {
            ssize_t w = write(conn, outq.p, outq.len);
            if (w > 0) {
                buf_consume(&outq, (size_t)w);
            } else {
                if (w < 0 && errno != EAGAIN && errno != EINTR) disconnect();
                break;
            }
        }
    }
}

static int listen_vsock(unsigned port) {
    int fd = socket(AF_VSOCK, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_vm a = {.svm_family = AF_VSOCK, .svm_port = port, .svm_cid = VMADDR_CID_ANY};
    if (fd < 0) return -1;
    if (bind(fd, (struct sockaddr *)&a, sizeof a) != 0 || listen(fd, 4) != 0) {
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
    if (bind(fd, (struct sockaddr *)&a, sizeof a) != 0 || listen(fd, 4) != 0) return -1;
    return fd;
}

int main(int argc, char **argv) {
    signal(SIGPIPE, SIG_IGN);
    sigset_t mask;
    sigemptyset(&mask);
    sigaddset(&mask, SIGCHLD);
    if (getpid() == 1) sigaddset(&mask, SIGINT);
    sigprocmask(SIG_BLOCK, &mask, NULL);
    int sigfd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);

    if (argc == 3 && !strcmp(argv[1], "--listen")) {
        exec_init();
        listen_fd = listen_on(argv[2]);
        if (listen_fd < 0) {
            agent_log("cannot listen on %s: %s", argv[2], strerror(errno));
            return 1;
        }
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
        for (int64_t until = now_ms() + 10000; (listen_fd = listen_vsock(cfg.vsock_port)) < 0 && now_ms() < until;)
            usleep(10000);
        if (listen_fd < 0) {
            agent_log("cannot listen on vsock port %u: %s; powering off", cfg.vsock_port, strerror(errno));
            power_off();
        }
    } else {
        vport = boot_open_port();
        if (vport < 0) {
            agent_log("no virtio port named smartvm.agent appeared; powering off");
            power_off();
        }
    }
    boot_switch_root(&cfg);
    agent_log("ready (protocol %u)", PROTO_VERSION);
    serve(sigfd);
    return 0;
}

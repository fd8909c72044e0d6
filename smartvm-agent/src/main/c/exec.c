/* Exec sessions: fork/exec with argv, env, cwd, uid/gid, piped stdio, timeout and signals. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/resource.h>
#include <termios.h>
#include <sys/wait.h>
#include <unistd.h>

#include "agent.h"

#define DEFAULT_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
#define EXIT_TIMEOUT 124
#define EXIT_CANNOT_EXECUTE 126
#define EXIT_NOT_FOUND 127
#define DRAIN_AFTER_EXIT_MS 200

static const char *env_lookup(char **env, const char *key) {
    size_t n = strlen(key);
    for (char **e = env; *e; e++)
        if (!strncmp(*e, key, n) && (*e)[n] == '=') return *e + n + 1;
    return NULL;
}

/*
 * execvpe() searches the agent's PATH; a sandbox user expects the command's own PATH. Each
 * candidate is checked with access() first: a failed execve() builds a whole new mm before it
 * looks the path up, which under TCG costs about 0.4 ms a miss.
 */
static void exec_search(char **argv, char **env) {
    if (strchr(argv[0], '/')) {
        execve(argv[0], argv, env);
        return;
    }
    const char *path = env_lookup(env, "PATH");
    if (!path) path = DEFAULT_PATH;
    int saw_eacces = 0;
    char full[4096];
    struct stat st;
    for (const char *p = path;; p++) {
        const char *end = strchrnul(p, ':');
        size_t dlen = (size_t)(end - p);
        if (dlen == 0) dlen = 1, p = ".";
        if (dlen + strlen(argv[0]) + 2 <= sizeof full) {
            memcpy(full, p, dlen);
            full[dlen] = '/';
            strcpy(full + dlen + 1, argv[0]);
            if (access(full, X_OK) == 0) {
                if (stat(full, &st) == 0 && S_ISREG(st.st_mode)) {
                    execve(full, argv, env);
                    return; /* it exists and is executable, yet exec failed: report that */
                }
            } else if (errno == EACCES) {
                saw_eacces = 1;
            }
        }
        if (*end == 0) break;
        p = end;
    }
    errno = saw_eacces ? EACCES : ENOENT;
}

/*
 * Why a vfork()ed child could not exec, written by the child into memory it shares with us.
 * Static, not a local: the compiler may keep a local of the parent in registers across vfork.
 */
struct spawn_report {
    int stage; /* 0 = exec'd, 1 = chdir, 2 = uid/gid, 3 = exec */
    int err;
};
static volatile struct spawn_report spawn_failure;

/* Runs in the vfork() child, on the parent's stack: only syscalls, then exec or _exit. With `tty`,
 * in/out/err are a pseudo-terminal's slave, which becomes the new session's controlling terminal. */
static void child(char **argv, char **env, const char *cwd, int uid, int gid, int in, int out, int err, int tty,
                  volatile struct spawn_report *report) {
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    signal(SIGPIPE, SIG_DFL); /* ignored by the agent; exec keeps ignored signals ignored */
    setsid();
    if (agent_protected) { /* a command is an ordinary process: OOM-killable, default priority */
        int fd = open("/proc/self/oom_score_adj", O_WRONLY | O_CLOEXEC);
        if (fd >= 0) {
            if (write(fd, "0", 1) != 1) { /* nothing to do about it in a vfork child */
            }
            close(fd);
        }
        setpriority(PRIO_PROCESS, 0, 0);
    }
    dup2(in, 0);
    dup2(out, 1);
    dup2(err, 2);
    if (tty) ioctl(0, TIOCSCTTY, 0);
    if (cwd[0] && chdir(cwd) != 0) {
        report->stage = 1;
    } else if ((uid >= 0 && setgroups(0, NULL) != 0) || (gid >= 0 && setgid((gid_t)gid) != 0)
               || (uid >= 0 && setuid((uid_t)uid) != 0)) {
        /* a command run as another user keeps none of root's supplementary groups */
        report->stage = 2;
    } else {
        exec_search(argv, env);
        report->stage = 3;
    }
    report->err = errno;
    _exit(report->stage == 3 && (errno == ENOENT || errno == ENOTDIR) ? EXIT_NOT_FOUND : EXIT_CANNOT_EXECUTE);
}

static void free_strv(char **v, uint32_t n) {
    if (!v) return;
    for (uint32_t i = 0; i < n; i++) free(v[i]);
    free(v);
}

static char **read_strv(struct reader *r, uint32_t *count, uint32_t limit) {
    uint32_t n = rd_u32(r);
    if (r->bad || n > limit) {
        r->bad = 1;
        *count = 0;
        return NULL;
    }
    char **v = calloc((size_t)n + 1, sizeof *v);
    if (!v) power_off();
    for (uint32_t i = 0; i < n; i++) v[i] = rd_str(r);
    *count = n;
    return v;
}

/* Our ends of the pipes only: F_SETFL keeps the access mode, and nothing else is set on them. */
static int set_nonblock(int fd) { return fcntl(fd, F_SETFL, O_NONBLOCK); }

static int devnull = -1;

void exec_init(void) { devnull = open("/dev/null", O_RDONLY | O_CLOEXEC); }

/*
 * A pseudo-terminal pair of the given size, both ends close-on-exec and not yet anyone's
 * controlling terminal; the slave belongs to the command's user. The peer is opened through the
 * master (TIOCGPTPEER), not by its /dev/pts name, so it is the right one in any mount namespace.
 */
static int open_pty(int *master, int *slave, uint32_t cols, uint32_t rows, int uid) {
    *master = open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (*master < 0) return -1;
    int unlock = 0;
    struct winsize ws = {.ws_row = (unsigned short)rows, .ws_col = (unsigned short)cols};
    if (ioctl(*master, TIOCSPTLCK, &unlock) != 0 || ioctl(*master, TIOCSWINSZ, &ws) != 0) goto fail;
    *slave = ioctl(*master, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (*slave < 0) {
        unsigned n;
        char name[32];
        if (ioctl(*master, TIOCGPTN, &n) != 0) goto fail;
        snprintf(name, sizeof name, "/dev/pts/%u", n);
        *slave = open(name, O_RDWR | O_NOCTTY | O_CLOEXEC);
        if (*slave < 0) goto fail;
    }
    if (uid >= 0 && fchown(*slave, (uid_t)uid, (gid_t)-1) != 0) { /* the command still runs; tty(1) may complain */
    }
    return 0;
fail:;
    int e = errno;
    close(*master);
    *master = -1;
    errno = e;
    return -1;
}

void exec_start(uint32_t id, struct reader *r) {
    uint32_t flags = rd_u32(r);
    int uid = (int)rd_u32(r), gid = (int)rd_u32(r);
    uint32_t timeout = rd_u32(r);
    char *cwd = rd_str(r);
    uint32_t argc = 0, envc = 0;
    char **argv = read_strv(r, &argc, 4096);
    char **env = read_strv(r, &envc, 4096);
    uint32_t cols = 0, rows = 0;
    if (flags & EXEC_FLAG_PTY) {
        cols = rd_u32(r);
        rows = rd_u32(r);
        if (cols == 0 || rows == 0 || cols > MAX_TERMINAL_SIZE || rows > MAX_TERMINAL_SIZE) r->bad = 1;
    }
    int inp[2] = {-1, -1}, outp[2] = {-1, -1}, errp[2] = {-1, -1};
    int tty = -1; /* the slave of a terminal exec; its master is outp[0] (and inp[1] dups it) */
    if (r->bad || argc == 0) {
        send_error(id, EINVAL, "malformed exec request");
        goto done;
    }
    struct session *s = session_new(id, S_EXEC);
    if (!s) goto done;
    if (flags & EXEC_FLAG_PTY) {
        if (open_pty(&outp[0], &tty, cols, rows, uid) != 0) goto fail;
        outp[1] = tty;
        if ((flags & EXEC_FLAG_STDIN) && (inp[1] = fcntl(outp[0], F_DUPFD_CLOEXEC, 0)) < 0) goto fail;
        s->pty = 1;
    } else {
        if ((flags & EXEC_FLAG_STDIN) && pipe2(inp, O_CLOEXEC) != 0) goto fail;
        if (pipe2(outp, O_CLOEXEC) != 0 || pipe2(errp, O_CLOEXEC) != 0) goto fail;
    }
    /* vfork: no page tables to copy, and we resume only once the child exec'd or gave up. */
    spawn_failure.stage = 0;
    spawn_failure.err = 0;
#ifdef AGENT_FUZZING
    pid_t pid = 0; /* the fuzzer runs no command: it "exits" at once (below), its pipes closed */
#else
    pid_t pid = vfork();
    if (pid < 0) goto fail;
    if (pid == 0) {
        if (tty >= 0) child(argv, env, cwd, uid, gid, tty, tty, tty, 1, &spawn_failure);
        else child(argv, env, cwd, uid, gid, inp[0] >= 0 ? inp[0] : devnull, outp[1], errp[1], 0, &spawn_failure);
    }
#endif
    struct spawn_report report = {spawn_failure.stage, spawn_failure.err};
    if (inp[0] >= 0) close(inp[0]);
    close(outp[1]);
    if (errp[1] >= 0) close(errp[1]);
    s->pid = pid;
    s->in_fd = inp[1];
    s->out_fd = outp[0];
    s->err_fd = errp[0];
    if (s->in_fd >= 0) set_nonblock(s->in_fd);
    set_nonblock(s->out_fd);
    if (s->err_fd >= 0) set_nonblock(s->err_fd);
    if (report.stage != 0) {
        char msg[512];
        if (report.stage == 1)
            snprintf(msg, sizeof msg, "smartvm-agent: cannot change directory to %s: %s\n", cwd, strerror(report.err));
        else if (report.stage == 2)
            snprintf(msg, sizeof msg, "smartvm-agent: cannot switch to uid %d gid %d: %s\n", uid, gid,
                     strerror(report.err));
        else
            snprintf(msg, sizeof msg, "smartvm-agent: %s: %s\n", argv[0], strerror(report.err));
        /* The child already exits with 126/127: the message is its stderr (a terminal's output). */
        send_frame(id, s->pty ? T_STDOUT : T_STDERR, msg, strlen(msg));
        s->send_window = s->send_window > strlen(msg) ? s->send_window - (uint32_t)strlen(msg) : 0;
    } else {
        uint8_t p[4] = {(uint8_t)(pid >> 24), (uint8_t)(pid >> 16), (uint8_t)(pid >> 8), (uint8_t)pid};
        send_frame(id, T_STARTED, p, 4);
    }
    s->deadline_ms = timeout ? now_ms() + timeout : 0;
#ifdef AGENT_FUZZING
    s->reaped = 1; /* as if it exited at once, with a code drawn from the request */
    s->status = (int)(argc & 0x7f) << 8;
    s->reaped_ms = now_ms();
#endif
    goto done;
fail:
    send_error(id, errno, "cannot start %s: %s", argv[0], strerror(errno));
    for (int i = 0; i < 2; i++) {
        if (inp[i] >= 0) close(inp[i]);
        if (outp[i] >= 0) close(outp[i]);
        if (errp[i] >= 0) close(errp[i]);
    }
    if (tty >= 0 && tty != outp[1]) close(tty);
    session_free(s);
done:
    free(cwd);
    free_strv(argv, argc);
    free_strv(env, envc);
}

static void flush_stdin(struct session *s) {
    while (s->in_fd >= 0 && s->stdin_pending.len > 0) {
        ssize_t n = write(s->in_fd, s->stdin_pending.p, s->stdin_pending.len);
        if (n < 0) {
            if (errno == EAGAIN || errno == EINTR) return;
            /* EPIPE: the command stopped reading; drop what it will never read. */
            session_ack(s, (uint32_t)s->stdin_pending.len);
            s->stdin_pending.len = 0;
            close(s->in_fd);
            s->in_fd = -1;
            return;
        }
        buf_consume(&s->stdin_pending, (size_t)n);
        session_ack(s, (uint32_t)n);
    }
    if (s->in_fd >= 0 && s->stdin_eof && s->stdin_pending.len == 0) {
        /* A terminal has no end of input but the one its line discipline reads: the EOF character
         * (Ctrl-D), which ends a read() at the start of a line, as typing it would. */
        if (s->pty) {
            struct termios t;
            char eof = tcgetattr(s->in_fd, &t) == 0 && t.c_cc[VEOF] ? (char)t.c_cc[VEOF] : 4;
            if (write(s->in_fd, &eof, 1) < 0 && errno == EAGAIN) return;
        }
        close(s->in_fd);
        s->in_fd = -1;
    }
}

void exec_stdin(struct session *s, const uint8_t *data, size_t n) {
    if (n == 0) {
        s->stdin_eof = 1;
    } else if (s->in_fd < 0) {
        session_ack(s, (uint32_t)n);
    } else {
        buf_put(&s->stdin_pending, data, n);
    }
    flush_stdin(s);
}

void exec_signal(struct session *s, int sig) {
    if (!s->reaped && s->pid > 0) kill(-s->pid, sig);
}

void exec_resize(struct session *s, struct reader *r) {
    uint32_t cols = rd_u32(r), rows = rd_u32(r);
    if (r->bad || !s->pty || s->out_fd < 0 || cols == 0 || rows == 0 || cols > MAX_TERMINAL_SIZE
        || rows > MAX_TERMINAL_SIZE)
        return; /* a command without a terminal, or one whose terminal closed: nothing to resize */
    struct winsize ws = {.ws_row = (unsigned short)rows, .ws_col = (unsigned short)cols};
    ioctl(s->out_fd, TIOCSWINSZ, &ws); /* the kernel sends the foreground process group SIGWINCH */
}

void exec_kill(struct session *s) {
    if (s->pid > 0 && !s->reaped) {
        kill(-s->pid, SIGKILL);
        kill(s->pid, SIGKILL);
    }
}

void exec_on_child(pid_t pid, int status) {
    for (int i = 0; i < MAX_SESSIONS; i++) {
        struct session *s = &sessions[i];
        if (s->kind == S_EXEC && s->pid == pid && !s->reaped) {
            s->reaped = 1;
            s->status = status;
            s->reaped_ms = now_ms();
            return;
        }
    }
}

void exec_poll_result(struct session *s, const struct pollfd *p) {
    if (!p->revents) return;
    if (p->fd == s->out_fd) s->out_ready = 1;
    else if (p->fd == s->err_fd) s->err_ready = 1;
    else if (p->fd == s->in_fd) s->in_ready = 1;
}

int exec_poll_fds(struct session *s, struct pollfd *fds, int max) {
    int n = 0;
    int can_send = s->send_window > 0 && outq_has_room();
    if (s->out_fd >= 0 && can_send && n < max) fds[n++] = (struct pollfd){s->out_fd, POLLIN, 0};
    if (s->err_fd >= 0 && can_send && n < max) fds[n++] = (struct pollfd){s->err_fd, POLLIN, 0};
    if (s->in_fd >= 0 && s->stdin_pending.len > 0 && n < max)
        fds[n++] = (struct pollfd){s->in_fd, POLLOUT, 0};
    return n;
}

int64_t exec_next_deadline(struct session *s) {
    int64_t d = 0;
    if (s->deadline_ms && !s->reaped) d = s->deadline_ms;
    if (s->reaped && (s->out_fd >= 0 || s->err_fd >= 0)) {
        int64_t drain = s->reaped_ms + DRAIN_AFTER_EXIT_MS;
        if (!d || drain < d) d = drain;
    }
    return d;
}

/*
 * Reads what a pipe poll() reported, as far as the window and the queue allow; closes it at
 * EOF (a terminal's master is only set aside). A short read means the pipe is drained for now: poll() says when there is more (every
 * syscall costs tens of microseconds under TCG, so no read is made just to see EAGAIN).
 */
static void pump_pipe(struct session *s, int *fd, uint8_t *ready, uint8_t type) {
    static uint8_t chunk[CHUNK];
    while (*ready && *fd >= 0 && s->send_window > 0 && outq_has_room()) {
        size_t want = s->send_window < CHUNK ? s->send_window : CHUNK;
        ssize_t n = read(*fd, chunk, want);
        if (n > 0) {
            send_frame(s->id, type, chunk, (size_t)n);
            s->send_window -= (uint32_t)n;
            if ((size_t)n < want) *ready = 0;
            continue;
        }
        if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
            *ready = 0;
            return;
        }
        if (s->pty && fd == &s->out_fd) s->pty_master = *fd; /* closed with the session, see pty_master */
        else close(*fd);
        *fd = -1;
    }
}

void exec_pump(struct session *s, int64_t now) {
    if (s->in_ready) {
        s->in_ready = 0;
        flush_stdin(s);
    }
    pump_pipe(s, &s->out_fd, &s->out_ready, T_STDOUT);
    pump_pipe(s, &s->err_fd, &s->err_ready, T_STDERR);
    if (!s->reaped && s->deadline_ms && now >= s->deadline_ms) {
        s->timed_out = 1;
        exec_kill(s);
    }
    if (!s->reaped) return;
    /* A background grandchild may hold the pipes open: stop waiting for it after a grace period. */
    if ((s->out_fd >= 0 || s->err_fd >= 0) && now < s->reaped_ms + DRAIN_AFTER_EXIT_MS) return;
    if ((s->out_fd >= 0 || s->err_fd >= 0) && (s->send_window == 0 || !outq_has_room())) return;
    struct buf b = {0};
    int code, sig = 0;
    if (WIFEXITED(s->status)) {
        code = WEXITSTATUS(s->status);
    } else {
        sig = WTERMSIG(s->status);
        code = 128 + sig;
    }
    if (s->timed_out) code = EXIT_TIMEOUT;
    buf_u32(&b, (uint32_t)code);
    buf_u32(&b, (uint32_t)sig);
    buf_u8(&b, (uint8_t)s->timed_out);
    send_frame(s->id, T_EXIT, b.p, b.len);
    buf_free(&b);
    session_free(s);
}

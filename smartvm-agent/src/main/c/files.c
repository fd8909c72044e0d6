/* File transfer sessions: PUT writes a host-sent tree, GET streams a guest tree to the host. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent.h"

#define MAX_GET_ENTRIES 1000000

int relpath_ok(const char *rel) {
    if (rel[0] == '/') return 0;
    const char *p = rel;
    while (*p) {
        const char *end = strchrnul(p, '/');
        size_t n = (size_t)(end - p);
        if (n == 0 || (n == 1 && p[0] == '.') || (n == 2 && p[0] == '.' && p[1] == '.')) return 0;
        p = *end ? end + 1 : end;
        if (*end && !*p) return 0; /* trailing slash */
    }
    return 1;
}

#ifdef AGENT_FUZZING
/*
 * The fuzzer's paths are relative to its scratch directory (its working directory): "/x" is "x",
 * and a path with ".." is "." (a GET of "../.." would walk the host's whole tree, slowly). Paths
 * under /proc/self/ and /dev/ stay as they are, so that GET meets files without a size and
 * devices: the fuzzer runs as nobody, which can create nothing there (but in /dev/shm and
 * /dev/mqueue, which are therefore not among them).
 */
static int host_path(const char *p) {
    if (strstr(p, "..") || strstr(p, "//") || strstr(p, "/.")) return 0; /* "/dev//shm" is /dev/shm */
    if (strncmp(p, "/proc/self/", 11) == 0) return 1;
    return strncmp(p, "/dev/", 5) == 0 && strncmp(p, "/dev/shm", 8) != 0 && strncmp(p, "/dev/mqueue", 11) != 0;
}

char *guest_path(char *path) {
    if (!path) return NULL;
    if (host_path(path)) return path;
    char *p = path;
    while (*p == '/') p++;
    char *out = strdup(*p && !strstr(p, "..") ? p : ".");
    free(path);
    if (!out) power_off();
    return out;
}
#else
char *guest_path(char *path) { return path; }
#endif

static char *join(const char *base, const char *rel) {
    char *out;
    if (!rel[0]) out = strdup(base);
    else if (asprintf(&out, "%s/%s", strcmp(base, "/") ? base : "", rel) < 0) out = NULL;
    if (!out) power_off();
    return out;
}

/* Directory modes are applied at the end, so a read-only directory can still be filled. */
struct dir_mode {
    char *path;
    uint32_t mode;
};
static struct dir_mode *pending_dirs[MAX_SESSIONS];
static size_t pending_counts[MAX_SESSIONS];

static size_t slot(struct session *s) { return (size_t)(s - sessions); }

/* A file arrives under a temporary name beside its own and is renamed once complete: a copy
 * cut short never leaves a truncated file under the real name, nor replaces a good one. */
static char *part_name(const char *path) {
    static unsigned counter;
    const char *slash = strrchr(path, '/');
    size_t dir = slash ? (size_t)(slash - path) + 1 : 0;
    char *out;
    if (asprintf(&out, "%.*s.%s.smartvm-part-%d-%u", (int)dir, path, path + dir, (int)getpid(), ++counter) < 0)
        power_off();
    return out;
}

/* Closes the file in progress: renamed to its real name when complete, else removed. */
static int put_close_file(struct session *s, int complete) {
    int err = 0;
    if (s->fd >= 0 && close(s->fd) != 0 && complete) err = errno;
    s->fd = -1;
    if (s->part) {
        if (complete && !err && rename(s->part, s->final) != 0) err = errno;
        if (!complete || err) unlink(s->part);
    }
    free(s->part);
    free(s->final);
    s->part = s->final = NULL;
    return err;
}

static void put_fail(struct session *s, int err, const char *what, const char *path) {
    if (!s->failed) send_error(s->id, err, "%s %s: %s", what, path, strerror(err));
    s->failed = 1;
    put_close_file(s, 0);
}

void put_start(uint32_t id, struct reader *r) {
    char *dest = guest_path(rd_str(r)), *base = rd_str(r);
    if (r->bad || !dest || !base || !dest[0] || strchr(base, '/') || !strcmp(base, "..")) {
        send_error(id, EINVAL, "malformed put request");
        free(dest);
        free(base);
        return;
    }
    struct session *s = session_new(id, S_PUT);
    if (!s) {
        free(dest);
        free(base);
        return;
    }
    struct stat st;
    if (base[0] && stat(dest, &st) == 0 && S_ISDIR(st.st_mode)) {
        s->dest = join(dest, base);
        free(dest);
    } else {
        s->dest = dest;
    }
    free(base);
}

void put_entry(struct session *s, struct reader *r) {
    uint8_t kind = rd_u8(r);
    uint32_t mode = rd_u32(r) & 07777;
    uint64_t size = rd_u64(r);
    char *rel = rd_str(r), *link = rd_str(r);
    if (r->bad || !rel || !link || (rel[0] && !relpath_ok(rel)) || (!rel[0] && s->have_root) ||
        (rel[0] && !s->have_root) || s->fd >= 0) {
        if (!s->failed) send_error(s->id, EINVAL, "malformed or out-of-order entry");
        s->failed = 1;
        goto out;
    }
    s->have_root = 1;
    if (s->failed) goto out;
    char *path = join(s->dest, rel);
    if (kind == ENTRY_DIR) {
        if (mkdir(path, 0700) != 0 && errno != EEXIST) {
            put_fail(s, errno, "cannot create directory", path);
        } else {
            size_t i = slot(s);
            struct dir_mode *d = realloc(pending_dirs[i], (pending_counts[i] + 1) * sizeof *d);
            if (!d) power_off();
            pending_dirs[i] = d;
            d[pending_counts[i]++] = (struct dir_mode){strdup(path), mode};
            free(path);
            path = NULL;
        }
    } else if (kind == ENTRY_FILE) {
        struct stat existing;
        char *part = part_name(path);
        int fd = -1;
        if (lstat(path, &existing) == 0 && S_ISDIR(existing.st_mode)) errno = EISDIR;
        else fd = open(part, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
        s->fd = fd;
        s->part = fd >= 0 ? part : NULL;
        s->final = fd >= 0 ? strdup(path) : NULL;
        if (fd < 0) free(part);
        if (fd < 0 || fchmod(fd, mode) != 0) {
            put_fail(s, errno, "cannot write", path);
        } else if (size == 0) {
            int err = put_close_file(s, 1);
            if (err) put_fail(s, err, "cannot write", path);
        } else {
            s->remaining = size;
        }
    } else if (kind == ENTRY_SYMLINK) {
        unlink(path);
#ifdef AGENT_FUZZING
        /* a link out of the scratch directory would let a GET walk the whole host */
        if (link[0] == '/' || strstr(link, "..")) strcpy(link, "."); /* fits: such a link has 1 byte or more */
#endif
        if (symlink(link, path) != 0) put_fail(s, errno, "cannot create symlink", path);
    } else {
        put_fail(s, EINVAL, "unknown entry kind for", path);
    }
    free(path);
out:
    free(rel);
    free(link);
}

void put_data(struct session *s, const uint8_t *data, size_t n) {
    session_ack(s, (uint32_t)n);
    if (s->failed) return;
    if (s->fd < 0 || n > s->remaining) {
        send_error(s->id, EINVAL, "file data beyond the announced size");
        s->failed = 1;
        return;
    }
    while (n > 0) {
        ssize_t w = write(s->fd, data, n);
        if (w < 0) {
            if (errno == EINTR) continue;
            put_fail(s, errno, "cannot write into", s->dest);
            return;
        }
        data += w;
        n -= (size_t)w;
        s->remaining -= (uint64_t)w;
    }
    if (s->remaining == 0) {
        char *path = strdup(s->final);
        int err = put_close_file(s, 1);
        if (err) put_fail(s, err, "cannot write", path);
        free(path);
    }
}

void put_end(struct session *s) {
    if (!s->failed && s->fd >= 0) {
        send_error(s->id, EINVAL, "transfer ended inside a file");
        s->failed = 1;
    }
    size_t i = slot(s);
    for (size_t k = pending_counts[i]; k-- > 0;) {
        struct dir_mode *d = &pending_dirs[i][k];
        if (!s->failed && chmod(d->path, d->mode) != 0) put_fail(s, errno, "cannot chmod", d->path);
    }
    if (!s->failed) {
        if (!s->have_root) send_error(s->id, EINVAL, "transfer without entries");
        else send_frame(s->id, T_OK, NULL, 0);
    }
    session_free(s);
}

/* ---- GET ---- */
static struct session *walking;
static size_t walk_cap;
static size_t walk_root_len;

static int walk_one(const char *fpath, const struct stat *st, int type, struct FTW *ftw) {
    (void)ftw;
    struct session *s = walking;
    if (s->n_entries >= MAX_GET_ENTRIES) return 1;
    struct get_entry e = {0};
    if (type == FTW_D || type == FTW_DNR) e.kind = ENTRY_DIR;
    else if (type == FTW_SL || type == FTW_SLN) e.kind = ENTRY_SYMLINK;
    else if (type == FTW_F && S_ISREG(st->st_mode)) e.kind = ENTRY_FILE;
    else return 0; /* devices, fifos and sockets are not copied */
    const char *rel = fpath + walk_root_len;
    while (*rel == '/') rel++;
    e.rel = strdup(rel);
    e.mode = st->st_mode & 07777;
    e.size = e.kind == ENTRY_FILE ? (uint64_t)st->st_size : 0;
    if (e.kind == ENTRY_SYMLINK) {
        char target[PATH_MAX];
        ssize_t n = readlink(fpath, target, sizeof target - 1);
        target[n > 0 ? n : 0] = 0;
        e.link = strdup(target);
    } else {
        e.link = strdup("");
    }
    if (s->n_entries == walk_cap) {
        walk_cap = walk_cap ? walk_cap * 2 : 64;
        struct get_entry *grown = realloc(s->entries, walk_cap * sizeof *grown);
        if (!grown) power_off();
        s->entries = grown;
    }
    s->entries[s->n_entries++] = e;
    return 0;
}

static void get_begin(uint32_t id, char *path);

void get_start(uint32_t id, struct reader *r) {
    char *path = guest_path(rd_str(r));
    if (r->bad || !path || !path[0]) {
        send_error(id, EINVAL, "malformed get request");
        free(path);
        return;
    }
    struct stat st;
    if (lstat(path, &st) != 0) {
        send_error(id, errno, "%s: %s", path, strerror(errno));
        free(path);
        return;
    }
    if (!S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode) && !S_ISLNK(st.st_mode)) {
        send_error(id, EOPNOTSUPP, "%s is a %s: only files, directories and symlinks can be copied", path,
                   S_ISCHR(st.st_mode) ? "character device" : S_ISBLK(st.st_mode) ? "block device"
                   : S_ISFIFO(st.st_mode) ? "FIFO" : "socket");
        free(path);
        return;
    }
    get_begin(id, path);
}

/* READ: one regular file, symlinks followed (as cat would), sent as a GET of it. */
void read_start(uint32_t id, struct reader *r) {
    char *path = guest_path(rd_str(r));
    if (r->bad || !path || !path[0]) {
        send_error(id, EINVAL, "malformed read request");
        free(path);
        return;
    }
    struct stat st;
    char *real = stat(path, &st) == 0 ? realpath(path, NULL) : NULL;
    if (!real) send_error(id, errno, "%s: %s", path, strerror(errno));
    else if (S_ISDIR(st.st_mode)) send_error(id, EISDIR, "%s is a directory", path);
    else if (!S_ISREG(st.st_mode)) send_error(id, EINVAL, "%s is not a regular file", path);
    else {
        get_begin(id, real);
        real = NULL;
    }
    free(real);
    free(path);
}

static void get_begin(uint32_t id, char *path) {
    struct session *s = session_new(id, S_GET);
    if (!s) {
        free(path);
        return;
    }
    s->dest = path;
    walking = s;
    walk_cap = 0;
    walk_root_len = strlen(path);
    if (nftw(path, walk_one, 32, FTW_PHYS) != 0) {
        send_error(id, errno ? errno : E2BIG, "cannot list %s", path);
        session_free(s);
    }
}

#define MAX_PSEUDO_FILE (16u * 1024u * 1024u)

/* Reads a file that reports no size into memory (a memfd), so that its ENTRY can say how many
 * bytes follow. Non-blocking: a file that would block (/proc/kmsg) gives what it has. */
static int snapshot_pseudo_file(const char *path, int *fd_out, uint64_t *size) {
    static uint8_t chunk[CHUNK];
    int in = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
    if (in < 0) return errno;
    int mem = memfd_create("smartvm-get", MFD_CLOEXEC);
    if (mem < 0) {
        int err = errno;
        close(in);
        return err;
    }
    uint64_t total = 0;
    int err = 0;
    for (;;) {
        ssize_t n = read(in, chunk, sizeof chunk);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && errno == EAGAIN) break;
        if (n < 0) {
            err = errno;
            break;
        }
        if (n == 0) break;
        if (total + (uint64_t)n > MAX_PSEUDO_FILE) {
            err = EFBIG;
            break;
        }
        if (write(mem, chunk, (size_t)n) != n) {
            err = errno ? errno : EIO;
            break;
        }
        total += (uint64_t)n;
    }
    close(in);
    if (err || lseek(mem, 0, SEEK_SET) != 0) {
        if (!err) err = errno;
        close(mem);
        return err;
    }
    *fd_out = mem;
    *size = total;
    return 0;
}

void get_pump(struct session *s) {
    static uint8_t chunk[CHUNK];
    while (outq_has_room()) {
        if (s->get_fd >= 0) {
            if (s->send_window == 0) return;
            size_t want = s->get_left < CHUNK ? (size_t)s->get_left : CHUNK;
            if (want > s->send_window) want = s->send_window;
            ssize_t n = read(s->get_fd, chunk, want);
            if (n < 0 && errno == EINTR) continue;
            if (n <= 0) {
                send_error(s->id, n < 0 ? errno : EIO, "file changed while it was copied");
                session_free(s);
                return;
            }
            send_frame(s->id, T_DATA, chunk, (size_t)n);
            s->send_window -= (uint32_t)n;
            s->get_left -= (uint64_t)n;
            if (s->get_left == 0) {
                close(s->get_fd);
                s->get_fd = -1;
            }
            continue;
        }
        if (s->next_entry == s->n_entries) {
            send_frame(s->id, T_END, NULL, 0);
            session_free(s);
            return;
        }
        struct get_entry *e = &s->entries[s->next_entry++];
        if (e->kind == ENTRY_FILE && e->size == 0) {
            /* /proc and /sys files say 0 bytes whatever they hold: read one to learn its size */
            char *path = join(s->dest, e->rel);
            int err = snapshot_pseudo_file(path, &s->get_fd, &e->size);
            if (err) {
                send_error(s->id, err, "%s: %s", path, err == EFBIG ? "a file of unknown size over 16 MiB" : strerror(err));
                free(path);
                session_free(s);
                return;
            }
            free(path);
            s->get_left = e->size;
            if (e->size == 0) {
                close(s->get_fd);
                s->get_fd = -1;
            }
        } else if (e->kind == ENTRY_FILE) {
            char *path = join(s->dest, e->rel);
            s->get_fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
            if (s->get_fd < 0) {
                send_error(s->id, errno, "%s: %s", path, strerror(errno));
                free(path);
                session_free(s);
                return;
            }
            free(path);
            s->get_left = e->size;
        }
        struct buf b = {0};
        buf_u8(&b, e->kind);
        buf_u32(&b, e->mode);
        buf_u64(&b, e->size);
        buf_str(&b, e->rel);
        buf_str(&b, e->link);
        send_frame(s->id, T_ENTRY, b.p, b.len);
        buf_free(&b);
    }
}

void files_release(struct session *s) {
    size_t i = slot(s);
    for (size_t k = 0; k < pending_counts[i]; k++) free(pending_dirs[i][k].path);
    free(pending_dirs[i]);
    pending_dirs[i] = NULL;
    pending_counts[i] = 0;
    for (size_t k = 0; k < s->n_entries; k++) {
        free(s->entries[k].rel);
        free(s->entries[k].link);
    }
    free(s->entries);
    free(s->dest);
    put_close_file(s, 0); /* a PUT cut short (the host went away) leaves no part file */
    if (s->get_fd >= 0) close(s->get_fd);
}

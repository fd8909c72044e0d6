/* WATCH: inotify events of a directory (and with `recursive` its subdirectories) until CANCEL. */
#define _GNU_SOURCE
#include <errno.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent.h"

#define MAX_WATCHED_DIRS 8192
#define WATCH_MASK (IN_CREATE | IN_MODIFY | IN_DELETE | IN_MOVED_FROM | IN_MOVED_TO | IN_DELETE_SELF | IN_ONLYDIR)

static int add_dir(struct session *s, const char *path) {
    if (s->n_dirs >= MAX_WATCHED_DIRS) {
        errno = ENOSPC;
        return -1;
    }
    int wd = inotify_add_watch(s->ino_fd, path, WATCH_MASK | IN_DONT_FOLLOW);
    if (wd < 0) return -1;
    for (size_t i = 0; i < s->n_dirs; i++)
        if (s->dirs[i].wd == wd) return 0; /* already watched (a directory moved within the tree) */
    if (s->n_dirs == s->cap_dirs) {
        s->cap_dirs = s->cap_dirs ? 2 * s->cap_dirs : 16;
        struct watch_dir *grown = realloc(s->dirs, s->cap_dirs * sizeof *grown);
        if (!grown) power_off();
        s->dirs = grown;
    }
    s->dirs[s->n_dirs].wd = wd;
    s->dirs[s->n_dirs].path = strdup(path);
    if (!s->dirs[s->n_dirs].path) power_off();
    s->n_dirs++;
    return 0;
}

static struct session *adding;
static int add_one(const char *fpath, const struct stat *st, int type, struct FTW *ftw) {
    (void)st;
    (void)ftw;
    if (type != FTW_D) return 0;
    return add_dir(adding, fpath) != 0 ? errno : 0;
}

/* A directory and, recursively, those under it (nftw: no symlink followed). */
static int add_tree(struct session *s, const char *path) {
    adding = s;
    int err = nftw(path, add_one, 32, FTW_PHYS);
    if (err > 0) errno = err;
    return err == 0 ? 0 : -1;
}

void watch_start(uint32_t id, struct reader *r) {
    char *path = path_arg(id, r, "watch");
    uint8_t recursive = rd_u8(r);
    struct stat st;
    if (!path) return;
    if (r->bad) {
        send_error(id, EINVAL, "malformed watch request");
        free(path);
        return;
    }
    int err = stat(path, &st) != 0 ? errno : !S_ISDIR(st.st_mode) ? ENOTDIR : 0;
    if (err) {
        send_error(id, err, "cannot watch %s: %s", path, strerror(err));
        free(path);
        return;
    }
    struct session *s = session_new(id, S_WATCH);
    if (!s) {
        free(path);
        return;
    }
    s->recursive = recursive != 0;
    s->ino_fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    if (s->ino_fd < 0 || (recursive ? add_tree(s, path) : add_dir(s, path)) != 0) {
        send_error(id, errno, "cannot watch %s: %s%s", path, strerror(errno),
                   errno == ENOSPC ? " (too many directories)" : "");
        session_free(s);
    } else {
        send_frame(id, T_OK, NULL, 0);
    }
    free(path);
}

static struct watch_dir *dir_of(struct session *s, int wd) {
    for (size_t i = 0; i < s->n_dirs; i++)
        if (s->dirs[i].wd == wd) return &s->dirs[i];
    return NULL;
}

static void send_event(struct session *s, uint8_t kind, int is_dir, const char *path) {
    struct buf b = {0};
    buf_u8(&b, kind);
    buf_u8(&b, (uint8_t)(is_dir != 0));
    buf_str(&b, path);
    send_frame(s->id, T_EVENT, b.p, b.len);
    buf_free(&b);
}

int watch_poll_fd(struct session *s, struct pollfd *fd) {
    if (s->ino_fd < 0 || !outq_has_room()) return 0; /* a host that does not read: the kernel queue overflows, and says so */
    *fd = (struct pollfd){s->ino_fd, POLLIN, 0};
    return 1;
}

/* Reads what inotify has and sends it; the watch ends (END) when its directory goes away. */
void watch_pump(struct session *s) {
    static char events[64 * 1024] __attribute__((aligned(__alignof__(struct inotify_event))));
    char last_modified[PATH_MAX] = "";
    while (outq_has_room()) {
        ssize_t n = read(s->ino_fd, events, sizeof events);
        if (n <= 0) return;
        for (char *p = events; p < events + n;) {
            struct inotify_event *e = (struct inotify_event *)p;
            p += sizeof *e + e->len;
            if (e->mask & IN_Q_OVERFLOW) {
                send_event(s, EVENT_OVERFLOW, 0, "");
                continue;
            }
            struct watch_dir *d = dir_of(s, e->wd);
            if (!d) continue;
            if (e->mask & IN_IGNORED) { /* the directory went away (or was unmounted) */
                int root = d == &s->dirs[0];
                free(d->path);
                *d = s->dirs[--s->n_dirs];
                if (root) {
                    send_frame(s->id, T_END, NULL, 0);
                    session_free(s);
                    return;
                }
                continue;
            }
            if (e->mask & IN_DELETE_SELF) continue; /* its parent reports it as deleted */
            char path[PATH_MAX];
            snprintf(path, sizeof path, "%s/%s", strcmp(d->path, "/") ? d->path : "", e->len ? e->name : "");
            int is_dir = (e->mask & IN_ISDIR) != 0;
            if (e->mask & IN_MODIFY) {
                if (!strcmp(last_modified, path)) continue; /* one event for a run of writes */
                snprintf(last_modified, sizeof last_modified, "%s", path);
                send_event(s, EVENT_MODIFIED, is_dir, path);
                continue;
            }
            last_modified[0] = 0;
            if (e->mask & IN_CREATE) send_event(s, EVENT_CREATED, is_dir, path);
            else if (e->mask & IN_DELETE) send_event(s, EVENT_DELETED, is_dir, path);
            else if (e->mask & IN_MOVED_FROM) send_event(s, EVENT_MOVED_FROM, is_dir, path);
            else if (e->mask & IN_MOVED_TO) send_event(s, EVENT_MOVED_TO, is_dir, path);
            if (s->recursive && is_dir && (e->mask & (IN_CREATE | IN_MOVED_TO))) add_tree(s, path);
        }
    }
}

void watch_release(struct session *s) {
    if (s->ino_fd >= 0) close(s->ino_fd);
    s->ino_fd = -1;
    for (size_t i = 0; i < s->n_dirs; i++) free(s->dirs[i].path);
    free(s->dirs);
    s->dirs = NULL;
    s->n_dirs = s->cap_dirs = 0;
}

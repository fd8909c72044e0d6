/* The files API's one-shot requests: STAT, LIST, MKDIR, REMOVE, RENAME (docs/agent-protocol.md). */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent.h"

#define MAX_LIST_ENTRIES 100000
#define LIST_BATCH (48u * 1024u) /* a NAMES frame is sent once it holds this many bytes */

static uint8_t kind_of(mode_t m) {
    return S_ISREG(m) ? ENTRY_FILE : S_ISDIR(m) ? ENTRY_DIR : S_ISLNK(m) ? ENTRY_SYMLINK : ENTRY_OTHER;
}

/* kind, mode, size, mtime and a symlink's target, as STATS and NAMES carry them. */
static void put_stat(struct buf *b, const char *path, const struct stat *st) {
    buf_u8(b, kind_of(st->st_mode));
    buf_u32(b, st->st_mode & 07777);
    buf_u64(b, S_ISDIR(st->st_mode) ? 0 : (uint64_t)st->st_size);
    buf_u64(b, (uint64_t)st->st_mtim.tv_sec);
    buf_u32(b, (uint32_t)st->st_mtim.tv_nsec);
    char target[PATH_MAX] = "";
    if (S_ISLNK(st->st_mode)) {
        ssize_t n = readlink(path, target, sizeof target - 1);
        target[n > 0 ? n : 0] = 0;
    }
    buf_str(b, target);
}

char *path_arg(uint32_t id, struct reader *r, const char *what) {
    char *path = guest_path(rd_str(r));
    if (r->bad || !path || path[0] != '/') {
        send_error(id, EINVAL, "malformed %s request", what);
        free(path);
        return NULL;
    }
    return path;
}

static void answer(uint32_t id, int ok, const char *what, const char *path) {
    if (ok) send_frame(id, T_OK, NULL, 0);
    else send_error(id, errno, "cannot %s %s: %s", what, path, strerror(errno));
}

void stat_path(uint32_t id, struct reader *r) {
    char *path = path_arg(id, r, "stat");
    if (!path) return;
    struct stat st;
    if (lstat(path, &st) != 0) {
        send_error(id, errno, "%s: %s", path, strerror(errno));
    } else {
        struct buf b = {0};
        put_stat(&b, path, &st);
        send_frame(id, T_STATS, b.p, b.len);
        buf_free(&b);
    }
    free(path);
}

/* One NAMES frame of the `count` entries in `batch`, which is emptied. */
static void send_names(uint32_t id, struct buf *batch, uint32_t count) {
    struct buf f = {0};
    buf_u32(&f, count);
    buf_put(&f, batch->p, batch->len);
    send_frame(id, T_NAMES, f.p, f.len);
    buf_free(&f);
    batch->len = 0;
}

/* NAMES frames (u32 count, then per entry: string name and its stat), then END. */
void list_dir(uint32_t id, struct reader *r) {
    char *path = path_arg(id, r, "list");
    if (!path) return;
    DIR *d = opendir(path);
    if (!d) {
        send_error(id, errno, "cannot list %s: %s", path, strerror(errno));
        free(path);
        return;
    }
    struct buf batch = {0};
    uint32_t in_batch = 0, total = 0;
    struct dirent *e;
    int fd = dirfd(d);
    while ((e = readdir(d)) != NULL) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
        struct stat st;
        if (fstatat(fd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0) continue; /* gone meanwhile */
        if (++total > MAX_LIST_ENTRIES) {
            send_error(id, EFBIG, "%s has more than %d entries", path, MAX_LIST_ENTRIES);
            goto out;
        }
        char full[PATH_MAX];
        snprintf(full, sizeof full, "%s/%s", strcmp(path, "/") ? path : "", e->d_name);
        buf_str(&batch, e->d_name);
        put_stat(&batch, full, &st);
        if (++in_batch, batch.len >= LIST_BATCH) {
            send_names(id, &batch, in_batch);
            in_batch = 0;
        }
    }
    send_names(id, &batch, in_batch);
    send_frame(id, T_END, NULL, 0);
out:
    buf_free(&batch);
    closedir(d);
    free(path);
}

/* mkdir -p: each missing directory with the mode; an existing directory is fine. */
void make_dirs(uint32_t id, struct reader *r) {
    char *path = path_arg(id, r, "mkdir");
    uint32_t mode = rd_u32(r) & 07777;
    if (!path) return;
    if (r->bad) {
        send_error(id, EINVAL, "malformed mkdir request");
        free(path);
        return;
    }
    int ok = 1;
    for (char *p = path + 1;; p++) {
        if (*p != '/' && *p != 0) continue;
        char was = *p;
        *p = 0;
        struct stat st;
        if (mkdir(path, mode) != 0 && !(errno == EEXIST && stat(path, &st) == 0 && S_ISDIR(st.st_mode))) {
            if (errno == EEXIST) errno = ENOTDIR;
            ok = 0;
        }
        *p = was;
        if (!ok || was == 0) break;
    }
    answer(id, ok, "create directory", path);
    free(path);
}

static int remove_one(const char *fpath, const struct stat *st, int type, struct FTW *ftw) {
    (void)st;
    (void)ftw;
    return (type == FTW_DP ? rmdir(fpath) : unlink(fpath)) != 0 ? errno : 0;
}

/* rm (-r): a symlink is removed, never followed; / is refused. */
void remove_path(uint32_t id, struct reader *r) {
    char *path = path_arg(id, r, "remove");
    uint8_t recursive = rd_u8(r);
    if (!path) return;
    struct stat st;
    int ok;
    if (r->bad) {
        send_error(id, EINVAL, "malformed remove request");
        free(path);
        return;
    }
    if (lstat(path, &st) != 0) {
        ok = 0;
    } else if (!S_ISDIR(st.st_mode)) {
        ok = unlink(path) == 0;
    } else if (path[strspn(path, "/")] == 0) { /* "/", "//"... */
        errno = EBUSY;
        ok = 0;
    } else if (!recursive) {
        ok = rmdir(path) == 0;
    } else {
        int err = nftw(path, remove_one, 32, FTW_DEPTH | FTW_PHYS);
        if (err > 0) errno = err;
        ok = err == 0;
    }
    answer(id, ok, "remove", path);
    free(path);
}

void rename_path(uint32_t id, struct reader *r) {
    char *from = path_arg(id, r, "rename");
    if (!from) return;
    char *to = path_arg(id, r, "rename");
    if (to) {
        answer(id, rename(from, to) == 0, "rename", from);
        free(to);
    }
    free(from);
}

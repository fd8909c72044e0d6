/*
 * `smartvm-agent --console-log FILE MAX_BYTES -- PROGRAM ARGS...`: runs on the host, not in the
 * guest. It starts PROGRAM (a VMM) with a pipe on fd 3, whose other end a child process writes
 * to FILE, rotating it to FILE.1 each time it reaches MAX_BYTES: the console log of a guest
 * that floods its serial port stays within 2 x MAX_BYTES on disk. PROGRAM keeps this process's
 * pid (exec), so the VMM's pid is the one its starter sees. The writer ends when the VMM has
 * gone (end of file), with nothing to clean up.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent.h"

#define CONSOLE_FD 3

static int open_log(const char *path, int truncate) {
    return open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | (truncate ? O_TRUNC : 0), 0644);
}

/* Copies the pipe into the log until the VMM closes it. */
static void write_ring(int in, const char *path, off_t max) {
    static char buf[64 * 1024];
    char rotated[4096];
    snprintf(rotated, sizeof rotated, "%s.1", path);
    unlink(rotated); /* a new boot's log starts empty: nothing of the last one is kept */
    int out = open_log(path, 1);
    if (out < 0) _exit(1);
    off_t size = 0;
    for (;;) {
        ssize_t n = read(in, buf, sizeof buf);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) _exit(0);
        if (size + n > max) {
            /* rename first: a reader never finds the log missing, only briefly short */
            close(out);
            rename(path, rotated);
            out = open_log(path, 1);
            if (out < 0) _exit(1);
            size = 0;
        }
        for (ssize_t done = 0; done < n;) {
            ssize_t w = write(out, buf + done, (size_t)(n - done));
            if (w < 0 && errno == EINTR) continue;
            if (w <= 0) break; /* a full disk: what does not fit is dropped */
            done += w;
        }
        size += n;
    }
}

int console_log_main(int argc, char **argv) {
    /* argv: --console-log FILE MAX -- PROGRAM ARGS... */
    if (argc < 6 || strcmp(argv[4], "--") != 0) {
        fprintf(stderr, "usage: smartvm-agent --console-log FILE MAX_BYTES -- PROGRAM [ARGS...]\n");
        return 2;
    }
    char *end;
    long long max = strtoll(argv[3], &end, 10);
    if (*end || max < 4096) {
        fprintf(stderr, "smartvm-agent: MAX_BYTES must be a number of at least 4096; found '%s'\n", argv[3]);
        return 2;
    }
    int p[2];
    if (pipe2(p, O_CLOEXEC) != 0) {
        perror("smartvm-agent: pipe");
        return 125;
    }
    pid_t writer = fork();
    if (writer < 0) {
        perror("smartvm-agent: fork");
        return 125;
    }
    if (writer == 0) {
        close(p[1]);
        signal(SIGINT, SIG_IGN); /* it ends with the VMM, at end of file, not with a terminal */
        signal(SIGHUP, SIG_IGN);
        write_ring(p[0], argv[2], (off_t)max);
    }
    close(p[0]);
    if (dup2(p[1], CONSOLE_FD) != CONSOLE_FD) { /* dup2 clears close-on-exec on the copy */
        perror("smartvm-agent: dup2");
        return 125;
    }
    execv(argv[5], argv + 5);
    fprintf(stderr, "smartvm-agent: cannot run %s: %s\n", argv[5], strerror(errno));
    return 127;
}

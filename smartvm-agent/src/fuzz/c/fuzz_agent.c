/*
 * libFuzzer target for the agent's side of the protocol: each input is what a host sends on one
 * connection (preamble, frames). Built with -DAGENT_FUZZING, under which a command is not run
 * but ends at once (its pipes closed, its code drawn from the request), SHUTDOWN only resets the session, and the paths of PUT and GET are taken
 * relative to a scratch directory. The fuzzer also drops to nobody, so that no path a frame
 * names (through a symlink a PUT made, say) can change the host's files. `make fuzz` builds it;
 * bench/fuzz runs it.
 */
#define _GNU_SOURCE
#include <ftw.h>
#include <grp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>

void fuzz_feed(const uint8_t *data, size_t size);
void fuzz_init(void);

static char sandbox[] = "/tmp/smartvm-agent-fuzz.XXXXXX";

static int remove_one(const char *path, const struct stat *st, int type, struct FTW *ftw) {
    (void)st;
    (void)type;
    if (ftw->level > 0) remove(path);
    return 0;
}

static void remove_sandbox(void) {
    if (chdir("/") == 0) nftw(sandbox, remove_one, 16, FTW_DEPTH | FTW_PHYS);
    rmdir(sandbox);
}

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    (void)argc;
    (void)argv;
    fuzz_init();
    if (geteuid() == 0 && (setgroups(0, NULL) != 0 || setgid(65534) != 0 || setuid(65534) != 0)) {
        perror("agent-fuzz: cannot drop to nobody");
        exit(2);
    }
    prctl(PR_SET_DUMPABLE, 1); /* LeakSanitizer reads our /proc entries from a helper process */
    /* made after dropping to nobody, so that nobody can remove it at the end */
    if (!mkdtemp(sandbox) || chdir(sandbox) != 0) {
        perror("agent-fuzz: cannot make its scratch directory");
        exit(2);
    }
    atexit(remove_sandbox);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    fuzz_feed(data, size);
    /* what the input's PUTs left is removed: a GET of a crowded scratch directory walks it all, is
       slow, and fuzzes nothing new (each input then starts from the same empty directory) */
    nftw(".", remove_one, 16, FTW_DEPTH | FTW_PHYS);
    return 0;
}

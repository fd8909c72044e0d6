/*
 * USAGE: what the guest uses (its memory, from /proc/meminfo) and how long no host has used the
 * agent. A request of a host (an exec, a copy, a files call, a terminal's keystroke) is activity,
 * and so are the agent's start and an IDENTIFY (sent when a clone or a restored VM starts, whose
 * clock goes on from its template's); an exec, PUT or GET that is still going keeps the guest
 * busy. PING, SYNC, WINDOW and USAGE itself are not activity: a host that only watches the guest
 * (`smartvm stats`, the idle watchdog) does not keep it alive.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <string.h>

#include "agent.h"

static int64_t last_activity_ms;

void usage_note_activity(uint8_t type) {
    switch (type) {
    case T_PING:
    case T_SYNC:
    case T_WINDOW:
    case T_USAGE: return;
    default: last_activity_ms = now_ms();
    }
}

void usage_note_now(void) {
    last_activity_ms = now_ms();
}

/* The value of a "Name:   N kB" line of /proc/meminfo, in bytes; 0 when absent. */
static uint64_t meminfo_bytes(const char *text, const char *name) {
    size_t n = strlen(name);
    for (const char *line = text; line && *line; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL) {
        unsigned long long kib;
        if (!strncmp(line, name, n) && line[n] == ':' && sscanf(line + n + 1, "%llu", &kib) == 1)
            return (uint64_t)kib * 1024u;
    }
    return 0;
}

void usage_report(uint32_t id) {
    char text[8192] = "";
    FILE *f = fopen("/proc/meminfo", "re");
    if (f) {
        size_t got = fread(text, 1, sizeof text - 1, f);
        text[got] = 0;
        fclose(f);
    }
    uint32_t busy = 0;
    for (int i = 0; i < MAX_SESSIONS; i++)
        if (sessions[i].kind == S_EXEC || sessions[i].kind == S_PUT || sessions[i].kind == S_GET) busy++;
    int64_t now = now_ms();
    struct buf b = {0};
    buf_u64(&b, meminfo_bytes(text, "MemTotal"));
    buf_u64(&b, meminfo_bytes(text, "MemAvailable"));
    buf_u32(&b, busy);
    buf_u64(&b, busy ? 0 : (uint64_t)(now - last_activity_ms));
    buf_u64(&b, (uint64_t)now);
    send_frame(id, T_USAGE_REPLY, b.p, b.len);
    buf_free(&b);
}

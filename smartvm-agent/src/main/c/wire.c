/* Byte buffers, the payload codec (big-endian), and the frame queue towards the host. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent.h"

struct conn *current;

void buf_reserve(struct buf *b, size_t extra) {
    if (b->len + extra <= b->cap) return;
    size_t cap = b->cap ? b->cap : 4096;
    while (cap < b->len + extra) cap *= 2;
    uint8_t *p = realloc(b->p, cap);
    if (!p) {
        agent_log("out of memory growing a buffer to %zu bytes", cap);
        power_off();
    }
    b->p = p;
    b->cap = cap;
}

void buf_put(struct buf *b, const void *data, size_t n) {
    buf_reserve(b, n);
    if (n) memcpy(b->p + b->len, data, n);
    b->len += n;
}

void buf_u8(struct buf *b, uint8_t v) { buf_put(b, &v, 1); }

void buf_u32(struct buf *b, uint32_t v) {
    uint8_t x[4] = {(uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v};
    buf_put(b, x, 4);
}

void buf_u64(struct buf *b, uint64_t v) {
    buf_u32(b, (uint32_t)(v >> 32));
    buf_u32(b, (uint32_t)v);
}

void buf_str(struct buf *b, const char *s) {
    size_t n = strlen(s);
    buf_u32(b, (uint32_t)n);
    buf_put(b, s, n);
}

void buf_consume(struct buf *b, size_t n) {
    if (n >= b->len) {
        b->len = 0;
        return;
    }
    memmove(b->p, b->p + n, b->len - n);
    b->len -= n;
}

void buf_free(struct buf *b) {
    free(b->p);
    b->p = NULL;
    b->len = b->cap = 0;
}

uint8_t rd_u8(struct reader *r) {
    if (r->bad || r->len - r->off < 1) {
        r->bad = 1;
        return 0;
    }
    return r->p[r->off++];
}

uint32_t rd_u32(struct reader *r) {
    if (r->bad || r->len - r->off < 4) {
        r->bad = 1;
        return 0;
    }
    const uint8_t *x = r->p + r->off;
    r->off += 4;
    return ((uint32_t)x[0] << 24) | ((uint32_t)x[1] << 16) | ((uint32_t)x[2] << 8) | x[3];
}

uint64_t rd_u64(struct reader *r) {
    uint64_t hi = rd_u32(r);
    return (hi << 32) | rd_u32(r);
}

char *rd_str(struct reader *r) {
    uint32_t n = rd_u32(r);
    if (r->bad || r->len - r->off < n) {
        r->bad = 1;
        return NULL;
    }
    if (memchr(r->p + r->off, 0, n)) {
        r->bad = 1;
        return NULL;
    }
    char *s = malloc((size_t)n + 1);
    if (!s) power_off();
    memcpy(s, r->p + r->off, n);
    s[n] = 0;
    r->off += n;
    return s;
}

void send_frame(uint32_t id, uint8_t type, const void *payload, size_t len) {
    if (!current) return; /* no host to tell */
    buf_u32(&current->outq, (uint32_t)len);
    buf_u32(&current->outq, id);
    buf_u8(&current->outq, type);
    buf_put(&current->outq, payload, len);
}

void send_error(uint32_t id, int err, const char *fmt, ...) {
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    struct buf b = {0};
    buf_u32(&b, (uint32_t)err);
    buf_str(&b, msg);
    send_frame(id, T_ERROR, b.p, b.len);
    buf_free(&b);
}

void send_window(uint32_t id, uint32_t n) {
    uint8_t x[4] = {(uint8_t)(n >> 24), (uint8_t)(n >> 16), (uint8_t)(n >> 8), (uint8_t)n};
    send_frame(id, T_WINDOW, x, 4);
}

int outq_has_room(void) { return current && current->outq.len < OUTQ_HIGH; }

/*
 * Test client, run inside a guest: connects to the SmartVM agent on a vsock port of the same
 * guest (vsock_loopback, CID 1), does the protocol handshake and a PING round trip, and prints
 * what it got. It proves the agent's vsock listener, which Firecracker's hybrid vsock reaches.
 * Usage: vsock-hello PORT
 */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/vm_sockets.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static int read_full(int fd, uint8_t *p, size_t n) {
    while (n > 0) {
        ssize_t r = read(fd, p, n);
        if (r <= 0) return -1;
        p += r;
        n -= (size_t)r;
    }
    return 0;
}

static uint32_t be32(const uint8_t *p) {
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Reads one frame; returns its type, fills id and payload (at most cap bytes kept). */
static int read_frame(int fd, uint32_t *id, uint8_t *payload, size_t cap, uint32_t *len) {
    uint8_t h[9];
    if (read_full(fd, h, 9)) return -1;
    *len = be32(h);
    *id = be32(h + 4);
    if (*len > cap) return -1;
    if (read_full(fd, payload, *len)) return -1;
    return h[8];
}

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: vsock-hello PORT\n");
        return 2;
    }
    struct sockaddr_vm a = {.svm_family = AF_VSOCK, .svm_cid = 1, .svm_port = (unsigned)atoi(argv[1])};
    int fd = -1;
    for (int tries = 0; tries < 500; tries++) { /* the listener may still be starting: 5 s */
        fd = socket(AF_VSOCK, SOCK_STREAM, 0);
        if (fd < 0) {
            perror("socket(AF_VSOCK)");
            return 1;
        }
        if (connect(fd, (struct sockaddr *)&a, sizeof a) == 0) break;
        close(fd);
        fd = -1;
        usleep(10000);
    }
    if (fd < 0) {
        perror("connect");
        return 1;
    }
    uint8_t pre[8 + 16 + 4];
    memcpy(pre, "SMVMHELO", 8);
    for (int i = 0; i < 16; i++) pre[8 + i] = (uint8_t)(i * 7 + 3);
    pre[24] = 0, pre[25] = 0, pre[26] = 0, pre[27] = 1;
    if (write(fd, pre, sizeof pre) != (ssize_t)sizeof pre) return 1;
    static uint8_t payload[1 << 16];
    uint32_t id, len;
    int type = read_frame(fd, &id, payload, sizeof payload, &len);
    if (type != 0x81 || len < 16 + 12 || memcmp(payload, pre + 8, 16) != 0) {
        fprintf(stderr, "no HELLO with our nonce (type %d)\n", type);
        return 1;
    }
    uint8_t ping[9 + 4] = {0, 0, 0, 4, 0, 0, 0, 7, 0x0B, 'p', 'i', 'n', 'g'};
    if (write(fd, ping, sizeof ping) != (ssize_t)sizeof ping) return 1;
    type = read_frame(fd, &id, payload, sizeof payload, &len);
    if (type != 0x8B || id != 7 || len != 4 || memcmp(payload, "ping", 4) != 0) {
        fprintf(stderr, "no PONG (type %d id %u)\n", type, id);
        return 1;
    }
    printf("HELLO and PONG over vsock port %s\n", argv[1]);
    return 0;
}

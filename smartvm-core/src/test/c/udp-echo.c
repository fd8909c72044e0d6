/* A UDP echo server for the guest (busybox has none): answers every datagram on PORT with
 * "echo:" and the datagram, until killed. Usage: udp-echo PORT */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: udp-echo PORT\n");
        return 2;
    }
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons(atoi(argv[1])), .sin_addr.s_addr = htonl(INADDR_ANY)};
    if (fd < 0 || bind(fd, (struct sockaddr *) &addr, sizeof addr) != 0) {
        perror("udp-echo");
        return 1;
    }
    printf("listening\n");
    fflush(stdout);
    for (;;) {
        char in[512], out[600];
        struct sockaddr_in peer;
        socklen_t len = sizeof peer;
        ssize_t n = recvfrom(fd, in, sizeof in, 0, (struct sockaddr *) &peer, &len);
        if (n < 0) {
            continue;
        }
        memcpy(out, "echo:", 5);
        memcpy(out + 5, in, (size_t) n);
        sendto(fd, out, (size_t) n + 5, 0, (struct sockaddr *) &peer, len);
    }
}

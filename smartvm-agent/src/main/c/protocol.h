/* SmartVM guest agent protocol: the constants of docs/agent-protocol.md. */
#ifndef SMARTVM_PROTOCOL_H
#define SMARTVM_PROTOCOL_H

#define PROTO_VERSION 2u
#define PROTO_MAGIC "SMVMHELO"
#define PROTO_MAGIC_LEN 8
#define PROTO_NONCE_LEN 16

#define FRAME_HEADER_LEN 9          /* u32 length, u32 id, u8 type */
#define MAX_PAYLOAD (256u * 1024u)  /* larger frames are a protocol error */
#define CHUNK (64u * 1024u)         /* data frames are at most this big */
#define INITIAL_WINDOW (1024u * 1024u)
#define MAX_SESSIONS 128

/* host -> guest */
#define T_EXEC 0x01
#define T_STDIN 0x02
#define T_SIGNAL 0x03
#define T_WINDOW 0x04 /* both directions */
#define T_PUT 0x05
#define T_GET 0x06
#define T_ENTRY 0x07 /* both directions */
#define T_DATA 0x08  /* both directions */
#define T_END 0x09   /* both directions */
#define T_SHUTDOWN 0x0A
#define T_PING 0x0B
#define T_SYNC 0x0C /* the host's clock and entropy, at the start of a session */
#define T_IDENTIFY 0x0D /* the VM's id and hostname, at the start of a session (a clone's are its own) */
#define T_RESIZE 0x0E   /* a terminal exec's new window size */
#define T_STAT 0x0F
#define T_LIST 0x10
#define T_MKDIR 0x11
#define T_REMOVE 0x12
#define T_RENAME 0x13
#define T_READ 0x14   /* one regular file, as a GET */
#define T_WATCH 0x15
#define T_CANCEL 0x16 /* ends a watch */
#define T_USAGE 0x17  /* what the guest uses, and how long it has been idle */

/* guest -> host */
#define T_HELLO 0x81
#define T_STARTED 0x82
#define T_STDOUT 0x83
#define T_STDERR 0x84
#define T_EXIT 0x85
#define T_OK 0x86
#define T_ERROR 0x87
#define T_STATS 0x88 /* a STAT's answer */
#define T_NAMES 0x89 /* a LIST's entries */
#define T_EVENT 0x8A /* a watch's event */
#define T_PONG 0x8B
#define T_USAGE_REPLY 0x8C /* a USAGE's answer */

#define ENTRY_FILE 1
#define ENTRY_DIR 2
#define ENTRY_SYMLINK 3
#define ENTRY_OTHER 4 /* devices, FIFOs, sockets: listed and stat'ed, never copied */

#define EVENT_CREATED 1
#define EVENT_MODIFIED 2
#define EVENT_DELETED 3
#define EVENT_MOVED_FROM 4
#define EVENT_MOVED_TO 5
#define EVENT_OVERFLOW 6

#define EXEC_FLAG_STDIN 1u
#define EXEC_FLAG_PTY 2u /* a pseudo-terminal for stdin, stdout and stderr; u32 cols, u32 rows follow the env */
#define MAX_TERMINAL_SIZE 0xffffu

#endif

package dev.smartvm.internal.agent;

/** Frame types and limits of the agent protocol (docs/agent-protocol.md). */
final class FrameType {
    static final int VERSION = 2;
    static final byte[] MAGIC = "SMVMHELO".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
    static final int NONCE_LENGTH = 16;
    static final int HEADER_LENGTH = 9;
    static final int CHUNK = 64 * 1024;

    // host -> guest
    static final int EXEC = 0x01;
    static final int STDIN = 0x02;
    static final int SIGNAL = 0x03;
    static final int WINDOW = 0x04;
    static final int PUT = 0x05;
    static final int GET = 0x06;
    static final int ENTRY = 0x07;
    static final int DATA = 0x08;
    static final int END = 0x09;
    static final int SHUTDOWN = 0x0A;
    static final int PING = 0x0B;
    static final int SYNC = 0x0C;
    static final int IDENTIFY = 0x0D;
    static final int RESIZE = 0x0E;
    static final int STAT = 0x0F;
    static final int LIST = 0x10;
    static final int MKDIR = 0x11;
    static final int REMOVE = 0x12;
    static final int RENAME = 0x13;
    static final int READ = 0x14;
    static final int WATCH = 0x15;
    static final int CANCEL = 0x16;
    static final int USAGE = 0x17;
    // guest -> host
    static final int HELLO = 0x81;
    static final int STARTED = 0x82;
    static final int STDOUT = 0x83;
    static final int STDERR = 0x84;
    static final int EXIT = 0x85;
    static final int OK = 0x86;
    static final int ERROR = 0x87;
    static final int STATS = 0x88;
    static final int NAMES = 0x89;
    static final int EVENT = 0x8A;
    static final int PONG = 0x8B;
    static final int USAGE_REPLY = 0x8C;

    static final int ENTRY_FILE = 1;
    static final int ENTRY_DIR = 2;
    static final int ENTRY_SYMLINK = 3;
    static final int ENTRY_OTHER = 4;

    static final int EXEC_FLAG_STDIN = 1;
    static final int EXEC_FLAG_PTY = 2;

    private FrameType() {
    }
}

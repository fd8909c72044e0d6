package dev.smartvm.internal.agent;

import dev.smartvm.SmartVmException;

/** Receives the frames of one request id. Called on the connection's reader thread: never block long. */
interface StreamHandler {
    void onFrame(int type, byte[] payload);

    /** The connection broke; no more frames will come. */
    void onClosed(SmartVmException cause);
}

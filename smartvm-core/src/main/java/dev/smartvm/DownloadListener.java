package dev.smartvm;

/** Told how a download goes: at its start, every so often, and at its end. */
@FunctionalInterface
public interface DownloadListener {
    DownloadListener NONE = (name, done, total, finished) -> { };

    /**
     * @param name what is downloaded (a file name)
     * @param done bytes so far
     * @param total the announced size, or -1 when unknown
     * @param finished true once, when the body is complete
     */
    void progress(String name, long done, long total, boolean finished);
}

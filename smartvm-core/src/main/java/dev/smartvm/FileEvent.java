package dev.smartvm;

/**
 * One change a {@link FileWatch} saw. A rename within the watched tree is a {@code MOVED_FROM}
 * and a {@code MOVED_TO}; one across its edge is only one of them. A run of writes to a file
 * read together is one {@code MODIFIED}.
 *
 * @param kind what happened
 * @param path absolute guest path ("" for {@code OVERFLOW})
 * @param directory whether it is a directory
 */
public record FileEvent(Kind kind, String path, boolean directory) {
    public enum Kind {
        CREATED, MODIFIED, DELETED, MOVED_FROM, MOVED_TO,
        /** The guest kernel's queue overflowed (events were not read fast enough): some were lost. */
        OVERFLOW
    }
}

package dev.smartvm;

import dev.smartvm.internal.image.ImageStore;

/** What tests reach behind the API for: the image store's bundles. */
final class Internals {
    private Internals() {
    }

    static ImageStore images(SmartVm svm) {
        return (ImageStore) svm.images();
    }
}

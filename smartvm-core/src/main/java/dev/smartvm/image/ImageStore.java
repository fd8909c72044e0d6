package dev.smartvm.image;

import dev.smartvm.ErrorCode;
import dev.smartvm.SmartVmException;
import dev.smartvm.internal.CommandRunner;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.function.Consumer;

/** Turns an image reference into a bootable bundle. Today: {@code default}, or a built bundle's directory. */
public final class ImageStore {
    private final Path imagesDir;
    private final CommandRunner runner;
    private final Consumer<String> progress;

    public ImageStore(Path imagesDir, CommandRunner runner, Consumer<String> progress) {
        this.imagesDir = imagesDir;
        this.runner = runner;
        this.progress = progress;
    }

    public Path directory() {
        return imagesDir;
    }

    public ImageBundle resolve(String ref) {
        if (ref.equals("default")) {
            return new DefaultImage(imagesDir, runner, progress).ensure();
        }
        Path dir = Path.of(ref);
        if (Files.isRegularFile(dir.resolve("image.json"))) {
            return DefaultImage.load(dir);
        }
        throw new SmartVmException(ErrorCode.IMAGE_NOT_FOUND, "no image '" + ref
                + "': use 'default' or the directory of a built image (OCI and hosted images are not supported yet)");
    }
}

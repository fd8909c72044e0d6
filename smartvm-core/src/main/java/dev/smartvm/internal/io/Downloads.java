package dev.smartvm.internal.io;

import dev.smartvm.DownloadListener;
import dev.smartvm.ErrorCode;
import dev.smartvm.SmartVmException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

/** HTTP(S) downloads to a file: redirects followed, a non-200 answer or a short body is an error. */
public final class Downloads {
    private static final HttpClient HTTP = HttpClient.newBuilder().followRedirects(HttpClient.Redirect.NORMAL)
            .connectTimeout(Duration.ofSeconds(20)).build();

    private Downloads() {
    }

    /**
     * Downloads {@code uri} into {@code target} (replaced) and returns it.
     *
     * @param hint appended to a failure's message: what the user can do instead
     */
    public static Path get(URI uri, Path target, String hint) {
        return get(uri, target, hint, DownloadListener.NONE);
    }

    /** {@link #get(URI, Path, String)}, telling {@code listener} how it goes (at most ten times a second). */
    public static Path get(URI uri, Path target, String hint, DownloadListener listener) {
        try {
            HttpResponse<InputStream> r = HTTP.send(HttpRequest.newBuilder(uri).timeout(Duration.ofMinutes(30)).GET().build(),
                    HttpResponse.BodyHandlers.ofInputStream());
            try (InputStream in = r.body()) {
                if (r.statusCode() != 200) {
                    throw new SmartVmException(ErrorCode.DOWNLOAD_FAILED, "GET " + uri + " answered HTTP " + r.statusCode() + hint);
                }
                long declared = r.headers().firstValueAsLong("Content-Length").orElse(-1);
                String name = target.getFileName().toString();
                long done = 0;
                long lastReport = 0;
                listener.progress(name, 0, declared, false);
                try (OutputStream out = Files.newOutputStream(target)) {
                    byte[] buf = new byte[1 << 16];
                    int n;
                    while ((n = in.read(buf)) > 0) {
                        out.write(buf, 0, n);
                        done += n;
                        if (System.nanoTime() - lastReport > 100_000_000L) {
                            lastReport = System.nanoTime();
                            listener.progress(name, done, declared, false);
                        }
                    }
                }
                if (declared >= 0 && done != declared) {
                    throw new SmartVmException(ErrorCode.DOWNLOAD_FAILED, "GET " + uri + " was cut short: " + done
                            + " of " + declared + " bytes" + hint);
                }
                listener.progress(name, done, declared, true);
            }
            return target;
        } catch (IOException e) {
            throw new SmartVmException(ErrorCode.DOWNLOAD_FAILED, "cannot download " + uri + ": " + e + hint, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new SmartVmException(ErrorCode.INTERRUPTED, "interrupted downloading " + uri, e);
        }
    }
}

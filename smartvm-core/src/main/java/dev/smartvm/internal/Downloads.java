package dev.smartvm.internal;

import dev.smartvm.ErrorCode;
import dev.smartvm.SmartVmException;
import java.io.IOException;
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
        try {
            HttpResponse<Path> r = HTTP.send(HttpRequest.newBuilder(uri).timeout(Duration.ofMinutes(30)).GET().build(),
                    HttpResponse.BodyHandlers.ofFile(target));
            if (r.statusCode() != 200) {
                throw new SmartVmException(ErrorCode.DOWNLOAD_FAILED, "GET " + uri + " answered HTTP " + r.statusCode() + hint);
            }
            long declared = r.headers().firstValueAsLong("Content-Length").orElse(-1);
            if (declared >= 0 && Files.size(target) != declared) {
                throw new SmartVmException(ErrorCode.DOWNLOAD_FAILED, "GET " + uri + " was cut short: " + Files.size(target)
                        + " of " + declared + " bytes" + hint);
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

package dev.smartvm.firecracker;

import java.nio.file.Path;

/**
 * The Firecracker engine's extension of a boot request.
 *
 * @param configFile a file in Firecracker's config-file format whose objects (balloon, logger,
 *     metrics, MMDS, rate limiters...) are sent besides what SmartVM configures; null for none
 */
public record FirecrackerOptions(Path configFile) {
}

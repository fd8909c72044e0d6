package dev.smartvm.internal.host;

import java.io.File;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.CodeSource;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.ServiceLoader;
import java.util.Set;

/**
 * The command line of a helper JVM that runs one of this library's classes (the watchdog): this
 * JVM's own {@code java}, and a class path made of where this library and its dependencies were
 * loaded from, plus this JVM's class and module paths: an application on the module path, a test
 * runner's manifest-only jar and a plain class path all give the helper what it needs.
 */
public final class JavaCommand {
    /** A small heap, one GC thread, no optimizing compiler: a helper that mostly sleeps. */
    private static final List<String> LIGHT = List.of("-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-Xmx24m", "-Xms8m",
            "-Xss512k", "-XX:CICompilerCount=1", "-XX:ReservedCodeCacheSize=16m", "-XX:-UsePerfData", "-Xshare:auto");

    /** A class of each library this one uses, directly or through another (dnsjava logs through slf4j). */
    private static final List<String> DEPENDENCIES = List.of("com.fasterxml.jackson.databind.ObjectMapper",
            "com.fasterxml.jackson.core.JsonFactory", "com.fasterxml.jackson.annotation.JsonProperty",
            "org.apache.commons.compress.archivers.ArchiveEntry", "org.apache.commons.io.IOUtils",
            "org.apache.commons.lang3.StringUtils", "org.apache.commons.codec.binary.Hex", "org.xbill.DNS.Name",
            "org.slf4j.LoggerFactory");

    private JavaCommand() {
    }

    public static List<String> of(Class<?> main, List<String> args) {
        List<String> argv = new ArrayList<>();
        argv.add(ProcessHandle.current().info().command().orElse(Path.of(System.getProperty("java.home"), "bin", "java").toString()));
        argv.addAll(LIGHT);
        argv.add("-cp");
        argv.add(String.join(File.pathSeparator, classPath(main)));
        argv.add(main.getName());
        argv.addAll(args);
        return argv;
    }

    private static Set<String> classPath(Class<?> main) {
        Set<String> path = new LinkedHashSet<>();
        location(main.getProtectionDomain().getCodeSource()).ifPresent(path::add);
        for (String name : DEPENDENCIES) {
            try {
                Class<?> c = Class.forName(name, false, main.getClassLoader());
                location(c.getProtectionDomain().getCodeSource()).ifPresent(path::add);
            } catch (ClassNotFoundException | LinkageError e) {
                // not there: a dependency the helper does not reach
            }
        }
        for (var module : ServiceLoader.load(com.fasterxml.jackson.databind.Module.class, main.getClassLoader())) {
            location(module.getClass().getProtectionDomain().getCodeSource()).ifPresent(path::add); // java.time's, for records
        }
        for (String property : List.of("jdk.module.path", "java.class.path")) {
            String value = System.getProperty(property);
            if (value != null && !value.isBlank()) {
                for (String entry : value.split(File.pathSeparator)) {
                    if (!entry.isBlank() && Files.exists(Path.of(entry))) {
                        path.add(Path.of(entry).toAbsolutePath().toString());
                    }
                }
            }
        }
        return path;
    }

    private static java.util.Optional<String> location(CodeSource source) {
        if (source == null || source.getLocation() == null) {
            return java.util.Optional.empty();
        }
        try {
            return java.util.Optional.of(Path.of(source.getLocation().toURI()).toAbsolutePath().toString());
        } catch (URISyntaxException | IllegalArgumentException e) {
            return java.util.Optional.empty();
        }
    }
}

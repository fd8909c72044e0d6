package dev.smartvm.internal.image;

import dev.smartvm.ErrorCode;
import dev.smartvm.SmartVmException;
import dev.smartvm.internal.io.Downloads;
import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.xml.XMLConstants;
import javax.xml.parsers.DocumentBuilderFactory;
import javax.xml.parsers.ParserConfigurationException;
import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.NodeList;
import org.xml.sax.SAXException;

/**
 * Firecracker's public CI bucket (S3, ListObjectsV2): its build directories are
 * {@code firecracker-ci/<YYYYMMDD>-<commit>-<n>/<arch>/} today and {@code firecracker-ci/vX.Y/<arch>/}
 * in older releases. {@code latest} picks the newest dated build, {@code lts} the newest release
 * line; within it, the newest {@code vmlinux-<version>} and {@code ubuntu-<version>.squashfs}.
 */
final class FirecrackerCi {
    static final URI DEFAULT_BUCKET = URI.create("https://s3.amazonaws.com/spec.ccfc.min/");
    static final String ROOT = "firecracker-ci/";
    private static final Pattern DATED = Pattern.compile("(\\d{8})-([0-9a-f]+)-(\\d+)");
    private static final Pattern RELEASE = Pattern.compile("v(\\d+)\\.(\\d+)");
    private static final Pattern KERNEL = Pattern.compile("vmlinux-(\\d+(?:\\.\\d+)*)");
    private static final Pattern UBUNTU = Pattern.compile("ubuntu-(\\d+(?:\\.\\d+)*)\\.squashfs");

    private FirecrackerCi() {
    }

    /** One object of the bucket. */
    record S3Object(String key, long size) {
    }

    /** What a preset chose: the build directory, the kernel and the Ubuntu root filesystem. */
    record Selection(String build, S3Object kernel, String kernelVersion, S3Object rootfs, String ubuntuVersion) {
    }

    static Selection select(URI bucket, String preset, String arch, Path scratch) {
        List<String> builds = new ArrayList<>();
        for (String prefix : list(bucket, ROOT, true, scratch).prefixes()) {
            builds.add(prefix.substring(ROOT.length()).replaceAll("/$", ""));
        }
        List<String> candidates = switch (preset) {
            case "latest" -> builds.stream().filter(b -> DATED.matcher(b).matches())
                    .sorted(Comparator.comparing((String b) -> datedKey(b)).reversed()).toList();
            case "lts" -> builds.stream().filter(b -> RELEASE.matcher(b).matches())
                    .sorted(Comparator.comparing(FirecrackerCi::releaseKey).reversed()).toList();
            default -> throw new IllegalArgumentException(preset);
        };
        for (String build : candidates) {
            String dir = ROOT + build + "/" + arch + "/";
            List<S3Object> files = list(bucket, dir, false, scratch).objects();
            Optional<S3Object> kernel = newest(files, dir, KERNEL);
            Optional<S3Object> rootfs = newest(files, dir, UBUNTU);
            if (kernel.isPresent() && rootfs.isPresent()) {
                return new Selection(build, kernel.get(), version(kernel.get(), dir, KERNEL), rootfs.get(),
                        version(rootfs.get(), dir, UBUNTU));
            }
        }
        throw new SmartVmException(ErrorCode.IMAGE_NOT_FOUND, "Firecracker's CI bucket " + bucket + " has no " + preset
                + " build with a kernel and an Ubuntu squashfs for " + arch + " (builds seen: " + builds.size() + ")");
    }

    private static String datedKey(String build) {
        Matcher m = DATED.matcher(build);
        m.matches();
        return m.group(1) + String.format("%06d", Integer.parseInt(m.group(3)));
    }

    private static String releaseKey(String build) {
        Matcher m = RELEASE.matcher(build);
        m.matches();
        return String.format("%06d.%06d", Integer.parseInt(m.group(1)), Integer.parseInt(m.group(2)));
    }

    private static Optional<S3Object> newest(List<S3Object> files, String dir, Pattern name) {
        return files.stream().filter(o -> name.matcher(o.key().substring(dir.length())).matches())
                .max(Comparator.comparing(o -> versionKey(version(o, dir, name))));
    }

    private static String version(S3Object o, String dir, Pattern name) {
        Matcher m = name.matcher(o.key().substring(dir.length()));
        m.matches();
        return m.group(1);
    }

    /** 6.1.102 sorts after 6.1.99 and 5.10.223. */
    private static String versionKey(String v) {
        StringBuilder b = new StringBuilder();
        for (String part : v.split("\\.")) {
            b.append(String.format("%08d.", Long.parseLong(part)));
        }
        return b.toString();
    }

    private record Listing(List<String> prefixes, List<S3Object> objects) {
    }

    /** ListObjectsV2 under {@code prefix}, following continuation tokens; with a delimiter, the sub-directories. */
    private static Listing list(URI bucket, String prefix, boolean directories, Path scratch) {
        List<String> prefixes = new ArrayList<>();
        List<S3Object> objects = new ArrayList<>();
        String token = null;
        for (int page = 0; page < 1000; page++) {
            String query = "?list-type=2&prefix=" + enc(prefix) + (directories ? "&delimiter=%2F" : "")
                    + (token != null ? "&continuation-token=" + enc(token) : "");
            Path file = Downloads.get(bucket.resolve(query), scratch.resolve("listing.xml"), "");
            Element root = parse(file).getDocumentElement();
            for (Element e : children(root, "CommonPrefixes")) {
                prefixes.add(text(e, "Prefix"));
            }
            for (Element e : children(root, "Contents")) {
                objects.add(new S3Object(text(e, "Key"), Long.parseLong(text(e, "Size"))));
            }
            if (!"true".equals(text(root, "IsTruncated"))) {
                return new Listing(prefixes, objects);
            }
            token = text(root, "NextContinuationToken");
            if (token == null || token.isEmpty()) {
                throw new SmartVmException(ErrorCode.DOWNLOAD_FAILED, "the bucket listing is truncated but gives no continuation token");
            }
        }
        throw new SmartVmException(ErrorCode.DOWNLOAD_FAILED, "the bucket listing of " + prefix + " did not end after 1000 pages");
    }

    private static String enc(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8);
    }

    private static Document parse(Path xml) {
        try {
            DocumentBuilderFactory f = DocumentBuilderFactory.newInstance();
            f.setFeature(XMLConstants.FEATURE_SECURE_PROCESSING, true);
            f.setFeature("http://apache.org/xml/features/disallow-doctype-decl", true);
            f.setExpandEntityReferences(false);
            return f.newDocumentBuilder().parse(Files.newInputStream(xml));
        } catch (ParserConfigurationException | SAXException | IOException e) {
            throw new SmartVmException(ErrorCode.DOWNLOAD_FAILED, "the bucket answered something that is not a listing: "
                    + e.getMessage(), e);
        }
    }

    private static List<Element> children(Element parent, String name) {
        List<Element> out = new ArrayList<>();
        NodeList nodes = parent.getChildNodes();
        for (int i = 0; i < nodes.getLength(); i++) {
            if (nodes.item(i) instanceof Element e && e.getTagName().equals(name)) {
                out.add(e);
            }
        }
        return out;
    }

    private static String text(Element parent, String name) {
        List<Element> c = children(parent, name);
        return c.isEmpty() ? null : c.get(0).getTextContent().strip();
    }
}

package dev.smartvm.firecracker;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.networknt.schema.JsonSchemaFactory;
import com.networknt.schema.SpecVersion;
import com.networknt.schema.ValidationMessage;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;

/**
 * Firecracker's official OpenAPI spec from ../shared/specs, for contract tests: the definitions
 * made strict ({@code additionalProperties: false}, as Firecracker refuses unknown fields) and
 * validation of a payload by a JSON Schema validator.
 */
public final class FirecrackerApiSpec {
    private static final ObjectMapper JSON = new ObjectMapper();
    private final JsonNode document;
    private final JsonNode strictDefinitions;

    private FirecrackerApiSpec(JsonNode document) {
        this.document = document;
        ObjectNode strict = document.get("definitions").deepCopy();
        strict.fields().forEachRemaining(e -> {
            if (e.getValue().has("properties")) {
                ((ObjectNode) e.getValue()).put("additionalProperties", false);
            }
        });
        this.strictDefinitions = strict;
    }

    public static final String SEARCH_FROM = "smartvm.specs.from";

    public static FirecrackerApiSpec load(String file) {
        try {
            return new FirecrackerApiSpec(new ObjectMapper(new YAMLFactory()).readTree(file(file).toFile()));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * A file of ../shared/specs/firecracker, looked for above the directory the system property
     * {@value #SEARCH_FROM} names (how a fake Firecracker, which runs in its VM's directory, is
     * told where the tests run), else above the working directory.
     */
    public static Path file(String name) {
        for (Path dir = Path.of(System.getProperty(SEARCH_FROM, "")).toAbsolutePath(); dir != null; dir = dir.getParent()) {
            Path candidate = dir.resolve("shared/specs/firecracker").resolve(name);
            if (Files.isRegularFile(candidate)) {
                return candidate;
            }
        }
        throw new AssertionError("no shared/specs/firecracker/" + name + " above " + Path.of("").toAbsolutePath()
                + "; the contract tests need ../shared beside the checkout");
    }

    /** The operation object of {@code method} on {@code template}, or a missing node. */
    public JsonNode operation(String method, String template) {
        return document.path("paths").path(template).path(method.toLowerCase());
    }

    /** The schema of an operation's body parameter, or null when it takes no body. */
    public JsonNode bodySchema(String method, String template) {
        for (JsonNode p : operation(method, template).path("parameters")) {
            if (p.path("in").asText().equals("body")) {
                return p.get("schema");
            }
        }
        return null;
    }

    /** Validation errors of {@code payload} against {@code schema} (which may $ref the definitions). */
    public Set<ValidationMessage> validate(JsonNode schema, Object payload) {
        ObjectNode root = schema.deepCopy();
        root.set("definitions", strictDefinitions);
        return JsonSchemaFactory.getInstance(SpecVersion.VersionFlag.V4).getSchema(root).validate(JSON.valueToTree(payload));
    }

    /** Validation errors of {@code payload} against the definition {@code name}. */
    public Set<ValidationMessage> validateDefinition(String name, Object payload) {
        return validate(JSON.createObjectNode().put("$ref", "#/definitions/" + name), payload);
    }
}

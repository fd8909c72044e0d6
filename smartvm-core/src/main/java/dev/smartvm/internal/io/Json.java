package dev.smartvm.internal.io;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.smartvm.ErrorCode;
import dev.smartvm.SmartVmException;
import java.io.IOException;
import java.nio.file.Path;

/** The one configured Jackson mapper, and atomic JSON files. */
public final class Json {
    public static final ObjectMapper MAPPER = new ObjectMapper()
            .findAndRegisterModules()
            .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
            .enable(SerializationFeature.INDENT_OUTPUT);

    private Json() {
    }

    /** Writes a value as JSON through a temp file and an atomic rename. */
    public static void write(Path file, Object value) {
        try {
            AtomicFiles.write(file, MAPPER.writeValueAsBytes(value));
        } catch (IOException e) {
            throw new SmartVmException(ErrorCode.IO_ERROR, "cannot write " + file + ": " + e.getMessage(), e);
        }
    }

    /** {@code value} as compact JSON text. */
    public static String text(Object value) {
        try {
            return MAPPER.writer().without(SerializationFeature.INDENT_OUTPUT).writeValueAsString(value);
        } catch (IOException e) {
            throw new SmartVmException(ErrorCode.IO_ERROR, "cannot write JSON: " + e.getMessage(), e);
        }
    }

    /** The value in {@code file}, or {@code missing} when there is no such file. */
    public static <T> T readOr(Path file, com.fasterxml.jackson.core.type.TypeReference<T> type, T missing) {
        if (!java.nio.file.Files.isRegularFile(file)) {
            return missing;
        }
        try {
            return MAPPER.readValue(file.toFile(), type);
        } catch (IOException e) {
            throw new SmartVmException(ErrorCode.IO_ERROR, "cannot read " + file + ": " + e.getMessage(), e);
        }
    }

    public static <T> T read(Path file, Class<T> type) {
        try {
            return MAPPER.readValue(file.toFile(), type);
        } catch (IOException e) {
            throw new SmartVmException(ErrorCode.IO_ERROR, "cannot read " + file + ": " + e.getMessage(), e);
        }
    }
}

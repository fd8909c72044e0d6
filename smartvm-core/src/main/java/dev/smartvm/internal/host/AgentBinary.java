package dev.smartvm.internal.host;

import dev.smartvm.ErrorCode;
import dev.smartvm.SmartVmException;
import dev.smartvm.internal.io.Hashing;
import java.io.IOException;
import java.io.InputStream;

/** The static guest agent built by the smartvm-agent module, carried on the classpath. */
public final class AgentBinary {
    /** Outside any package, so that no module boundary hides it when core is a named module. */
    static final String RESOURCE = "META-INF/smartvm/smartvm-agent";
    private static volatile byte[] cached;
    private static volatile String cachedSha256;

    private AgentBinary() {
    }

    public static byte[] bytes() {
        byte[] b = cached;
        if (b == null) {
            try (InputStream in = AgentBinary.class.getClassLoader().getResourceAsStream(RESOURCE)) {
                if (in == null) {
                    throw new SmartVmException(ErrorCode.IMAGE_BUILD_FAILED, "the guest agent binary " + RESOURCE
                            + " is not on the classpath; build the smartvm-agent module (gcc and make are needed)");
                }
                b = in.readAllBytes();
            } catch (IOException e) {
                throw new SmartVmException(ErrorCode.IMAGE_BUILD_FAILED, "cannot read the guest agent: " + e.getMessage(), e);
            }
            cached = b;
        }
        return b;
    }

    /** Computed once: every VM start keys the default image on it. */
    public static String sha256() {
        String sha = cachedSha256;
        if (sha == null) {
            sha = Hashing.sha256(bytes());
            cachedSha256 = sha;
        }
        return sha;
    }
}

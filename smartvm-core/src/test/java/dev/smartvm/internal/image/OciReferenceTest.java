package dev.smartvm.internal.image;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class OciReferenceTest {
    private static final String DIGEST = "sha256:" + "ab".repeat(32);

    @Test
    void readsReferencesAsDockerDoes() {
        assertThat(OciReference.parse("alpine")).isEqualTo(new OciReference("docker.io", "library/alpine", "latest", null));
        assertThat(OciReference.parse("alpine").apiHost()).isEqualTo("registry-1.docker.io");
        assertThat(OciReference.parse("python:3.12-slim")).isEqualTo(new OciReference("docker.io", "library/python", "3.12-slim", null));
        assertThat(OciReference.parse("ghcr.io/org/tool:v1")).isEqualTo(new OciReference("ghcr.io", "org/tool", "v1", null));
        assertThat(OciReference.parse("localhost:5000/a/b")).isEqualTo(new OciReference("localhost:5000", "a/b", "latest", null));
        assertThat(OciReference.parse("127.0.0.1:5000/x@" + DIGEST)).isEqualTo(new OciReference("127.0.0.1:5000", "x", null, DIGEST));
        assertThat(OciReference.parse("127.0.0.1:5000/x@" + DIGEST).reference()).isEqualTo(DIGEST);
        assertThat(OciReference.parse("team/app:1.0@" + DIGEST).tag()).isEqualTo("1.0");
        assertThat(OciReference.parse("team/app").toString()).isEqualTo("docker.io/team/app:latest");
    }

    @Test
    void refusesWhatIsNoReference() {
        for (String bad : new String[] {"", "/abs/dir", "./dir", "UPPER/case", "a//b", "x@sha256:123", "x:tag with space",
                "host:99999999/x", "a:b:c"}) {
            assertThat(OciReference.tryParse(bad)).as(bad).isEmpty();
        }
        assertThatThrownBy(() -> OciReference.parse("Bad Ref")).hasMessageContaining("is not an image reference");
    }
}

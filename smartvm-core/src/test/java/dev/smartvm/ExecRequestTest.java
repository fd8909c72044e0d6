package dev.smartvm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Bad arguments to the request value are SmartVmExceptions, never a NullPointerException. */
class ExecRequestTest {
    private static void refused(Runnable r, String message) {
        assertThatThrownBy(r::run).isInstanceOf(SmartVmException.class).hasMessageContaining(message)
                .extracting(e -> ((SmartVmException) e).code()).isEqualTo(ErrorCode.INVALID_ARGUMENT);
    }

    @Test
    void nullsAreInvalidArguments() {
        refused(() -> ExecRequest.of((String) null), "must not be null");
        refused(() -> ExecRequest.of((String[]) null), "must not be null");
        refused(() -> ExecRequest.of("echo", null), "must not be null");
        refused(() -> ExecRequest.of((List<String>) null), "must not be null");
        refused(() -> ExecRequest.of(Arrays.asList("echo", null)), "must not be null");
        refused(() -> ExecRequest.shell(null), "must not be null");
        Map<String, String> env = new HashMap<>();
        env.put("K", null);
        refused(() -> new ExecRequest(List.of("true"), env, null, null, null, -1), "must not be null");
        refused(() -> ExecRequest.of("true").withEnv("K", null), "must not be null");
    }

    @Test
    void aGoodRequestKeepsItsWords() {
        assertThat(ExecRequest.of("echo", "a b").command()).containsExactly("echo", "a b");
        assertThat(ExecRequest.shell("exit 3").command()).containsExactly("sh", "-c", "exit 3");
    }
}

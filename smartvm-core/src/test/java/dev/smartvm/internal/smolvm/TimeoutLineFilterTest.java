package dev.smartvm.internal.smolvm;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** A streamed stderr loses smolvm's timeout line and nothing else, however its bytes arrive. */
class TimeoutLineFilterTest {
    private static String filtered(String stderr, boolean oneByteAtATime) throws IOException {
        InputStream raw = new ByteArrayInputStream(stderr.getBytes(StandardCharsets.UTF_8));
        InputStream source = !oneByteAtATime ? raw : new InputStream() {
            @Override
            public int read() throws IOException {
                return raw.read();
            }

            @Override
            public int read(byte[] b, int off, int len) throws IOException {
                return len == 0 ? 0 : raw.read(b, off, 1);
            }
        };
        return new String(new TimeoutLineFilter(source).readAllBytes(), StandardCharsets.UTF_8);
    }

    @Test
    void theLineIsDroppedAndTheRestKept() throws IOException {
        for (boolean slow : new boolean[] {false, true}) {
            assertThat(filtered("err\n\ncommand timed out after 2000ms\n", slow)).isEqualTo("err\n");
            assertThat(filtered("err\ncommand timed out after 2000ms", slow)).isEqualTo("err");
            assertThat(filtered("é\n\n\ncommand timed out after 5ms", slow)).isEqualTo("é\n\n");
        }
    }

    @Test
    void whatOnlyLooksLikeItPassesWhole() throws IOException {
        for (boolean slow : new boolean[] {false, true}) {
            for (String s : new String[] {"line\n", "a\ncommand timed out after 12ms and more\n", "\ncommand timed out after ms",
                "\ncommand timed out after 5ms\nmore", "\ncommand", "\ncommand timed out after 5ms\n\n", ""}) {
                assertThat(filtered(s, slow)).as(s).isEqualTo(s);
            }
        }
    }
}

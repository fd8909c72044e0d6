package dev.smartvm.kubernetes;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** The frames of a streamed exec's stdin, and the wrapper that reads them, run by this host's {@code sh}. */
class FramedStdinTest {
    @Test
    void bytesGoAsCountedFramesOnFlushAndTheEndOnceOnClose() throws IOException {
        ByteArrayOutputStream exec = new ByteArrayOutputStream();
        FramedStdin in = new FramedStdin(exec);
        in.write("ab".getBytes(StandardCharsets.US_ASCII));
        in.write('c');
        assertThat(exec.size()).as("kept until flushed").isZero();
        in.flush();
        in.flush(); // nothing kept: no empty frame
        in.write("0\n".getBytes(StandardCharsets.US_ASCII)); // data that looks like the end is counted, not read as it
        in.close();
        in.close();
        assertThat(exec.toString(StandardCharsets.US_ASCII)).isEqualTo("3\nabc2\n0\n0\n");
        assertThatThrownBy(() -> in.write('x')).isInstanceOf(IOException.class);
    }

    @Test
    void theWrapperGivesTheCommandExactlyTheBytesThenTheEndAndTheExecRunsOn() throws Exception {
        byte[] data = new byte[FramedStdin.MAX_FRAME * 2 + 12345]; // more than one whole frame
        new Random(7).nextBytes(data);
        System.arraycopy("\n0\n".getBytes(StandardCharsets.US_ASCII), 0, data, 100, 3);
        Process sh = new ProcessBuilder("/bin/sh", "-c", PodGuest.WRAPPER, "smartvm-exec", "/tmp", "0",
                PodGuest.FRAMED_STDIN, "sh", "-c", "cat; exit 4").start();
        CompletableFuture<byte[]> out = CompletableFuture.supplyAsync(() -> {
            try {
                return sh.getInputStream().readAllBytes();
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        });
        FramedStdin in = new FramedStdin(sh.getOutputStream()); // the exec's stream stays open after the end frame
        in.write(data, 0, 1000);
        in.flush();
        in.write(data, 1000, data.length - 1000);
        in.close();
        assertThat(out.get(30, TimeUnit.SECONDS)).isEqualTo(data);
        assertThat(sh.waitFor(30, TimeUnit.SECONDS)).isTrue();
        assertThat(sh.exitValue()).as("the command's, while the exec's own stdin is still open").isEqualTo(4);
        sh.getOutputStream().close();
    }
}

package dev.smartvm.cli;

import dev.smartvm.ErrorCode;
import dev.smartvm.SmartVmException;
import dev.smartvm.TerminalSize;
import java.io.FileDescriptor;
import java.io.FileInputStream;
import java.io.InputStream;
import java.util.function.Consumer;
import org.jline.nativ.CLibrary;
import org.jline.nativ.JLineNativeLoader;
import org.jline.utils.Signals;

/**
 * This process's terminal while a guest command has one of its own ({@code -t}): its size, its
 * resizes (SIGWINCH), and for {@code -i} raw mode, so every key (Ctrl-C, Ctrl-Z, arrows) reaches
 * the guest and the guest's terminal does the echoing. Through JLine's native library: the
 * termios is saved and restored whole, speed and line discipline included (JLine's portable
 * {@code Attributes} drop those). {@link #close()} restores it, and a shutdown hook does if the
 * JVM ends otherwise (SIGTERM, SIGHUP).
 */
final class HostTerminal implements AutoCloseable {
    private static final int STDIN = 0;
    private static final int STDOUT = 1;
    // Linux <termios.h>: what cfmakeraw(3) clears and sets
    private static final long RAW_IFLAG_OFF = 0001 | 0002 | 0010 | 0040 | 0100 | 0200 | 0400 | 02000; // IGNBRK..IXON
    private static final long OPOST = 0001;
    private static final long RAW_LFLAG_OFF = 0010 | 0100 | 0002 | 0001 | 0100000; // ECHO ECHONL ICANON ISIG IEXTEN
    private static final long CSIZE = 0060;
    private static final long PARENB = 0400;
    private static final long CS8 = 0060;
    private static final int VTIME = 5;
    private static final int VMIN = 6;

    private final CLibrary.Termios saved;
    private final Thread restoreOnExit;
    private Object resizeHandler;
    private boolean raw;
    private boolean closed;

    private HostTerminal(CLibrary.Termios saved) {
        this.saved = saved;
        restoreOnExit = new Thread(this::restore, "smartvm-terminal-restore");
        Runtime.getRuntime().addShutdownHook(restoreOnExit);
    }

    /**
     * This process's terminal, as it is until {@link #enterRawMode}.
     *
     * @throws SmartVmException INVALID_ARGUMENT when stdin or stdout is not a terminal
     */
    static HostTerminal open() {
        try {
            JLineNativeLoader.initialize();
        } catch (RuntimeException | LinkageError e) {
            throw new SmartVmException(ErrorCode.UNSUPPORTED, "-t needs JLine's native library, which does not load here: " + e);
        }
        CLibrary.Termios t = new CLibrary.Termios();
        if (CLibrary.isatty(STDIN) != 1 || CLibrary.isatty(STDOUT) != 1 || CLibrary.tcgetattr(STDIN, t) != 0) {
            throw new SmartVmException(ErrorCode.INVALID_ARGUMENT, "-t needs a terminal, and this process's input or"
                    + " output is not one; leave -t out to pipe the command's streams (-i passes stdin)");
        }
        return new HostTerminal(t);
    }

    TerminalSize size() {
        CLibrary.WinSize ws = new CLibrary.WinSize();
        if (CLibrary.ioctl(STDOUT, CLibrary.TIOCGWINSZ, ws) != 0 || ws.ws_col <= 0 || ws.ws_row <= 0) {
            return new TerminalSize(80, 24); // a terminal that does not say its size: the classic one
        }
        return new TerminalSize(ws.ws_col & 0xffff, ws.ws_row & 0xffff);
    }

    /** Calls {@code action} with the new size whenever the terminal is resized (SIGWINCH). */
    synchronized void onResize(Consumer<TerminalSize> action) {
        resizeHandler = Signals.register("WINCH", () -> action.accept(size()));
    }

    /** For {@code -i}, once the guest command starts (what comes before, such as a boot's progress, prints as usual). */
    synchronized void enterRawMode() {
        if (closed || raw) {
            return;
        }
        CLibrary.Termios t = copy(saved);
        t.c_iflag &= ~RAW_IFLAG_OFF;
        t.c_oflag &= ~OPOST;
        t.c_lflag &= ~RAW_LFLAG_OFF;
        t.c_cflag = (t.c_cflag & ~(CSIZE | PARENB)) | CS8;
        t.c_cc[VMIN] = 1;
        t.c_cc[VTIME] = 0;
        CLibrary.tcsetattr(STDIN, CLibrary.TCSANOW, t);
        raw = true;
    }

    private static CLibrary.Termios copy(CLibrary.Termios from) {
        CLibrary.Termios t = new CLibrary.Termios();
        t.c_iflag = from.c_iflag;
        t.c_oflag = from.c_oflag;
        t.c_cflag = from.c_cflag;
        t.c_lflag = from.c_lflag;
        t.c_cc = from.c_cc.clone();
        t.c_ispeed = from.c_ispeed;
        t.c_ospeed = from.c_ospeed;
        return t;
    }

    InputStream input() {
        return new FileInputStream(FileDescriptor.in);
    }

    private synchronized void restore() {
        if (closed) {
            return;
        }
        closed = true;
        if (resizeHandler != null) {
            Signals.unregister("WINCH", resizeHandler);
        }
        if (raw) {
            CLibrary.tcsetattr(STDIN, CLibrary.TCSANOW, saved);
        }
    }

    @Override
    public void close() {
        restore();
        try {
            Runtime.getRuntime().removeShutdownHook(restoreOnExit);
        } catch (IllegalStateException e) {
            // the JVM is shutting down: the hook runs (and finds the terminal restored)
        }
    }
}

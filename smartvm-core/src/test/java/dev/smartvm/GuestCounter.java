package dev.smartvm;

/**
 * A process in the guest that counts, ten times a second, into {@code /tmp/counter} (written to
 * a new file and renamed, so a reader never sees it half written): proof that a VM's processes
 * go on across a snapshot, a clone or a fork.
 */
final class GuestCounter {
    /** The shell command that starts it, detached from the exec that runs it. */
    static final String START = "setsid sh -c 'i=0; while true; do i=$((i+1)); echo $i > /tmp/counter.new;"
            + " mv /tmp/counter.new /tmp/counter; sleep 0.1; done' </dev/null >/dev/null 2>&1 &";

    private GuestCounter() {
    }

    /** Its last value; -1 before its first write. */
    static int value(MicroVm vm) {
        ExecResult r = vm.exec("cat", "/tmp/counter");
        return r.exitCode() != 0 ? -1 : Integer.parseInt(r.stdout().strip());
    }

    /** Waits until it has moved past {@code than} (it runs); its value then. */
    static int risesAbove(MicroVm vm, int than) throws InterruptedException {
        for (int i = 0; i < 100; i++) {
            int now = value(vm);
            if (now > than) {
                return now;
            }
            Thread.sleep(100);
        }
        throw new AssertionError("the counter of " + vm.name() + " stayed at " + than);
    }
}

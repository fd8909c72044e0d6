package dev.smartvm.cli;

import dev.smartvm.ErrorCode;
import dev.smartvm.MicroVm;
import dev.smartvm.SmartVm;
import dev.smartvm.SmartVmException;

/** Opens the SmartVm of $SMARTVM_HOME for one CLI command; notices go to stderr. */
final class Session {
    private Session() {
    }

    static SmartVm open() {
        return builder().build();
    }

    /** The builder {@link #open} uses, for commands that add to it. */
    static SmartVm.Builder builder() {
        return SmartVm.builder().notices(msg -> {
            System.err.println(msg);
            System.err.flush();
        });
    }

    static MicroVm find(SmartVm svm, String name) {
        return svm.get(name).orElseThrow(() -> new SmartVmException(ErrorCode.VM_NOT_FOUND,
                "no VM named '" + name + "'; 'smartvm ls' lists them"));
    }
}

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
        return SmartVm.builder().notices(msg -> {
            System.err.println(msg);
            System.err.flush();
        }).build();
    }

    static MicroVm find(SmartVm svm, String name) {
        return svm.get(name).orElseThrow(() -> new SmartVmException(ErrorCode.VM_NOT_FOUND,
                "no VM named '" + name + "'; 'smartvm ls' lists them"));
    }
}

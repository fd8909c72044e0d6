package dev.smartvm.cli;

import dev.smartvm.ErrorCode;
import dev.smartvm.MicroVm;
import dev.smartvm.SmartVm;
import dev.smartvm.SmartVmException;
import dev.smartvm.VmInfo;
import java.util.List;
import java.util.Optional;

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

    /**
     * The VM named {@code name}: by its name or id, else by a prefix of its id that no other
     * VM's id starts with (as docker finds containers).
     *
     * @throws SmartVmException VM_NOT_FOUND; INVALID_ARGUMENT for a prefix of several ids
     */
    static MicroVm find(SmartVm svm, String name) {
        Optional<MicroVm> exact = svm.get(name);
        if (exact.isPresent()) {
            return exact.get();
        }
        List<String> ids = name.isEmpty() ? List.of() : svm.list().stream().map(VmInfo::id).filter(id -> id.startsWith(name))
                .toList();
        if (ids.size() > 1) {
            throw new SmartVmException(ErrorCode.INVALID_ARGUMENT, "'" + name + "' starts the ids of " + ids.size()
                    + " VMs (" + String.join(", ", ids) + "); give more of the id, or the VM's name");
        }
        return ids.stream().findFirst().flatMap(svm::get).orElseThrow(() -> new SmartVmException(ErrorCode.VM_NOT_FOUND,
                "no VM named '" + name + "', and no VM id starts with it; 'smartvm ls' lists them"));
    }
}

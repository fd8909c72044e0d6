package dev.smartvm.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.smartvm.ErrorCode;
import dev.smartvm.MicroVm;
import dev.smartvm.SmartVm;
import dev.smartvm.SmartVmException;
import dev.smartvm.VmSpec;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** How a CLI argument names a VM: its name, its id, or a prefix of one id only. No VM boots. */
class SessionTest {
    @TempDir
    Path home;

    @Test
    void aVmIsFoundByNameIdOrUniquePrefixAndAPrefixOfSeveralIdsIsRefused() {
        try (SmartVm svm = SmartVm.builder().home(home).build()) {
            // 17 ids, 16 first hex digits: two start alike
            List<MicroVm> vms = IntStream.range(0, 17).mapToObj(i -> svm.create(VmSpec.builder().name("v" + i).build())).toList();
            Map<String, List<String>> byFirst = vms.stream().map(MicroVm::id)
                    .collect(Collectors.groupingBy(id -> id.substring(0, 1)));
            String shared = byFirst.entrySet().stream().filter(e -> e.getValue().size() > 1).findFirst().orElseThrow().getKey();

            assertThatThrownBy(() -> Session.find(svm, shared)).isInstanceOfSatisfying(SmartVmException.class, e -> {
                assertThat(e.code()).isEqualTo(ErrorCode.INVALID_ARGUMENT);
                assertThat(e.getMessage()).contains("'" + shared + "' starts the ids of " + byFirst.get(shared).size() + " VMs")
                        .contains(byFirst.get(shared)).contains("give more of the id, or the VM's name");
            });
            MicroVm one = vms.get(3);
            Map<String, MicroVm> found = List.of("v3", one.id(), one.id().substring(0, 11)).stream()
                    .collect(Collectors.toMap(Function.identity(), name -> Session.find(svm, name)));
            assertThat(found.values()).extracting(MicroVm::id).containsOnly(one.id());
            assertThatThrownBy(() -> Session.find(svm, "zz")).isInstanceOfSatisfying(SmartVmException.class,
                    e -> assertThat(e.code()).isEqualTo(ErrorCode.VM_NOT_FOUND));
            assertThatThrownBy(() -> Session.find(svm, "")).isInstanceOfSatisfying(SmartVmException.class,
                    e -> assertThat(e.code()).isEqualTo(ErrorCode.VM_NOT_FOUND));
        }
    }
}

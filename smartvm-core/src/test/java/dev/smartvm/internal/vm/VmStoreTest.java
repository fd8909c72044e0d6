package dev.smartvm.internal.vm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.smartvm.ErrorCode;
import dev.smartvm.SmartVmException;
import dev.smartvm.VmSpec;
import dev.smartvm.VmState;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class VmStoreTest {
    @TempDir
    Path vms;

    @Test
    void aRecordIsFoundByIdAndByNameAndNamesAreUnique() {
        VmStore store = new VmStore(vms);
        VmRecord r = store.create(VmSpec.builder().name("web").build(), 1, Instant.now());
        assertThat(store.find(r.id())).contains(r);
        assertThat(store.find("web")).contains(r);
        assertThatThrownBy(() -> store.create(VmSpec.builder().name("web").build(), 1, Instant.now()))
                .isInstanceOfSatisfying(SmartVmException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.NAME_IN_USE));
    }

    @Test
    void aSaveAfterAnotherProcessRemovedTheVmLeavesItRemoved() {
        VmStore holder = new VmStore(vms);
        VmRecord r = holder.create(VmSpec.builder().name("gone").build(), 1, Instant.now());
        new VmStore(vms).delete(r.id()); // 'smartvm rm' elsewhere

        holder.save(r.stopped("QEMU exited")); // a late reaper or owner

        assertThat(Files.exists(holder.dir(r.id()))).as("the directory is not made again").isFalse();
        assertThat(holder.all()).isEmpty();
    }

    @Test
    void aSaveReplacesTheRecordWhole() throws Exception {
        VmStore store = new VmStore(vms);
        VmRecord r = store.create(VmSpec.builder().build(), 1, Instant.now());
        store.save(r.withState(VmState.STOPPED));
        assertThat(store.load(r.id()).orElseThrow().state()).isEqualTo(VmState.STOPPED);
        try (var files = Files.list(store.dir(r.id()))) {
            assertThat(files.map(p -> p.getFileName().toString())).containsExactly("vm.json");
        }
    }
}

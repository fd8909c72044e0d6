package dev.smartvm.internal.qemu;

import static org.assertj.core.api.Assertions.assertThat;

import dev.smartvm.Acceleration;
import dev.smartvm.internal.image.ImageBundle;
import dev.smartvm.internal.net.PortMapping;
import dev.smartvm.spi.BootRequest;
import dev.smartvm.spi.TemplateClone;
import dev.smartvm.spi.TemplateMemory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.OptionalLong;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class QemuCommandLineTest {
    private static final Path DIR = Path.of("/h/vms/abc");
    private static final ImageBundle IMAGE = new ImageBundle("i", Path.of("/img/vmlinuz"), Path.of("/img/initramfs.cpio"), null, "");

    private static String after(List<String> argv, String flag) {
        return argv.get(argv.indexOf(flag) + 1);
    }

    @Test
    void buildsAMicrovmWithOnlyVirtioMmioDevices() {
        List<String> a = QemuCommandLine.build("qemu", new BootRequest("abc", DIR, IMAGE.boot(), 2, 512, Acceleration.TCG), OptionalLong.of(2096006));
        assertThat(a.get(0)).isEqualTo("qemu");
        assertThat(after(a, "-machine")).isEqualTo("microvm,accel=tcg,memory-backend=ram");
        assertThat(after(a, "-object")).as("always the memory object 'ram': saved states name it").isEqualTo(
                "memory-backend-ram,id=ram,size=512M");
        assertThat(a).contains("-nodefaults", "-no-user-config", "-no-reboot").doesNotContain("-cpu", "-drive");
        assertThat(after(a, "-smp")).isEqualTo("2");
        assertThat(after(a, "-m")).isEqualTo("512M");
        assertThat(after(a, "-kernel")).isEqualTo("/img/vmlinuz");
        assertThat(after(a, "-append")).contains("console=ttyS0", "panic=-1", "smartvm.vmid=abc", "tsc_early_khz=2096006");
        assertThat(a).contains("socket,id=agent,path=/h/vms/abc/agent.sock,server=on,wait=off",
                "virtserialport,chardev=agent,name=smartvm.agent", "chardev=qmp,mode=control");
        assertThat(String.join(" ", a)).doesNotContain("pci");
    }

    @Test
    void kvmUsesTheHostCpuAndNoTscHint() {
        List<String> a = QemuCommandLine.build("qemu", new BootRequest("abc", DIR, IMAGE.boot(), 1, 256, Acceleration.KVM), OptionalLong.of(1));
        assertThat(after(a, "-machine")).isEqualTo("microvm,accel=kvm,memory-backend=ram");
        assertThat(after(a, "-cpu")).isEqualTo("host");
        assertThat(after(a, "-append")).doesNotContain("tsc_early_khz");
    }

    @Test
    void aRootDiskIsAVirtioBlockDeviceTheAgentMounts() {
        ImageBundle withDisk = new ImageBundle("i", IMAGE.kernel(), IMAGE.initrd(), Path.of("/img/root.ext4"), "");
        List<String> a = QemuCommandLine.build("qemu", new BootRequest("abc", DIR, withDisk.boot(), 1, 256, Acceleration.TCG), OptionalLong.empty());
        assertThat(after(a, "-drive")).as("a writable disk is the VM's own overlay")
                .isEqualTo("id=root,file=" + DIR.resolve("root.qcow2") + ",format=qcow2,if=none");
        assertThat(a).contains("virtio-blk-device,drive=root");
        ImageBundle readOnly = new ImageBundle("i", IMAGE.kernel(), IMAGE.initrd(), Path.of("/img/root.ext4"), "ext4", true,
                null, "");
        assertThat(after(QemuCommandLine.build("qemu", new BootRequest("abc", DIR, readOnly.boot(), 1, 256, Acceleration.TCG),
                OptionalLong.empty()), "-drive")).isEqualTo("id=root,file=/img/root.ext4,format=raw,snapshot=on,if=none");
        assertThat(after(a, "-append")).contains("smartvm.root=/dev/vda").doesNotContain("tsc_early_khz");
    }

    @Test
    void aTemplateWritesItsMemoryToAFileThatItsClonesMapPrivately() {
        BootRequest boot = new BootRequest("abc", DIR, IMAGE.boot(), 1, 256, Acceleration.TCG);
        List<String> template = QemuCommandLine.build("qemu", boot.with(new TemplateMemory(Path.of("/t/a,b/memory"))),
                OptionalLong.empty());
        assertThat(after(template, "-object")).isEqualTo("memory-backend-file,id=ram,size=256M,mem-path=/t/a,,b/memory,share=on");
        assertThat(template).contains("-kernel").doesNotContain("-incoming");

        List<String> clone = QemuCommandLine.build("qemu", boot.with(new TemplateClone(Path.of("/t/x"), Path.of("/t/x/memory"))),
                OptionalLong.empty());
        assertThat(after(clone, "-object")).isEqualTo("memory-backend-file,id=ram,size=256M,mem-path=/t/x/memory,share=off");
        assertThat(clone).as("the kernel is in the template's memory").doesNotContain("-kernel", "-initrd", "-append");
        assertThat(String.join(" ", clone)).contains("-S -incoming defer");
        List<String> devices = new java.util.ArrayList<>(template);
        devices.removeAll(List.of("-kernel", IMAGE.kernel().toString(), "-initrd", IMAGE.initrd().toString(), "-append",
                after(template, "-append"), after(template, "-object"), "-S", "-incoming", "defer"));
        List<String> cloneDevices = new java.util.ArrayList<>(clone);
        cloneDevices.removeAll(List.of(after(clone, "-object"), "-S", "-incoming", "defer"));
        assertThat(cloneDevices).as("the same devices in the same order: the saved state loads only so").isEqualTo(devices);
    }

    @Test
    void readsTheHostTscRate(@TempDir Path dir) throws Exception {
        Path cpuinfo = Files.writeString(dir.resolve("cpuinfo"), "processor\t: 0\ncpu MHz\t\t: 2096.006\nflags\t: fpu\n");
        assertThat(HostClock.tscKhz(cpuinfo)).hasValue(2096006);
        assertThat(HostClock.tscKhz(Files.writeString(dir.resolve("none"), "processor: 0\n"))).isEmpty();
        assertThat(HostClock.tscKhz(dir.resolve("missing"))).isEmpty();
    }

    @Test
    void networkInterfacesInBothModes() {
        dev.smartvm.spi.NicSpec tap = new dev.smartvm.spi.NicSpec("sv0123456789abc", "02:aa:bb:cc:dd:ee",
                "ip=172.30.0.2::172.30.0.1:255.255.255.0::eth0:off");
        List<String> a = QemuCommandLine.build("qemu", new BootRequest("abc", DIR, IMAGE.boot(), 1, 256, Acceleration.TCG).withNic(tap),
                OptionalLong.empty());
        assertThat(String.join(" ", a)).contains("-netdev tap,id=net0,ifname=sv0123456789abc,script=no,downscript=no")
                .contains("-device virtio-net-device,netdev=net0,mac=02:aa:bb:cc:dd:ee")
                .contains("ip=172.30.0.2::172.30.0.1:255.255.255.0::eth0:off");
        dev.smartvm.spi.NicSpec user = new dev.smartvm.spi.NicSpec(null, "02:aa:bb:cc:dd:ee",
                "ip=10.0.2.15::10.0.2.2:255.255.255.0::eth0:off", Stream.of("8080:80", "0.0.0.0:9000:90", "5353:53/udp").map(p -> PortMapping.parse(p).forward()).toList());
        assertThat(QemuCommandLine.userNetdev(user)).isEqualTo("user,id=net0,net=10.0.2.0/24,host=10.0.2.2,restrict=on"
                + ",hostfwd=tcp:127.0.0.1:8080-:80,hostfwd=tcp:0.0.0.0:9000-:90,hostfwd=udp:127.0.0.1:5353-:53");
    }
}

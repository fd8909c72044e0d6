package dev.smartvm;

import java.util.List;
import java.util.function.Supplier;

/** {@link MicroVm#files()}: each call goes to the VM's guest as it is then (a stopped VM's calls fail clearly). */
final class VmFiles implements GuestFiles {
    private final Supplier<GuestFiles> guest;

    VmFiles(Supplier<GuestFiles> guest) {
        this.guest = guest;
    }

    @Override
    public byte[] readBytes(String path) {
        return guest.get().readBytes(path);
    }

    @Override
    public void write(String path, byte[] data) {
        guest.get().write(path, data);
    }

    @Override
    public List<FileEntry> list(String directory) {
        return guest.get().list(directory);
    }

    @Override
    public FileEntry stat(String path) {
        return guest.get().stat(path);
    }

    @Override
    public boolean exists(String path) {
        return guest.get().exists(path);
    }

    @Override
    public void mkdirs(String path) {
        guest.get().mkdirs(path);
    }

    @Override
    public void remove(String path, boolean recursive) {
        guest.get().remove(path, recursive);
    }

    @Override
    public void rename(String from, String to) {
        guest.get().rename(from, to);
    }

    @Override
    public FileWatch watch(String directory, boolean recursive) {
        return guest.get().watch(directory, recursive);
    }
}

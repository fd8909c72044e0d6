package dev.smartvm.cli;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.smartvm.ErrorCode;
import dev.smartvm.FileEntry;
import dev.smartvm.FileEvent;
import dev.smartvm.FileWatch;
import dev.smartvm.GuestFiles;
import dev.smartvm.SmartVm;
import dev.smartvm.SmartVmException;
import java.io.IOException;
import java.io.PrintStream;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "files", description = "Reads, writes, lists and watches a running VM's files (paths are absolute guest paths).",
        subcommands = {FilesCommand.Ls.class, FilesCommand.Stat.class, FilesCommand.Cat.class, FilesCommand.Write.class,
                FilesCommand.Mkdir.class, FilesCommand.Rm.class, FilesCommand.Mv.class, FilesCommand.Watch.class})
final class FilesCommand {
    private FilesCommand() {
    }

    /** Runs {@code action} on the named VM's files. */
    private abstract static class OnVm implements Callable<Integer> {
        @Parameters(index = "0", paramLabel = "VM")
        String vm;

        abstract int run(GuestFiles files) throws IOException;

        @Override
        public Integer call() throws IOException {
            try (SmartVm svm = Session.open()) {
                return run(Session.find(svm, vm).files());
            }
        }
    }

    /** One entry as {@code ls --json} and {@code stat --json} print it. */
    static ObjectNode json(FileEntry e) {
        ObjectNode o = CliJson.object();
        o.put("path", e.path());
        o.put("name", e.name());
        o.put("type", e.type().name().toLowerCase());
        o.put("size", e.size());
        o.put("mode", String.format("%04o", e.mode()));
        o.put("modified", e.modified().toString());
        if (e.type() == FileEntry.Type.SYMLINK) {
            o.put("linkTarget", e.linkTarget());
        }
        return o;
    }

    /** {@code ls -l} style: type and mode, size, time, name (-> target). */
    static String line(FileEntry e) {
        char t = switch (e.type()) {
            case DIRECTORY -> 'd';
            case SYMLINK -> 'l';
            case FILE -> '-';
            case OTHER -> '?';
        };
        StringBuilder mode = new StringBuilder().append(t);
        String rwx = "rwxrwxrwx";
        for (int i = 0; i < 9; i++) {
            mode.append((e.mode() & (1 << (8 - i))) != 0 ? rwx.charAt(i) : '-');
        }
        return String.format("%s %12d %s %s%s", mode, e.size(), e.modified().toString().replaceFirst("\\.\\d+Z$", "Z"),
                e.name(), e.type() == FileEntry.Type.SYMLINK ? " -> " + e.linkTarget() : "");
    }

    @Command(name = "ls", description = "Lists a directory: type and mode, size, modification time, name.")
    static final class Ls extends OnVm {
        @Parameters(index = "1", paramLabel = "DIR")
        String path;

        @Option(names = "--json", description = "An array of {path, name, type, size, mode, modified[, linkTarget]}.")
        boolean json;

        @Override
        int run(GuestFiles files) {
            List<FileEntry> entries = files.list(path);
            if (json) {
                ArrayNode a = CliJson.array();
                entries.forEach(e -> a.add(json(e)));
                System.out.println(CliJson.text(a));
            } else {
                entries.forEach(e -> System.out.println(line(e)));
            }
            return 0;
        }
    }

    @Command(name = "stat", description = "Describes one path (a symlink itself, not what it points to).")
    static final class Stat extends OnVm {
        @Parameters(index = "1", paramLabel = "PATH")
        String path;

        @Option(names = "--json", description = "One object, as in 'files ls --json'.")
        boolean json;

        @Override
        int run(GuestFiles files) {
            FileEntry e = files.stat(path);
            System.out.println(json ? CliJson.text(json(e)) : line(e));
            return 0;
        }
    }

    @Command(name = "cat", description = "Prints a guest file's bytes (at most 64 MiB: 'smartvm cp' copies larger ones).")
    static final class Cat extends OnVm {
        @Parameters(index = "1", paramLabel = "FILE")
        String path;

        @Override
        int run(GuestFiles files) throws IOException {
            PrintStream out = System.out;
            out.write(files.readBytes(path));
            out.flush();
            return 0;
        }
    }

    @Command(name = "write", description = {"Writes this process's stdin to a guest file (mode 0644), which it replaces whole",
            "once written; its directory must exist. At most 64 MiB: 'smartvm cp' copies larger ones."})
    static final class Write extends OnVm {
        @Parameters(index = "1", paramLabel = "FILE")
        String path;

        @Override
        int run(GuestFiles files) throws IOException {
            byte[] data = System.in.readNBytes((int) GuestFiles.MAX_READ + 1);
            if (data.length > GuestFiles.MAX_READ) {
                throw new SmartVmException(ErrorCode.INVALID_ARGUMENT, "stdin holds more than " + GuestFiles.MAX_READ
                        + " bytes; copy large files with 'smartvm cp'");
            }
            files.write(path, data);
            return 0;
        }
    }

    @Command(name = "mkdir", description = "Creates a directory and its missing parents (mkdir -p).")
    static final class Mkdir extends OnVm {
        @Parameters(index = "1", paramLabel = "DIR")
        String path;

        @Override
        int run(GuestFiles files) {
            files.mkdirs(path);
            return 0;
        }
    }

    @Command(name = "rm", description = "Removes a file, symlink or empty directory; -r a whole tree.")
    static final class Rm extends OnVm {
        @Parameters(index = "1", paramLabel = "PATH")
        String path;

        @Option(names = {"-r", "--recursive"}, description = "Remove a directory and everything under it.")
        boolean recursive;

        @Override
        int run(GuestFiles files) {
            files.remove(path, recursive);
            return 0;
        }
    }

    @Command(name = "mv", description = "Renames a guest path (rename(2): replaces a file at TO).")
    static final class Mv extends OnVm {
        @Parameters(index = "1", paramLabel = "FROM")
        String from;

        @Parameters(index = "2", paramLabel = "TO")
        String to;

        @Override
        int run(GuestFiles files) {
            files.rename(from, to);
            return 0;
        }
    }

    @Command(name = "watch", description = {"Prints a directory's changes as they happen (created, modified, deleted,",
            "moved_from, moved_to, overflow), one per line, until Ctrl-C or the directory goes away."})
    static final class Watch extends OnVm {
        @Parameters(index = "1", paramLabel = "DIR")
        String path;

        @Option(names = {"-r", "--recursive"}, description = "Also the directories under it, those made later included.")
        boolean recursive;

        @Option(names = "--json", description = "One JSON object a line: {event, path, directory}.")
        boolean json;

        @Override
        int run(GuestFiles files) {
            try (FileWatch w = files.watch(path, recursive)) {
                for (;;) {
                    FileEvent e = w.poll(Duration.ofSeconds(1));
                    if (e == null) {
                        if (!w.isOpen()) {
                            return 0;
                        }
                        continue;
                    }
                    String kind = e.kind().name().toLowerCase();
                    if (json) {
                        ObjectNode o = CliJson.object();
                        o.put("event", kind);
                        o.put("path", e.path());
                        o.put("directory", e.directory());
                        System.out.println(o.toString());
                    } else {
                        System.out.println(kind + " " + e.path() + (e.directory() ? "/" : ""));
                    }
                    System.out.flush();
                }
            }
        }
    }
}

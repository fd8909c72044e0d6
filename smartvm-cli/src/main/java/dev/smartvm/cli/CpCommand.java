package dev.smartvm.cli;

import dev.smartvm.ErrorCode;
import dev.smartvm.SmartVm;
import dev.smartvm.SmartVmException;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

@Command(name = "cp", description = {"Copies files or directory trees between the host and a VM.",
        "One side is NAME:/absolute/guest/path. Like cp -r: into DST when it is an existing directory."})
final class CpCommand implements Callable<Integer> {
    private static final Pattern GUEST = Pattern.compile("([A-Za-z0-9][A-Za-z0-9_.-]*):(/.*)");

    @Parameters(index = "0", paramLabel = "SRC")
    String source;

    @Parameters(index = "1", paramLabel = "DST")
    String destination;

    @Override
    public Integer call() {
        Matcher src = GUEST.matcher(source);
        Matcher dst = GUEST.matcher(destination);
        boolean fromGuest = src.matches();
        boolean toGuest = dst.matches();
        if (fromGuest == toGuest) {
            throw new SmartVmException(ErrorCode.INVALID_ARGUMENT,
                    "exactly one side of cp must be NAME:/guest/path; found '" + source + "' and '" + destination + "'");
        }
        try (SmartVm svm = Session.open()) {
            if (toGuest) {
                Session.find(svm, dst.group(1)).copyTo(Path.of(source), dst.group(2));
            } else {
                Session.find(svm, src.group(1)).copyFrom(src.group(2), Path.of(destination));
            }
            return 0;
        }
    }
}

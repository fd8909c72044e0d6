package dev.smartvm.internal.net;

import com.fasterxml.jackson.databind.JsonNode;
import dev.smartvm.ErrorCode;
import dev.smartvm.SmartVmException;
import dev.smartvm.internal.io.CommandRunner;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/** Applies nft scripts atomically ({@code nft -f}: all of a script or none of it). */
public final class Nft {
    static final Path NFT = Path.of("/usr/sbin/nft");

    private final CommandRunner runner;

    public Nft(CommandRunner runner) {
        this.runner = runner;
    }

    public static boolean available() {
        return Files.isExecutable(NFT);
    }

    /**
     * Removes the VM's chains one by one (a chain it never had, with no published port, is no
     * reason to stop), then its sets, which the chains' rules referred to.
     */
    public void removeVm(String vmId) {
        if (!available()) {
            return;
        }
        for (String line : NftRules.remove(vmId).split("\n")) {
            List<String> argv = new java.util.ArrayList<>(List.of(NFT.toString()));
            argv.addAll(List.of(line.split(" ")));
            runner.run(argv, null, Duration.ofSeconds(30));
        }
        for (String set : vmSets(vmId)) {
            String[] familyName = set.split(" ");
            runner.run(List.of(NFT.toString(), "delete", "set", familyName[0], NftRules.TABLE, familyName[1]), null,
                    Duration.ofSeconds(30));
        }
    }

    /** The VM's sets, as {@code FAMILY NAME}. */
    List<String> vmSets(String vmId) {
        List<String> sets = new java.util.ArrayList<>();
        for (String family : List.of("inet", "bridge")) {
            for (JsonNode item : tableItems(family)) {
                String name = item.path("set").path("name").asText("");
                if (name.startsWith(NftRules.chain(vmId) + "-")) {
                    sets.add(family + " " + name);
                }
            }
        }
        return sets;
    }

    /** The ids of the VMs with chains or sets in SmartVM's tables. */
    public java.util.Set<String> vmIds() {
        java.util.Set<String> ids = new java.util.TreeSet<>();
        if (!available()) {
            return ids;
        }
        java.util.regex.Pattern named = java.util.regex.Pattern.compile(NftRules.chain("([0-9a-f]{12})") + "(-.*)?");
        for (String family : List.of("inet", "bridge")) {
            for (JsonNode item : tableItems(family)) {
                JsonNode object = item.has("chain") ? item.get("chain") : item.path("set");
                var m = named.matcher(object.path("name").asText(""));
                if (m.matches()) {
                    ids.add(m.group(1));
                }
            }
        }
        return ids;
    }

    /** What SmartVM's table of {@code family} holds ({@code nft -j}'s items), or nothing without the table. */
    private List<JsonNode> tableItems(String family) {
        var r = runner.run(List.of(NFT.toString(), "-j", "list", "table", family, NftRules.TABLE), null, Duration.ofSeconds(30));
        if (r.exitCode() != 0) {
            return List.of(); // no such table
        }
        try {
            List<JsonNode> items = new java.util.ArrayList<>();
            dev.smartvm.internal.io.Json.MAPPER.readTree(r.stdout()).path("nftables").forEach(items::add);
            return items;
        } catch (IOException e) {
            return List.of();
        }
    }

    /** Deletes SmartVM's tables when no VM has chains in them any more. */
    public void deleteTablesIfEmpty() {
        if (!available()) {
            return;
        }
        for (String family : List.of("inet", "bridge")) {
            List<JsonNode> items = tableItems(family);
            if (!items.isEmpty() && items.stream().noneMatch(i -> i.has("chain"))) {
                runner.run(List.of(NFT.toString(), "delete", "table", family, NftRules.TABLE), null, Duration.ofSeconds(30));
            }
        }
    }

    public void apply(String script) {
        if (!available()) {
            throw new SmartVmException(ErrorCode.HOST_DEPENDENCY_MISSING, "egress rules need nftables: apt-get install nftables");
        }
        Path file = null;
        try {
            file = Files.createTempFile("smartvm-", ".nft");
            Files.writeString(file, script);
            runner.run(List.of(NFT.toString(), "-f", file.toString()), null, Duration.ofSeconds(30)).orThrow(ErrorCode.VMM_ERROR);
        } catch (IOException e) {
            throw new SmartVmException(ErrorCode.IO_ERROR, "cannot write an nft script: " + e.getMessage(), e);
        } finally {
            if (file != null) {
                try {
                    Files.deleteIfExists(file);
                } catch (IOException ignored) {
                    // a temp file
                }
            }
        }
    }
}

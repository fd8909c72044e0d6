package dev.smartvm;

import java.util.List;

/**
 * What a start would ask of its engine ({@link SmartVm#plan}): the VMM's command line and, for
 * an engine driven through an API (Firecracker), the requests in the order they would be sent.
 *
 * @param backend the engine
 * @param commandLine the VMM's command line
 * @param apiCalls the API requests after launch, in order; empty for an engine configured by
 *     its command line alone
 */
public record BootPlan(String backend, List<String> commandLine, List<ApiCall> apiCalls) {
    /** The VM id a plan shows. */
    public static final String PLANNED_ID = "planned";

    public BootPlan {
        commandLine = List.copyOf(commandLine);
        apiCalls = List.copyOf(apiCalls);
    }

    /**
     * One API request.
     *
     * @param body its JSON body, or null for none
     */
    public record ApiCall(String method, String path, String body) {
    }
}

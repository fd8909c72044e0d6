package dev.smartvm.firecracker;

/**
 * For a plan ({@code SmartVm.plan(spec, new FirecrackerTarget(version))}): the Firecracker release
 * to plan for instead of the installed one, whose API may lack fields a newer one has.
 */
public record FirecrackerTarget(FirecrackerVersion version) {
}

package dev.smartvm.internal.image;

import java.util.List;
import java.util.Map;

/**
 * What an image says every command should get unless the command or the VM says otherwise: the
 * OCI config's Env, WorkingDir, User (as a uid) and Entrypoint + Cmd.
 *
 * @param uid the user to run as, or -1 for root
 * @param command the image's default command (Entrypoint then Cmd), empty when none
 */
public record ExecDefaults(Map<String, String> env, String workdir, int uid, List<String> command) {
    public static final ExecDefaults NONE = new ExecDefaults(Map.of(), null, -1, List.of());

    public ExecDefaults {
        env = env == null ? Map.of() : Map.copyOf(env);
        command = command == null ? List.of() : List.copyOf(command);
    }
}

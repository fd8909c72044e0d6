package dev.smartvm;

import dev.smartvm.backend.Backend;
import dev.smartvm.image.ImageStore;
import java.util.function.Consumer;
import java.util.function.UnaryOperator;

/** What a {@link MicroVm} needs from the {@link SmartVm} that made or found it. */
record VmContext(VmStore store, Backend backend, ImageStore images, UnaryOperator<Acceleration> accelerations,
        Consumer<MicroVm> released) {
}

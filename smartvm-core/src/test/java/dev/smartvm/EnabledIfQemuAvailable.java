package dev.smartvm;

import dev.smartvm.internal.qemu.QemuBackend;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;
import org.junit.jupiter.api.extension.ConditionEvaluationResult;
import org.junit.jupiter.api.extension.ExecutionCondition;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.ExtensionContext;

/** Runs real-VM tests only where QEMU is installed; otherwise skips them saying why. */
@Target({ElementType.TYPE, ElementType.METHOD})
@Retention(RetentionPolicy.RUNTIME)
@ExtendWith(EnabledIfQemuAvailable.Condition.class)
public @interface EnabledIfQemuAvailable {
    final class Condition implements ExecutionCondition {
        @Override
        public ConditionEvaluationResult evaluateExecutionCondition(ExtensionContext context) {
            return QemuBackend.findQemu().isPresent()
                    ? ConditionEvaluationResult.enabled("qemu-system-x86_64 is installed")
                    : ConditionEvaluationResult.disabled("qemu-system-x86_64 is not installed (bin/test installs it)");
        }
    }
}

/**
 * SmartVM: disposable microVMs for the JVM. The API is {@code dev.smartvm}; engine authors
 * implement {@code dev.smartvm.spi}; {@code dev.smartvm.firecracker} holds Firecracker's public
 * extras. Everything under {@code dev.smartvm.internal} is the implementation and is not exported.
 */
module dev.smartvm {
    exports dev.smartvm;
    exports dev.smartvm.spi;
    exports dev.smartvm.firecracker;

    requires com.fasterxml.jackson.databind;
    requires java.net.http;
    requires java.xml;
    requires org.apache.commons.compress;
    requires org.dnsjava;

    // Json.MAPPER registers the modules it finds (java.time types, in the stored VM records)
    uses com.fasterxml.jackson.databind.Module;
    // engines in jars of their own (the kubernetes backend)
    uses dev.smartvm.spi.BackendProvider;

    // stored records and wire payloads are read and written by Jackson
    opens dev.smartvm to com.fasterxml.jackson.databind;
    opens dev.smartvm.firecracker to com.fasterxml.jackson.databind;
    opens dev.smartvm.internal.firecracker to com.fasterxml.jackson.databind;
    opens dev.smartvm.internal.image to com.fasterxml.jackson.databind;
    opens dev.smartvm.internal.io to com.fasterxml.jackson.databind;
    opens dev.smartvm.internal.net to com.fasterxml.jackson.databind;
    opens dev.smartvm.internal.qemu to com.fasterxml.jackson.databind;
    opens dev.smartvm.internal.smolvm to com.fasterxml.jackson.databind;
    opens dev.smartvm.internal.vm to com.fasterxml.jackson.databind;
}

package dev.smartvm.cli;

import dev.smartvm.NameResolver;
import java.net.InetAddress;

/**
 * Run by {@link CliJarIT} with only the CLI jar (and this class) on the classpath: resolves a
 * name with the JDK's resolver and with the egress rules' resolver, and prints both.
 */
public final class LookupName {
    private LookupName() {
    }

    public static void main(String[] args) throws Exception {
        System.out.println("jdk " + InetAddress.getByName(args[0]).getHostAddress());
        System.out.println("egress " + NameResolver.system().resolve(args[0]).addresses());
    }
}

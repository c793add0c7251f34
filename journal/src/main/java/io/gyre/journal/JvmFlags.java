package io.gyre.journal;

import java.util.List;

/**
 * The flags every JVM running Gyre needs on Java 17: Agrona's export and open, Chronicle Queue's exports
 * and opens, and no Chronicle analytics (no traffic may leave the machine). Code that starts a JVM uses
 * this list; the launcher script, the root pom ({@code gyre.jvm.flags}) and the benchmarks' {@code @Fork}
 * annotation (which needs constants) repeat it and must stay in step.
 */
public final class JvmFlags
{
    public static final List<String> REQUIRED = List.of(
        "--add-exports=java.base/jdk.internal.misc=ALL-UNNAMED",
        "--add-opens=java.base/java.util.zip=ALL-UNNAMED",
        "--add-exports=java.base/jdk.internal.ref=ALL-UNNAMED",
        "--add-exports=java.base/sun.nio.ch=ALL-UNNAMED",
        "--add-opens=java.base/java.lang.reflect=ALL-UNNAMED",
        "-Dchronicle.analytics.disable=true");

    private JvmFlags()
    {
    }
}

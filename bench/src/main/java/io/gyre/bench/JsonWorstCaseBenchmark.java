package io.gyre.bench;

import io.gyre.engine.TaskFailure;
import io.gyre.engine.TaskHandler;
import io.gyre.tasks.json.JsonTaskHandlers;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;

/**
 * The most a small payload can ask of a JSON task type, the handler alone on one thread (as
 * {@link TransformBenchmark#executeOnly}, a failure counted rather than thrown): what deciding a task's
 * execution mode from its payload is about, since an inline task holds the engine's ring for as long as it runs.
 * Each payload is the worst of its kind that fits its size, default settings (max-copied-values 65,536):
 * <ul>
 *   <li>{@code set-4096}: 4 KiB of values put into one object.</li>
 *   <li>{@code move-4096}: a 1,000-element array and moves from its head to its end (every one shifts it).</li>
 *   <li>{@code copy-1600}: 40 copies of {@code /a} into {@code /a/0}, each doubling it: fails at max-copied-values.</li>
 *   <li>{@code inject-N}: the input an array of zeros, and refs each copying the whole of it, split so that a
 *       payload of N bytes copies the most values, the array counted (256 bytes: 14 refs of 61 values, 854 copied;
 *       512: 28 of 126, 3,528; 1,024: 56 of 256, 14,336; 4,096: 209 of 1,049, more than max-copied-values allows,
 *       so it fails).</li>
 *   <li>{@code inject-4096-ok}: 64 refs copying a 1,000-value input whole, just under max-copied-values (64,064): succeeds,
 *       with as many values written.</li>
 * </ul>
 * <pre>
 * java $FLAGS -jar bench/target/benchmarks.jar JsonWorstCaseBenchmark -f 1 -wi 3 -i 5 -w 1 -r 1
 * </pre>
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
public class JsonWorstCaseBenchmark extends AbstractBenchmark
{
    /**
     * A handler and a context holding the payload.
     */
    @State(Scope.Thread)
    public static class Payload
    {
        @Param({"set-4096", "move-4096", "copy-1600", "inject-256", "inject-512", "inject-1024", "inject-4096", "inject-4096-ok"})
        String payload;

        TaskHandler handler;
        TransformBenchmark.OutputSink context;
        long failures;

        @Setup(Level.Trial)
        public void open()
        {
            final String type = payload.startsWith("set") ? "set" : payload.startsWith("inject") ? "inject" : "transform";
            handler = JsonTaskHandlers.all().stream().filter(h -> h.type().equals(type)).findFirst().orElseThrow();
            final byte[] bytes = payload(payload).getBytes(StandardCharsets.UTF_8);
            if (bytes.length > (payload.startsWith("inject-") && !payload.endsWith("-ok") ? Integer.parseInt(payload.substring(7)) : 4096))
            {
                throw new IllegalStateException(payload + " is " + bytes.length + " bytes");
            }
            context = new TransformBenchmark.OutputSink(bytes);
        }
    }

    static String payload(final String name)
    {
        final StringBuilder text = new StringBuilder();
        switch (name)
        {
            case "set-4096":
                text.append("{\"values\":{");
                for (int i = 0; text.length() < 4080; i++)
                {
                    text.append(i == 0 ? "" : ",").append("\"/a").append(i).append("\":0");
                }
                return text.append("}}").toString();
            case "move-4096":
                text.append("{\"input\":{\"a\":[0");
                for (int i = 1; i < 1000; i++)
                {
                    text.append(",0");
                }
                text.append("]},\"ops\":[");
                for (int i = 0; text.length() < 4040; i++)
                {
                    text.append(i == 0 ? "" : ",").append("{\"op\":\"move\",\"from\":\"/a/0\",\"path\":\"/a/-\"}");
                }
                return text.append("]}").toString();
            case "copy-1600":
                text.append("{\"input\":{\"a\":[0]},\"ops\":[");
                for (int i = 0; i < 40; i++)
                {
                    text.append(i == 0 ? "" : ",").append("{\"op\":\"copy\",\"from\":\"/a\",\"path\":\"/a/0\"}");
                }
                return text.append("]}").toString();
            case "inject-4096-ok":
                return inject(1000, 64);
            default:
            {
                // of every split of the bytes between values (2 bytes each) and refs (7 to 9), the one copying most
                final int size = Integer.parseInt(name.substring("inject-".length()));
                String best = null;
                long most = 0;
                for (int values = 1; values < size / 2; values++)
                {
                    int refs = 0;
                    while (inject(values, refs + 1).length() <= size)
                    {
                        refs++;
                    }
                    if (refs > 0 && (long)refs * (values + 1) > most)
                    {
                        most = (long)refs * (values + 1);
                        best = inject(values, refs);
                    }
                }
                return best;
            }
        }
    }

    private static String inject(final int values, final int refs)
    {
        final StringBuilder text = new StringBuilder("{\"input\":[0");
        for (int i = 1; i < values; i++)
        {
            text.append(",0");
        }
        text.append("],\"refs\":{");
        for (int i = 0; i < refs; i++)
        {
            text.append(i == 0 ? "" : ",").append("\"/").append(i).append("\":\"\"");
        }
        return text.append("}}").toString();
    }

    @Benchmark
    public long execute(final Payload p) throws Exception
    {
        try
        {
            p.handler.execute(p.context);
        }
        catch (final TaskFailure ex)
        {
            p.failures++;
        }
        return p.context.length + p.failures;
    }
}

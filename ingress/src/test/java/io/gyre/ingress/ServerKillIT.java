package io.gyre.ingress;

import io.gyre.engine.TaskState;
import io.gyre.ingress.client.ClientConfig;
import io.gyre.ingress.client.GyreClient;
import io.gyre.ingress.client.Submission;
import io.gyre.ingress.client.TaskResult;
import io.gyre.ingress.client.TaskStatusReply;
import io.gyre.ingress.cli.GyreCommand;
import io.gyre.journal.JvmFlags;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@code gyre serve} in a child JVM, killed with SIGKILL at random moments under load and restarted on
 * the same journal and port, while a client keeps submitting and resubmits what was unanswered: every key
 * gets exactly one outcome, and it is the one recorded (resubmitting any key afterwards returns it, with
 * the same task id).
 */
class ServerKillIT
{
    private static final int KEYS = 30_000;
    private static final int KILLS = 3;

    @TempDir
    Path dir;

    @Test
    void everyKeyGetsExactlyOneOutcomeAcrossKills() throws Exception
    {
        final long seed = Long.getLong("kill.seed", System.nanoTime());
        System.out.println("ServerKillIT seed=" + seed);
        final Random random = new Random(seed);
        final int port = freePort();
        final Path journal = dir.resolve("journal");
        final Path log = dir.resolve("serve.log");
        Process server = start(journal, port, log);

        final AtomicInteger done = new AtomicInteger();
        final List<CompletableFuture<TaskResult>> results = new ArrayList<>(KEYS);
        try (GyreClient client = GyreClient.connect(ClientConfig.builder().port(port)
            .reconnectDelays(Duration.ofMillis(20), Duration.ofMillis(250))
            .requestTimeout(Duration.ofSeconds(120))
            .reconnectGiveUp(Duration.ofSeconds(60))
            .maxPending(4096)
            .build()))
        {
            final Thread submitter = new Thread(() ->
            {
                for (int i = 0; i < KEYS; i++)
                {
                    final CompletableFuture<TaskResult> f = client.submit(Submission.of("kill-" + i, "echo").payload("v" + i));
                    f.thenRun(done::incrementAndGet);
                    synchronized (results)
                    {
                        results.add(f);
                    }
                }
            }, "submitter");
            submitter.start();

            for (int kill = 0; kill < KILLS; kill++)
            {
                final int at = (kill + 1) * KEYS / (KILLS + 2) + random.nextInt(KEYS / (KILLS + 2));
                final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
                while (done.get() < at && System.nanoTime() < deadline)
                {
                    Thread.sleep(1);
                }
                Thread.sleep(random.nextInt(20));
                final int before = done.get();
                server.destroyForcibly(); // SIGKILL
                server.waitFor(10, TimeUnit.SECONDS);
                System.out.println("ServerKillIT: killed the server with " + before + " of " + KEYS + " answered");
                Thread.sleep(random.nextInt(300));
                server = start(journal, port, log);
            }
            submitter.join(120_000);

            for (int i = 0; i < KEYS; i++)
            {
                final TaskResult r = results.get(i).get(120, TimeUnit.SECONDS);
                assertThat(r.key()).isEqualTo("kill-" + i);
                assertThat(r.state()).as(r.toString()).isEqualTo(TaskState.SUCCEEDED);
                assertThat(r.outputAsString()).isEqualTo("v" + i);
            }

            // the outcome each key got is the recorded one: resubmitting returns it, same task, nothing runs
            final List<CompletableFuture<TaskResult>> again = new ArrayList<>(KEYS);
            for (int i = 0; i < KEYS; i++)
            {
                again.add(client.submit(Submission.of("kill-" + i, "echo").payload("other")));
            }
            int duplicatesInFirstPass = 0;
            for (int i = 0; i < KEYS; i++)
            {
                final TaskResult first = results.get(i).join();
                final TaskResult second = again.get(i).get(60, TimeUnit.SECONDS);
                assertThat(second.duplicate()).as(second.toString()).isTrue();
                assertThat(second.taskId()).as("task of kill-" + i).isEqualTo(first.taskId());
                assertThat(second.outputAsString()).isEqualTo("v" + i);
                duplicatesInFirstPass += first.duplicate() ? 1 : 0;
            }
            for (int i = 0; i < KEYS; i += 997)
            {
                final TaskStatusReply status = client.blocking().status("kill-" + i);
                assertThat(status.state()).isEqualTo(TaskState.SUCCEEDED);
                assertThat(status.taskId()).isEqualTo(results.get(i).join().taskId());
            }
            System.out.println("ServerKillIT: " + KEYS + " keys, " + KILLS + " kills, " + duplicatesInFirstPass +
                " first answers were recorded outcomes returned after a resend");
        }
        finally
        {
            server.destroy();
            if (!server.waitFor(20, TimeUnit.SECONDS))
            {
                server.destroyForcibly();
            }
        }
    }

    private static Process start(final Path journal, final int port, final Path log) throws IOException, InterruptedException
    {
        final long mark = Files.exists(log) ? Files.size(log) : 0;
        final List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.addAll(JvmFlags.REQUIRED);
        command.add("-Xmx1g");
        command.add("-cp");
        command.add(System.getProperty("java.class.path"));
        command.add(GyreCommand.class.getName());
        command.addAll(List.of("serve", "--journal", journal.toString(), "--port", Integer.toString(port), "--monitor-port", "0"));
        final Process process = new ProcessBuilder(command)
            .redirectErrorStream(true)
            .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()))
            .start();
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (System.nanoTime() < deadline)
        {
            final String text = Files.readString(log).substring((int)mark);
            if (text.contains("gyre serving on"))
            {
                return process;
            }
            if (!process.isAlive())
            {
                throw new IllegalStateException("gyre serve exited " + process.exitValue() + ":\n" + text);
            }
            Thread.sleep(20);
        }
        throw new IllegalStateException("gyre serve did not start:\n" + Files.readString(log));
    }

    private static int freePort() throws IOException
    {
        try (ServerSocket socket = new ServerSocket(0))
        {
            return socket.getLocalPort();
        }
    }
}

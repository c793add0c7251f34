package io.gyre.ingress;

import io.gyre.engine.Engine;
import io.gyre.engine.EngineConfig;
import io.gyre.engine.ExecutionMode;
import io.gyre.engine.TaskContext;
import io.gyre.engine.TaskHandler;
import io.gyre.engine.TaskState;
import io.gyre.ingress.client.ClientConfig;
import io.gyre.ingress.client.GyreClient;
import io.gyre.ingress.client.Submission;
import io.gyre.ingress.client.TaskResult;
import io.gyre.ingress.server.GyreServer;
import io.gyre.ingress.server.ServerConfig;
import io.gyre.ingress.testing.LeakCheck;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * What the client's own resend, after a reconnect, looks like to its caller: a submission the server had
 * acknowledged (ACCEPTED) is still one acceptance and its task's own outcome, whether the resend finds the task
 * running (a second ACCEPTED, then its RESULT) or finished while the client was away (a {@code DUPLICATE} RESULT of
 * the same task id). An outside check found {@code onAccepted} called twice per key and {@code duplicate()} true
 * for the submissions that had run the tasks, after a server was killed and restarted.
 */
@ExtendWith(LeakCheck.class)
class ClientResendTest
{
    private static final int KEYS = 4;

    @TempDir
    Path dir;

    private final List<AutoCloseable> toClose = new ArrayList<>();
    /** Held by the tasks of payload "done" (finished, on the restarted engine, before the client is back). */
    private volatile CountDownLatch doneGate = new CountDownLatch(1);
    /** Held by the tasks of payload "runs-on" (still running when the client is back). */
    private volatile CountDownLatch runsOnGate = new CountDownLatch(1);

    @AfterEach
    void closeAll() throws Exception
    {
        doneGate.countDown();
        runsOnGate.countDown();
        for (int i = toClose.size() - 1; i >= 0; i--)
        {
            toClose.get(i).close();
        }
    }

    private Engine openEngine()
    {
        return Engine.open(EngineConfig.builder(dir.resolve("journal"))
            .closeTimeout(Duration.ofMillis(200))
            .blockingPoolThreads(2 * KEYS)
            .handler(new TaskHandler()
            {
                @Override
                public String type()
                {
                    return "gated";
                }

                @Override
                public ExecutionMode executionMode()
                {
                    return ExecutionMode.BLOCKING;
                }

                @Override
                public void execute(final TaskContext context) throws Exception
                {
                    final String which = context.payload().getStringWithoutLengthUtf8(0, context.payloadLength());
                    (which.equals("done") ? doneGate : runsOnGate).await(30, TimeUnit.SECONDS);
                    context.succeed(context.payload(), 0, context.payloadLength());
                }
            })
            .build());
    }

    private GyreClient client(final int port)
    {
        final GyreClient client = GyreClient.connect(ClientConfig.builder().port(port)
            .reconnectDelays(Duration.ofMillis(20), Duration.ofMillis(200)).build());
        toClose.add(client);
        return client;
    }

    @Test
    void aResentSubmissionIsAcceptedOnceAndItsOwnTaskIsNotADuplicate() throws Exception
    {
        final Engine first = openEngine();
        final GyreServer firstServer = GyreServer.start(first, ServerConfig.builder().port(0).closeTimeout(Duration.ZERO).build());
        final int port = firstServer.address().getPort();
        final GyreClient client = client(port);

        final Map<String, List<Long>> accepted = new ConcurrentHashMap<>();
        final Map<String, CompletableFuture<TaskResult>> results = new ConcurrentHashMap<>();
        for (int i = 0; i < KEYS; i++)
        {
            for (final String which : List.of("done", "runs-on"))
            {
                final String key = which + "-" + i;
                final List<Long> ids = new CopyOnWriteArrayList<>();
                accepted.put(key, ids);
                results.put(key, client.submit(Submission.of(key, "gated").payload(which).onAccepted(ids::add)));
            }
        }
        await().atMost(Duration.ofSeconds(10)).until(() -> accepted.values().stream().allMatch(ids -> ids.size() == 1));

        // the server goes away with every task journaled and unfinished (their attempts interrupted)
        first.close();
        firstServer.close();
        assertThat(results.values()).noneMatch(CompletableFuture::isDone);

        // restarted on the same journal: the "done" tasks finish before the client can reach it again
        doneGate = new CountDownLatch(0);
        runsOnGate = new CountDownLatch(1);
        final Engine second = openEngine();
        toClose.add(second);
        await().atMost(Duration.ofSeconds(10)).until(() ->
        {
            for (int i = 0; i < KEYS; i++)
            {
                if (second.status("done-" + i).get().state() != TaskState.SUCCEEDED)
                {
                    return false;
                }
            }
            return true;
        });
        final GyreServer secondServer = GyreServer.start(second, ServerConfig.builder().port(port).build());
        toClose.add(secondServer);

        // the client resends all eight: the "done" ones get their recorded outcomes, the "runs-on" ones join their tasks
        for (int i = 0; i < KEYS; i++)
        {
            final String key = "done-" + i;
            final TaskResult result = results.get(key).get(10, TimeUnit.SECONDS);
            assertThat(result.succeeded()).as(key).isTrue();
            assertThat(result.taskId()).as(key).isEqualTo(accepted.get(key).get(0));
            assertThat(result.duplicate()).as(key + ": this submission ran it").isFalse();
            assertThat(result.outputAsString()).isEqualTo("done");
        }
        await().atMost(Duration.ofSeconds(10)).until(() -> secondServer.inFlight() == KEYS);
        runsOnGate.countDown();
        for (int i = 0; i < KEYS; i++)
        {
            final String key = "runs-on-" + i;
            final TaskResult result = results.get(key).get(10, TimeUnit.SECONDS);
            assertThat(result.succeeded()).as(key).isTrue();
            assertThat(result.taskId()).as(key).isEqualTo(accepted.get(key).get(0));
            assertThat(result.duplicate()).as(key).isFalse();
        }
        // an ACCEPTED always comes before its RESULT: every one has arrived by now
        accepted.forEach((key, ids) -> assertThat(ids).as("onAccepted of " + key).hasSize(1));

        // a submission of its own, by another client or by the same one, of a key already run is a duplicate
        final GyreClient other = client(port);
        final List<Long> otherAccepted = new CopyOnWriteArrayList<>();
        final TaskResult again = other.blocking().submit(Submission.of("done-0", "gated").payload("done").onAccepted(otherAccepted::add));
        assertThat(again.duplicate()).isTrue();
        assertThat(again.taskId()).isEqualTo(accepted.get("done-0").get(0));
        assertThat(otherAccepted).isEmpty();
        final TaskResult sameClientAgain = client.blocking().submit(Submission.of("runs-on-0", "gated").payload("runs-on"));
        assertThat(sameClientAgain.duplicate()).isTrue();
        assertThat(sameClientAgain.taskId()).isEqualTo(accepted.get("runs-on-0").get(0));
    }
}

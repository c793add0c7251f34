package io.gyre.ingress;

import io.gyre.engine.DeadLetter;
import io.gyre.engine.DeadLetterDetails;
import io.gyre.engine.DeadLetterPage;
import io.gyre.engine.DeadLetterReason;
import io.gyre.engine.Engine;
import io.gyre.engine.EngineConfig;
import io.gyre.engine.Priority;
import io.gyre.engine.PurgeResult;
import io.gyre.engine.RedriveOutcome;
import io.gyre.engine.RedriveResult;
import io.gyre.engine.TaskContext;
import io.gyre.engine.TaskHandler;
import io.gyre.engine.TaskState;
import io.gyre.ingress.client.ClientConfig;
import io.gyre.ingress.client.GyreClient;
import io.gyre.ingress.client.GyreClientException;
import io.gyre.ingress.client.Submission;
import io.gyre.ingress.client.TaskResult;
import io.gyre.ingress.server.GyreServer;
import io.gyre.ingress.server.ServerConfig;
import io.gyre.ingress.testing.LeakCheck;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/**
 * The dead-letter operations end to end over loopback: the Java client against a server whose answers the
 * embedded engine's own API confirms, pages walked with the cursor, a redrive whose outcome a resubmission
 * joins, purges, refusals, and the list as it is after the server restarts on the same journal.
 */
@ExtendWith(LeakCheck.class)
class DeadLettersOverTcpTest
{
    @TempDir
    Path dir;

    private static volatile boolean failing = true;
    private final List<AutoCloseable> toClose = new ArrayList<>();

    @AfterEach
    void closeAll() throws Exception
    {
        failing = true;
        for (int i = toClose.size() - 1; i >= 0; i--)
        {
            toClose.get(i).close();
        }
        toClose.clear();
    }

    private Engine engine()
    {
        final Engine engine = Engine.open(EngineConfig.builder(dir.resolve("journal"))
            .handler(new TaskHandler()
            {
                @Override
                public String type()
                {
                    return "refuse";
                }

                @Override
                public void execute(final TaskContext context)
                {
                    if (failing)
                    {
                        context.fail(false, "refused " + context.payload().getStringWithoutLengthUtf8(0, context.payloadLength()));
                        return;
                    }
                    context.succeed(context.payload(), 0, context.payloadLength());
                }
            })
            .build());
        toClose.add(engine);
        return engine;
    }

    private GyreClient client(final Engine engine)
    {
        final GyreServer server = GyreServer.start(engine, ServerConfig.builder().port(0).build());
        toClose.add(server);
        final GyreClient client = GyreClient.connect(ClientConfig.builder().address(server.address()).build());
        toClose.add(client);
        return client;
    }

    private static TaskResult dead(final GyreClient.Blocking client, final String key)
    {
        final TaskResult result = client.submit(Submission.of(key, "refuse").payload("p-" + key).tenant("acme").priority(Priority.HIGH)
            .timeoutMillis(7000).maxAttempts(2));
        assertThat(result.state()).isEqualTo(TaskState.DEAD_LETTERED);
        return result;
    }

    @Test
    void listShowRedriveAndPurgeThroughTheClient()
    {
        final Engine engine = engine();
        final GyreClient.Blocking client = client(engine).blocking();
        final List<TaskResult> dead = new ArrayList<>();
        for (int i = 0; i < 5; i++)
        {
            dead.add(dead(client, "k" + i));
        }

        // pages of two, as the engine itself lists them
        final List<DeadLetter> walked = new ArrayList<>();
        long cursor = 0;
        DeadLetterPage page;
        do
        {
            page = client.deadLetters(cursor, 2);
            assertThat(page.total()).isEqualTo(5);
            walked.addAll(page.letters());
            cursor = page.nextCursor();
        }
        while (page.more());
        assertThat(walked).isEqualTo(engine.deadLetters(0, 100).join().letters());
        assertThat(walked).extracting(DeadLetter::keyAsString).containsExactly("k0", "k1", "k2", "k3", "k4");
        final DeadLetter first = walked.get(0);
        assertThat(first.taskId()).isEqualTo(dead.get(0).taskId());
        assertThat(first.type()).isEqualTo("refuse");
        assertThat(first.reason()).isEqualTo(DeadLetterReason.PERMANENT_FAILURE);
        assertThat(first.attempts()).isEqualTo(1);
        assertThat(first.error()).isEqualTo("refused p-k0");
        assertThat(first.submittedAt()).isEqualTo(dead.get(0).submittedAt());
        assertThat(first.deadLetteredAt()).isEqualTo(dead.get(0).finishedAt());

        // show: the entry and its request, byte for byte as the engine has it
        final DeadLetterDetails details = client.deadLetter("k1").orElseThrow();
        assertThat(details).isEqualTo(engine.deadLetter("k1").join().orElseThrow());
        assertThat(details.priority()).isEqualTo(Priority.HIGH);
        assertThat(new String(details.tenant(), StandardCharsets.UTF_8)).isEqualTo("acme");
        assertThat(details.timeoutMillis()).isEqualTo(7000);
        assertThat(details.maxAttempts()).isEqualTo(2);
        assertThat(new String(details.payload(), StandardCharsets.UTF_8)).isEqualTo("p-k1");
        assertThat(client.deadLetter("nobody")).isEqualTo(Optional.empty());

        // redrive: same key and task id; a resubmission joins it or gets its new outcome
        failing = false;
        final RedriveResult redriven = client.redrive("k2");
        assertThat(redriven.outcome()).isEqualTo(RedriveOutcome.REDRIVEN);
        assertThat(redriven.taskId()).isEqualTo(dead.get(2).taskId());
        assertThat(redriven.state()).isEqualTo(TaskState.RETRY_WAIT);
        assertThat(redriven.attempts()).isEqualTo(1);
        assertThat(redriven.maxAttempts()).isEqualTo(3);
        assertThat(redriven.message()).contains("redriven");
        final TaskResult after = client.submit(Submission.of("k2", "refuse"));
        assertThat(after.taskId()).isEqualTo(dead.get(2).taskId());
        assertThat(after.state()).isEqualTo(TaskState.SUCCEEDED);
        assertThat(after.outputAsString()).isEqualTo("p-k2");
        assertThat(after.attempts()).isEqualTo(2);

        final RedriveResult again = client.redrive("k2");
        assertThat(again.outcome()).isEqualTo(RedriveOutcome.NOT_DEAD_LETTERED);
        assertThat(again.state()).isEqualTo(TaskState.SUCCEEDED);
        assertThat(again.message()).isEqualTo("key k2 is not dead-lettered: its task " + dead.get(2).taskId() + " is SUCCEEDED");
        final RedriveResult unknown = client.redrive("nobody");
        assertThat(unknown.outcome()).isEqualTo(RedriveOutcome.NOT_DEAD_LETTERED);
        assertThat(unknown.state()).isNull();
        assertThat(unknown.taskId()).isZero();

        // purge one, then the rest
        assertThat(client.purgeDeadLetter("k0")).isEqualTo(new PurgeResult(1, 3));
        assertThat(client.purgeDeadLetter("k0")).isEqualTo(new PurgeResult(0, 3));
        assertThat(client.purgeDeadLetters()).isEqualTo(new PurgeResult(3, 0));
        assertThat(client.deadLetters(0, 10).letters()).isEmpty();
        assertThat(client.submit(Submission.of("k0", "refuse")).duplicate()).as("outcomes stay for dedupe").isTrue();
    }

    @Test
    void refusalsAreClearErrorsAndTheConnectionServesOn()
    {
        final Engine engine = engine();
        final GyreClient client = client(engine);
        assertThatThrownBy(() -> client.blocking().deadLetters(0, 1001)).isInstanceOf(GyreClientException.class)
            .hasMessageContaining("server refused DLQ_LIST (INVALID_TASK): limit=1001 must be in [1, 1000]");
        assertThatThrownBy(() -> client.blocking().redrive("x".repeat(300))).isInstanceOf(GyreClientException.class)
            .hasMessageContaining("INVALID_TASK").hasMessageContaining("key must be 1 to 256 bytes (was 300)");
        assertThatThrownBy(() -> client.deadLetters(0, 0)).isInstanceOf(IllegalArgumentException.class)
            .hasMessageContaining("limit must be in [1, 65535]");
        assertThatThrownBy(() -> client.deadLetters(-1, 10)).isInstanceOf(IllegalArgumentException.class)
            .hasMessageContaining("after must not be negative");
        assertThatThrownBy(() -> client.purgeDeadLetter("")).isInstanceOf(IllegalArgumentException.class)
            .hasMessageContaining("key must be 1 to 65535 bytes");
        assertThat(client.connected()).isTrue();
        assertThat(client.blocking().deadLetters(0, 1000).total()).isZero();
    }

    @Test
    void theListIsTheSameAfterTheServerRestartsOnItsJournal() throws Exception
    {
        final Engine first = engine();
        final GyreClient.Blocking client = client(first).blocking();
        for (int i = 0; i < 3; i++)
        {
            dead(client, "r" + i);
        }
        assertThat(client.purgeDeadLetter("r1").purged()).isEqualTo(1);
        final DeadLetterPage before = client.deadLetters(0, 10);
        final DeadLetterDetails details = client.deadLetter("r2").orElseThrow();
        closeAll();

        failing = false;
        final Engine second = engine();
        final GyreClient.Blocking again = client(second).blocking();
        assertThat(again.deadLetters(0, 10)).isEqualTo(before);
        assertThat(again.deadLetter("r2")).contains(details);
        assertThat(again.redrive("r2").redriven()).isTrue();
        await().until(() -> again.status("r2").state() == TaskState.SUCCEEDED);
        assertThat(again.deadLetters(0, 10).letters()).extracting(DeadLetter::keyAsString).containsExactly("r0");
    }
}

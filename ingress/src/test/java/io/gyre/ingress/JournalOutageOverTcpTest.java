package io.gyre.ingress;

import io.gyre.engine.Engine;
import io.gyre.engine.EngineConfig;
import io.gyre.engine.JournalFaults;
import io.gyre.engine.TaskState;
import io.gyre.ingress.client.ClientConfig;
import io.gyre.ingress.client.GyreClient;
import io.gyre.ingress.client.GyreClientException;
import io.gyre.ingress.client.Submission;
import io.gyre.ingress.client.TaskResult;
import io.gyre.ingress.protocol.RejectCode;
import io.gyre.ingress.server.GyreServer;
import io.gyre.ingress.server.ServerConfig;
import io.gyre.ingress.testing.LeakCheck;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/**
 * The journal cannot be written while clients are connected: submissions are answered REJECTED with
 * JOURNAL_UNAVAILABLE and the journal's error, the server stays up, every connection keeps working (status
 * and ping need no journal), and the same submission succeeds once the journal is writable again.
 */
@ExtendWith(LeakCheck.class)
class JournalOutageOverTcpTest
{
    private static final String IO_ERROR = "Input/output error (injected)";

    @TempDir
    Path dir;

    private Engine engine;
    private GyreServer server;
    private GyreClient first;
    private GyreClient second;

    @AfterEach
    void closeAll()
    {
        for (final AutoCloseable c : new AutoCloseable[] {second, first, server, engine})
        {
            if (c != null)
            {
                try
                {
                    c.close();
                }
                catch (final Exception ignored)
                {
                    // closing what is left of a test
                }
            }
        }
    }

    @Test
    void shouldRejectSubmissionsWithJournalUnavailableAndServeAgainOnceTheJournalIs()
    {
        engine = Engine.open(EngineConfig.builder(dir.resolve("journal")).ringSize(1024).timerFiresPerTick(16).build());
        final JournalFaults faults = JournalFaults.install(engine);
        server = GyreServer.start(engine, ServerConfig.builder().port(0).build());
        first = GyreClient.connect(ClientConfig.builder().address(server.address()).build());
        second = GyreClient.connect(ClientConfig.builder().address(server.address()).build());

        assertThat(first.blocking().submit(Submission.of("before", "echo").payload("b")).succeeded()).isTrue();

        faults.fail(IO_ERROR);
        final TaskResult refused = first.blocking().submit(Submission.of("during", "echo").payload("d"));
        assertThat(refused.rejected()).isTrue();
        assertThat(refused.rejectCode()).isEqualTo(RejectCode.JOURNAL_UNAVAILABLE);
        assertThat(refused.rawRejectCode()).isEqualTo(3);
        assertThat(refused.error()).contains(IO_ERROR).contains("nothing was accepted").contains("retry later");
        assertThat(engine.health().ready()).isFalse();

        // the other connection works: what needs no journal is answered, what does is refused the same way
        assertThat(second.blocking().status("before").state()).isEqualTo(TaskState.SUCCEEDED);
        assertThat(second.blocking().status("during").found()).as("refused, so never accepted").isFalse();
        assertThat(second.blocking().ping()).isPositive();
        final TaskResult alsoRefused = second.blocking().submit(Submission.of("during-2", "echo"));
        assertThat(alsoRefused.rejectCode()).isEqualTo(RejectCode.JOURNAL_UNAVAILABLE);
        assertThatThrownBy(() -> second.blocking().cancel("before"))
            .isInstanceOf(GyreClientException.class)
            .hasMessageContaining("JOURNAL_UNAVAILABLE")
            .hasMessageContaining(IO_ERROR);

        // writable again: the client's retry of the same key is accepted and runs
        faults.heal();
        await().until(() -> engine.health().ready());
        final TaskResult retried = first.blocking().submit(Submission.of("during", "echo").payload("d"));
        assertThat(retried.succeeded()).isTrue();
        assertThat(retried.outputAsString()).isEqualTo("d");
        assertThat(retried.duplicate()).isFalse();
        assertThat(second.blocking().submit(Submission.of("after", "echo").payload("a")).succeeded()).isTrue();
    }
}

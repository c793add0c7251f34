package io.gyre.ingress;

import io.gyre.engine.Engine;
import io.gyre.engine.EngineConfig;
import io.gyre.engine.Priority;
import io.gyre.ingress.client.ClientConfig;
import io.gyre.ingress.client.GyreClient;
import io.gyre.ingress.client.Submission;
import io.gyre.ingress.client.TaskResult;
import io.gyre.ingress.protocol.RejectCode;
import io.gyre.ingress.server.GyreServer;
import io.gyre.ingress.server.ServerConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Near its limit of live tasks the engine sheds low priority first: over TCP that is REJECTED
 * {@code BUSY_FOR_PRIORITY}, with the message, while higher priorities are still accepted.
 */
class LoadSheddingOverTcpTest
{
    @TempDir
    Path dir;

    @Test
    void shouldRefuseLowPriorityNearTheLimitAndAcceptHigher()
    {
        try (Engine engine = Engine.open(EngineConfig.builder(dir).maxLiveTasks(5).build());
            GyreServer server = GyreServer.start(engine, ServerConfig.builder().port(0).build());
            GyreClient client = GyreClient.connect(ClientConfig.builder().address(server.address()).build()))
        {
            final List<CompletableFuture<TaskResult>> waiting = new ArrayList<>();
            for (int i = 0; i < 4; i++)
            {
                final CompletableFuture<Long> accepted = new CompletableFuture<>();
                waiting.add(client.submit(Submission.of("low-" + i, "wait").payload("PT0.5S").priority(Priority.LOW)
                    .onAccepted(accepted::complete)));
                accepted.join();
            }
            final TaskResult shed = client.blocking().submit(Submission.of("low-4", "wait").payload("PT0.5S").priority(Priority.LOW));
            assertThat(shed.rejected()).isTrue();
            assertThat(shed.rejectCode()).isEqualTo(RejectCode.BUSY_FOR_PRIORITY);
            assertThat(shed.error()).contains("refuses this priority for now");

            final TaskResult normal = client.blocking().submit(Submission.of("normal", "noop"));
            assertThat(normal.succeeded()).isTrue();
            waiting.forEach(w -> assertThat(w.join().succeeded()).isTrue());
            assertThat(client.blocking().submit(Submission.of("low-4", "wait").payload("PT0S").priority(Priority.LOW)).succeeded()).isTrue();
        }
    }
}

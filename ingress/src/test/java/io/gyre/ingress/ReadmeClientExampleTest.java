package io.gyre.ingress;

import io.gyre.engine.Engine;
import io.gyre.engine.EngineConfig;
import io.gyre.engine.TaskState;
import io.gyre.ingress.client.ClientConfig;
import io.gyre.ingress.client.GyreClient;
import io.gyre.ingress.client.Submission;
import io.gyre.ingress.client.TaskResult;
import io.gyre.ingress.client.TaskStatusReply;
import io.gyre.ingress.server.GyreServer;
import io.gyre.ingress.server.ServerConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The README's Java client example, as written there (against a server on a free port rather than 7070).
 */
class ReadmeClientExampleTest
{
    @TempDir
    Path dir;

    @Test
    void theReadmeClientExampleDoesWhatTheReadmeSays()
    {
        try (Engine engine = Engine.open(EngineConfig.builder(dir).build());
             GyreServer server = GyreServer.start(engine, ServerConfig.builder().port(0).build()))
        {
            final int port = server.address().getPort();
            try (GyreClient client = GyreClient.connect(ClientConfig.builder().host("127.0.0.1").port(port).build()))
            {
                TaskResult result = client.submit(Submission.of("order-43", "echo").payload("{\"x\":1}")).join();
                System.out.println(result.state() + " " + result.outputAsString());   // SUCCEEDED {"x":1}
                TaskStatusReply status = client.blocking().status("order-43");       // SUCCEEDED, same task id

                assertThat(result.state()).isEqualTo(TaskState.SUCCEEDED);
                assertThat(result.outputAsString()).isEqualTo("{\"x\":1}");
                assertThat(status.state()).isEqualTo(TaskState.SUCCEEDED);
                assertThat(status.taskId()).isEqualTo(result.taskId());
            }
        }
    }
}

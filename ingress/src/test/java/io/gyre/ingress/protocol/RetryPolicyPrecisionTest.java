package io.gyre.ingress.protocol;

import io.gyre.engine.Backoff;
import io.gyre.ingress.client.Submission;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import org.junit.jupiter.api.Test;

import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;

import static io.gyre.ingress.protocol.Protocol.HEADER_BYTES;
import static io.gyre.ingress.protocol.Protocol.RETRY_JITTER;
import static io.gyre.ingress.protocol.Protocol.RETRY_MULTIPLIER;
import static io.gyre.ingress.protocol.Protocol.SUBMIT_FIXED;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * SUBMIT's retry policy block carries the multiplier in hundredths and the jitter in thousandths. An outside check
 * found a multiplier of 1.005 sent as 1.01 (the second retry waited 1010 ms, not 1005) and a jitter of 0.0005 taken
 * without a word: the Java client now refuses what the block would round, and sends every value it takes exactly.
 */
class RetryPolicyPrecisionTest
{
    @Test
    void shouldRefuseAMultiplierOrJitterTheBlockWouldRound()
    {
        final Submission submission = Submission.of("k", "echo");
        assertThatThrownBy(() -> submission.backoff(new Backoff(1000, 10_000, 1.005f, 0f)))
            .isInstanceOf(IllegalArgumentException.class)
            .hasMessageStartingWith("backoffMultiplier=1.005 has more than two decimals");
        assertThatThrownBy(() -> submission.backoff(new Backoff(1000, 10_000, 2f, 0.0005f)))
            .isInstanceOf(IllegalArgumentException.class)
            .hasMessageStartingWith("backoffJitter=0.0005 has more than three decimals");
        assertThatThrownBy(() -> submission.backoff(new Backoff(1000, 10_000, 99.999f, 0.1f)))
            .hasMessageStartingWith("backoffMultiplier=99.999 has more than two decimals");
        assertThatThrownBy(() -> submission.backoff(new Backoff(1000, 10_000, 2f, 0.1234f)))
            .hasMessageStartingWith("backoffJitter=0.1234 has more than three decimals");
        submission.backoff(null);
        submission.backoff(new Backoff(1000, 10_000, 1.1f, 0.3f));
        submission.backoff(Backoff.DEFAULT);
    }

    @Test
    void shouldTakeAndSendExactlyEveryValueTheBlockCarries()
    {
        final ByteBuf out = Unpooled.buffer();
        final byte[] key = "k".getBytes(StandardCharsets.UTF_8);
        final byte[] type = "echo".getBytes(StandardCharsets.UTF_8);
        for (int hundredths = 100; hundredths <= 10_000; hundredths++)
        {
            final float multiplier = Float.parseFloat(BigDecimal.valueOf(hundredths, 2).toPlainString());
            final int thousandths = hundredths % 1001;
            final float jitter = Float.parseFloat(BigDecimal.valueOf(thousandths, 3).toPlainString());
            final Backoff backoff = new Backoff(1, 1, multiplier, jitter);
            assertThat(Frames.retryPolicyPrecisionProblem(backoff)).as(multiplier + ", " + jitter).isNull();
            Submission.of("k", "echo").backoff(backoff);
            out.clear();
            Frames.submit(out, 1, 1, 0, 0, 0, backoff, key, type, new byte[0], new byte[0], 0, 0);
            final int policy = HEADER_BYTES + SUBMIT_FIXED;
            assertThat(out.getUnsignedShort(policy + RETRY_MULTIPLIER)).as("multiplier " + multiplier).isEqualTo(hundredths);
            assertThat(out.getUnsignedShort(policy + RETRY_JITTER)).as("jitter " + jitter).isEqualTo(thousandths);
        }
        out.release();
    }
}

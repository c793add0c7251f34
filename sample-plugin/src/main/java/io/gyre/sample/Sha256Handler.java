package io.gyre.sample;

import io.gyre.engine.ExecutionMode;
import io.gyre.engine.TaskContext;
import io.gyre.engine.TaskFailure;
import io.gyre.engine.TaskHandler;
import org.agrona.MutableDirectBuffer;

import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Map;

/**
 * {@code sha256}: the SHA-256 digest of the payload, as 64 lower-case hex characters, repeated
 * {@code rounds} times (a setting, default 1: the digest of the digest, and so on), to show a CPU-bound
 * task type with a setting, packaged as a plugin.
 * <p>
 * Runs on the engine's CPU pool; at most 4 at once.
 */
public final class Sha256Handler implements TaskHandler
{
    private static final byte[] HEX = "0123456789abcdef".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
    private static final ThreadLocal<MessageDigest> DIGEST = ThreadLocal.withInitial(Sha256Handler::newDigest);

    private int rounds = 1;

    @Override
    public String type()
    {
        return "sha256";
    }

    @Override
    public ExecutionMode executionMode()
    {
        return ExecutionMode.CPU;
    }

    @Override
    public int maxConcurrency()
    {
        return 4;
    }

    @Override
    public void configure(final Map<String, String> settings)
    {
        for (final Map.Entry<String, String> setting : settings.entrySet())
        {
            if (!setting.getKey().equals("rounds"))
            {
                throw new IllegalArgumentException("unknown setting " + setting.getKey() + " (known: rounds)");
            }
            try
            {
                rounds = Integer.parseInt(setting.getValue().trim());
            }
            catch (final NumberFormatException ex)
            {
                rounds = 0;
            }
            if (rounds < 1 || rounds > 1_000_000)
            {
                throw new IllegalArgumentException("rounds=" + setting.getValue() + " must be a whole number in [1, 1000000]");
            }
        }
    }

    @Override
    public void execute(final TaskContext context) throws TaskFailure
    {
        final MessageDigest digest = DIGEST.get();
        final byte[] input = new byte[context.payloadLength()];
        context.payload().getBytes(0, input);
        byte[] hash = input;
        for (int i = 0; i < rounds; i++)
        {
            hash = digest.digest(hash);
        }
        final MutableDirectBuffer out = context.outputBuffer(hash.length * 2);
        for (int i = 0; i < hash.length; i++)
        {
            out.putByte(i * 2, HEX[(hash[i] >>> 4) & 0xF]);
            out.putByte(i * 2 + 1, HEX[hash[i] & 0xF]);
        }
        context.succeed(hash.length * 2);
    }

    private static MessageDigest newDigest()
    {
        try
        {
            return MessageDigest.getInstance("SHA-256");
        }
        catch (final NoSuchAlgorithmException ex)
        {
            throw new IllegalStateException("every Java platform has SHA-256", ex);
        }
    }
}

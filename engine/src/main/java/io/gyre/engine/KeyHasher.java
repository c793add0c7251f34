package io.gyre.engine;

import net.openhft.hashing.LongHashFunction;
import org.agrona.BufferUtil;
import org.agrona.DirectBuffer;

/**
 * 64-bit hash of idempotency keys (XXH3), on or off the heap, without allocating.
 */
final class KeyHasher
{
    private static final LongHashFunction XX3 = LongHashFunction.xx3();

    private KeyHasher()
    {
    }

    static long hash(final DirectBuffer buffer, final int offset, final int length)
    {
        final byte[] array = buffer.byteArray();
        if (array != null)
        {
            return XX3.hashBytes(array, (int)(buffer.addressOffset() - BufferUtil.ARRAY_BASE_OFFSET) + offset, length);
        }
        return XX3.hashMemory(buffer.addressOffset() + offset, length);
    }
}

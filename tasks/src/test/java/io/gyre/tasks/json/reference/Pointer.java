package io.gyre.tasks.json.reference;

/**
 * A parsed JSON Pointer (RFC 6901): the reference tokens, unescaped, and where each one ends in the text,
 * so that an error can quote the pointer to the value it got stuck on. Immutable.
 * <p>
 * Parsing is strict: a non-empty pointer starts with {@code /}, and {@code ~} is followed by {@code 0}
 * (for {@code ~}) or {@code 1} (for {@code /}). Whether a token indexes an array is decided when the
 * pointer meets an array ({@link #index(String)}): the same token names a property of an object.
 */
final class Pointer
{
    /** The token that, as the last one, names the position after an array's last element. */
    static final String END_OF_ARRAY = "-";

    private static final String[] NO_TOKENS = new String[0];
    private static final int[] NO_ENDS = new int[0];

    private final String text;
    private final String[] tokens;
    private final int[] ends;

    private Pointer(final String text, final String[] tokens, final int[] ends)
    {
        this.text = text;
        this.tokens = tokens;
        this.ends = ends;
    }

    /**
     * @param text a JSON Pointer, e.g. {@code /a/b~1c/0}.
     * @return the parsed pointer.
     * @throws IllegalArgumentException saying what is wrong with the text (the caller names the field).
     */
    static Pointer parse(final String text)
    {
        final int length = text.length();
        if (length == 0)
        {
            return new Pointer(text, NO_TOKENS, NO_ENDS);
        }
        if (text.charAt(0) != '/')
        {
            throw new IllegalArgumentException("must be empty or start with '/'");
        }
        int count = 0;
        for (int i = 0; i < length; i++)
        {
            final char c = text.charAt(i);
            if (c == '/')
            {
                count++;
            }
            else if (c == '~' && (i + 1 == length || (text.charAt(i + 1) != '0' && text.charAt(i + 1) != '1')))
            {
                throw new IllegalArgumentException("'~' at offset " + i + " must be followed by 0 or 1");
            }
        }
        final String[] tokens = new String[count];
        final int[] ends = new int[count];
        int start = 1;
        for (int t = 0; t < count; t++)
        {
            int end = text.indexOf('/', start);
            if (end < 0)
            {
                end = length;
            }
            tokens[t] = unescape(text, start, end);
            ends[t] = end;
            start = end + 1;
        }
        return new Pointer(text, tokens, ends);
    }

    private static String unescape(final String text, final int start, final int end)
    {
        final int tilde = text.indexOf('~', start);
        if (tilde < 0 || tilde >= end)
        {
            return text.substring(start, end);
        }
        final StringBuilder token = new StringBuilder(end - start);
        for (int i = start; i < end; i++)
        {
            final char c = text.charAt(i);
            if (c == '~')
            {
                token.append(text.charAt(++i) == '0' ? '~' : '/');
            }
            else
            {
                token.append(c);
            }
        }
        return token.toString();
    }

    /**
     * @param token a reference token.
     * @return the array index the token denotes: decimal digits without a leading zero (but {@code 0} itself),
     *     up to {@link Integer#MAX_VALUE}; -1 when it denotes none (including {@link #END_OF_ARRAY}).
     */
    static int index(final String token)
    {
        final int length = token.length();
        if (length == 0 || length > 10 || (length > 1 && token.charAt(0) == '0'))
        {
            return -1;
        }
        long value = 0;
        for (int i = 0; i < length; i++)
        {
            final char c = token.charAt(i);
            if (c < '0' || c > '9')
            {
                return -1;
            }
            value = value * 10 + (c - '0');
        }
        return value > Integer.MAX_VALUE ? -1 : (int)value;
    }

    /**
     * @return how many reference tokens; 0 for the whole document.
     */
    int depth()
    {
        return tokens.length;
    }

    /**
     * @return whether this pointer refers to the whole document (the empty pointer).
     */
    boolean isWholeDocument()
    {
        return tokens.length == 0;
    }

    /**
     * @param i from 0 to {@link #depth()} - 1.
     * @return the i-th reference token, unescaped.
     */
    String token(final int i)
    {
        return tokens[i];
    }

    /**
     * @param i from 0 to {@link #depth()}.
     * @return the text of the pointer made of the first {@code i} tokens (for messages).
     */
    String prefix(final int i)
    {
        return i == 0 ? "" : text.substring(0, ends[i - 1]);
    }

    /**
     * @return whether {@code other} points strictly inside the value this pointer points to.
     */
    boolean isProperPrefixOf(final Pointer other)
    {
        if (other.tokens.length <= tokens.length)
        {
            return false;
        }
        for (int i = 0; i < tokens.length; i++)
        {
            if (!tokens[i].equals(other.tokens[i]))
            {
                return false;
            }
        }
        return true;
    }

    /**
     * @return the pointer as written.
     */
    @Override
    public String toString()
    {
        return text;
    }
}

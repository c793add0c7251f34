package io.gyre.tasks.json;

/**
 * Jackson's parse errors as a task's failure message says them: without the parser's internals (the feature
 * that refused a duplicate member, the source description), so every JSON-reading task type words them alike.
 */
public final class JsonErrors
{
    private static final String DUPLICATE = "Duplicate field '";

    private JsonErrors()
    {
    }

    /**
     * @param originalMessage Jackson's {@code getOriginalMessage()} (no location).
     * @return the message, with a duplicate member named rather than the feature that refused it, and a limit
     *     without the Jackson method that holds it.
     */
    public static String plain(final String originalMessage)
    {
        final String message = String.valueOf(originalMessage);
        final int duplicate = message.indexOf(DUPLICATE);
        if (duplicate >= 0)
        {
            final int end = message.indexOf('\'', duplicate + DUPLICATE.length());
            if (end > 0)
            {
                return "member '" + message.substring(duplicate + DUPLICATE.length(), end) + "' appears twice";
            }
        }
        // a limit's message names the Jackson method that holds it: "(1000, from `StreamReadConstraints.get...()`)"
        return message.replaceAll(", from `[^`]*`", "");
    }
}

package io.gyre.engine;

import java.util.List;

/**
 * One page of the dead-letter list, oldest first.
 *
 * @param letters the entries, at most the limit asked for.
 * @param nextCursor the cursor to ask for the next page with: the last entry's, or the one asked with when
 *     the page is empty.
 * @param more whether entries follow this page.
 * @param total entries in the whole list.
 */
public record DeadLetterPage(List<DeadLetter> letters, long nextCursor, boolean more, int total)
{
    public DeadLetterPage
    {
        letters = List.copyOf(letters);
    }
}

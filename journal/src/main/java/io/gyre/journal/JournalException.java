package io.gyre.journal;

/**
 * The journal cannot be opened, read or written as asked; the message says which journal and why.
 */
public class JournalException extends RuntimeException
{
    private static final long serialVersionUID = 1L;

    public JournalException(final String message, final Throwable cause)
    {
        super(message, cause);
    }
}

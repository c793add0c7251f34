package io.gyre.engine;

/**
 * Sees each lifecycle move of each task as the state machine makes it (while replaying a journal, for
 * inspection). Called on the replaying thread.
 */
@FunctionalInterface
public interface TransitionObserver
{
    /**
     * @param taskId the task.
     * @param from its state before, or null when the task was just accepted.
     * @param to its state after.
     * @param attempt the attempt number at the time of the move.
     * @param timestamp the time of the event that caused the move (epoch nanoseconds).
     */
    void onTransition(long taskId, TaskState from, TaskState to, int attempt, long timestamp);
}

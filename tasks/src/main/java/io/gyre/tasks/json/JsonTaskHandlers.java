package io.gyre.tasks.json;

import io.gyre.engine.TaskHandler;

import java.util.List;

/**
 * The JSON task types, for registering with an engine:
 * {@code JsonTaskHandlers.all().forEach(builder::handler)}.
 */
public final class JsonTaskHandlers
{
    private JsonTaskHandlers()
    {
    }

    /**
     * @return new instances of {@link SetTaskHandler}, {@link InjectTaskHandler} and {@link TransformTaskHandler}.
     */
    public static List<TaskHandler> all()
    {
        return List.of(new SetTaskHandler(), new InjectTaskHandler(), new TransformTaskHandler());
    }
}

package io.gyre.tasks.http;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.json.JsonWriteFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.cfg.JsonNodeFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;

/**
 * The one JSON mapper of the {@code http} type, shared by every thread (Jackson mappers are thread-safe once
 * configured). Strict on input, faithful on output.
 */
final class HttpJson
{
    /**
     * Rejects a duplicate key and anything after the first value; keeps decimals exact ({@code 10.50} stays
     * {@code 10.50}, {@code 0.1000000000000000055} is not rounded to a double), so a parsed response body
     * carries the numbers the server sent.
     */
    static final ObjectMapper MAPPER = JsonMapper.builder(JsonFactory.builder()
            // a character outside the BMP is written as its UTF-8, as every other one, not as two escapes (one per
            // half of its surrogate pair), as the JSON task types write it
            .enable(JsonWriteFeature.COMBINE_UNICODE_SURROGATES_IN_UTF8)
            .build())
        .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION)
        .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
        .enable(DeserializationFeature.USE_BIG_DECIMAL_FOR_FLOATS)
        .disable(JsonNodeFeature.STRIP_TRAILING_BIGDECIMAL_ZEROES)
        .build();

    private HttpJson()
    {
    }
}

package io.gyre.ingress.protocol;

/**
 * The Gyre wire protocol, version 1: opcodes, codes and the byte layout of every frame. The
 * specification for people is {@code docs/PROTOCOL.md}; this class is the same thing for the code, and
 * the two must say the same.
 * <p>
 * Every frame is {@code length:u32 | opcode:u8 | body}, big-endian, where {@code length} counts the
 * opcode and the body. Offsets below are from the first byte of the body (just after the opcode).
 */
public final class Protocol
{
    private Protocol()
    {
    }

    /** "GYRE" in ASCII, the first four bytes of a HELLO body. */
    public static final int MAGIC = 0x47595245;
    public static final int VERSION = 1;

    /** Bytes of the length field. */
    public static final int LENGTH_BYTES = 4;
    /** Bytes of the length field plus the opcode: where a frame's body starts. */
    public static final int HEADER_BYTES = LENGTH_BYTES + 1;
    /** Largest first frame (a HELLO) a server reads before the handshake, length field excluded. */
    public static final int MAX_HELLO_FRAME = 1 + 10 + 1024;
    public static final int MAX_TOKEN_BYTES = 1024;
    /** Largest message in a REJECTED or ERROR frame. */
    public static final int MAX_MESSAGE_BYTES = 1024;

    // ---- opcodes, client to server
    public static final int HELLO = 0x01;
    public static final int SUBMIT = 0x10;
    public static final int CANCEL = 0x11;
    public static final int STATUS = 0x12;
    public static final int PING = 0x13;
    public static final int DLQ_LIST = 0x14;
    public static final int DLQ_SHOW = 0x15;
    public static final int DLQ_REDRIVE = 0x16;
    public static final int DLQ_PURGE = 0x17;
    public static final int SUBSCRIBE = 0x18;
    public static final int UNSUBSCRIBE = 0x19;

    // ---- opcodes, server to client
    public static final int WELCOME = 0x02;
    public static final int ACCEPTED = 0x20;
    public static final int REJECTED = 0x21;
    public static final int RESULT = 0x22;
    public static final int STATUS_REPLY = 0x23;
    public static final int CANCEL_REPLY = 0x24;
    public static final int PONG = 0x25;
    public static final int DLQ_LIST_REPLY = 0x26;
    public static final int DLQ_SHOW_REPLY = 0x27;
    public static final int DLQ_REDRIVE_REPLY = 0x28;
    public static final int DLQ_PURGE_REPLY = 0x29;
    public static final int SUBSCRIBED = 0x2A;
    public static final int EVENT = 0x2B;
    public static final int EVENTS_LOST = 0x2C;
    public static final int UNSUBSCRIBED = 0x2D;
    public static final int ERROR = 0x7F;

    // ---- HELLO: magic u32 | version u16 | flags u16 | token_len u16 | token
    public static final int HELLO_MAGIC = 0;
    public static final int HELLO_VERSION = 4;
    public static final int HELLO_FLAGS = 6;
    public static final int HELLO_TOKEN_LENGTH = 8;
    public static final int HELLO_FIXED = 10;
    /** HELLO flag: send no ACCEPTED frames on this connection, only results and refusals. */
    public static final int HELLO_FLAG_RESULTS_ONLY = 1;
    /** HELLO flag: RESULT frames on this connection carry the task's accounting (queue and execution time). */
    public static final int HELLO_FLAG_ACCOUNTING = 2;

    // ---- WELCOME: version u16 | flags u16 | max_frame u32 | max_in_flight u32 | idle_timeout_ms u32
    //               | max_key u16 | max_type u16 | max_tenant u16 | max_payload u32 | max_output u32
    public static final int WELCOME_VERSION = 0;
    public static final int WELCOME_FLAGS = 2;
    public static final int WELCOME_MAX_FRAME = 4;
    public static final int WELCOME_MAX_IN_FLIGHT = 8;
    public static final int WELCOME_IDLE_TIMEOUT = 12;
    public static final int WELCOME_MAX_KEY = 16;
    public static final int WELCOME_MAX_TYPE = 18;
    public static final int WELCOME_MAX_TENANT = 20;
    public static final int WELCOME_MAX_PAYLOAD = 22;
    public static final int WELCOME_MAX_OUTPUT = 26;
    public static final int WELCOME_FIXED = 30;
    /** WELCOME flag: when the engine is full the server refuses submissions with BUSY instead of pausing reads. */
    public static final int WELCOME_FLAG_BUSY_REJECTS = 1;
    /** WELCOME flag: this connection gets no ACCEPTED frames (echoes HELLO_FLAG_RESULTS_ONLY). */
    public static final int WELCOME_FLAG_RESULTS_ONLY = 2;
    /** WELCOME flag: RESULT frames on this connection carry accounting (echoes HELLO_FLAG_ACCOUNTING). */
    public static final int WELCOME_FLAG_ACCOUNTING = 4;

    // ---- SUBMIT: correlation u64 | priority u8 | flags u8 | timeout_ms u32 | max_attempts u16 | key_len u16
    //              | type_len u8 | tenant_len u8 | payload_len u32 | key | type | tenant | payload
    public static final int SUBMIT_CORRELATION = 0;
    public static final int SUBMIT_PRIORITY = 8;
    public static final int SUBMIT_FLAGS = 9;
    public static final int SUBMIT_TIMEOUT = 10;
    public static final int SUBMIT_MAX_ATTEMPTS = 14;
    public static final int SUBMIT_KEY_LENGTH = 16;
    public static final int SUBMIT_TYPE_LENGTH = 18;
    public static final int SUBMIT_TENANT_LENGTH = 19;
    /** The longest tenant a SUBMIT can carry: its length is a u8. WELCOME's max_tenant never says more. */
    public static final int MAX_SUBMIT_TENANT = 0xFF;
    public static final int SUBMIT_PAYLOAD_LENGTH = 20;
    public static final int SUBMIT_FIXED = 24;
    /** SUBMIT flag: a task that finally fails ends FAILED instead of DEAD_LETTERED. */
    public static final int SUBMIT_FLAG_NO_DEAD_LETTER = 1;
    /** SUBMIT flag: a retry policy block follows the fixed fields, before the key. */
    public static final int SUBMIT_FLAG_RETRY_POLICY = 2;
    // ---- the retry policy block: backoff_initial_ms u32 | backoff_max_ms u32 | multiplier_x100 u16 | jitter_x1000 u16
    public static final int RETRY_INITIAL = 0;
    public static final int RETRY_MAX = 4;
    public static final int RETRY_MULTIPLIER = 8;
    public static final int RETRY_JITTER = 10;
    public static final int RETRY_POLICY_BYTES = 12;

    // ---- CANCEL, STATUS, DLQ_SHOW and DLQ_REDRIVE: correlation u64 | key_len u16 | key
    public static final int KEYED_CORRELATION = 0;
    public static final int KEYED_KEY_LENGTH = 8;
    public static final int KEYED_FIXED = 10;

    // ---- PING and PONG: correlation u64
    public static final int PING_FIXED = 8;

    // ---- ACCEPTED: correlation u64 | task_id u64
    public static final int ACCEPTED_FIXED = 16;

    // ---- REJECTED: correlation u64 | reason u16 | message_len u16 | message
    // ---- ERROR:    correlation u64 | code u16   | message_len u16 | message
    public static final int COMPLAINT_CORRELATION = 0;
    public static final int COMPLAINT_CODE = 8;
    public static final int COMPLAINT_MESSAGE_LENGTH = 10;
    public static final int COMPLAINT_FIXED = 12;

    // ---- RESULT: correlation u64 | task_id u64 | state u8 | flags u8 | attempts u16
    //              | submitted_at i64 | started_at i64 | finished_at i64 | body_len u32 | body
    public static final int RESULT_CORRELATION = 0;
    public static final int RESULT_TASK_ID = 8;
    public static final int RESULT_STATE = 16;
    public static final int RESULT_FLAGS = 17;
    public static final int RESULT_ATTEMPTS = 18;
    public static final int RESULT_SUBMITTED_AT = 20;
    public static final int RESULT_STARTED_AT = 28;
    public static final int RESULT_FINISHED_AT = 36;
    public static final int RESULT_BODY_LENGTH = 44;
    public static final int RESULT_FIXED = 48;
    /** RESULT flag: the key's outcome was already recorded; this submission ran nothing. */
    public static final int RESULT_FLAG_DUPLICATE = 1;
    /**
     * RESULT flag: the frame carries accounting, 16 bytes (queue_nanos i64, execution_nanos i64) after finished_at,
     * so body_len is at {@link #RESULT_ACCOUNTED_BODY_LENGTH} and the body at {@link #RESULT_ACCOUNTED_FIXED}. Set
     * on every RESULT of a connection whose HELLO asked for it, never on another's.
     */
    public static final int RESULT_FLAG_ACCOUNTING = 2;
    public static final int RESULT_QUEUE_NANOS = 44;
    public static final int RESULT_EXECUTION_NANOS = 52;
    public static final int RESULT_ACCOUNTED_BODY_LENGTH = 60;
    public static final int RESULT_ACCOUNTED_FIXED = 64;

    // ---- STATUS_REPLY and CANCEL_REPLY: correlation u64 | task_id u64 | found u8 | state u8 | attempts u16
    //              | max_attempts u16 | submitted_at i64 | started_at i64 | finished_at i64 | body_len u32 | body
    public static final int STATUS_CORRELATION = 0;
    public static final int STATUS_TASK_ID = 8;
    public static final int STATUS_FOUND = 16;
    public static final int STATUS_STATE = 17;
    public static final int STATUS_ATTEMPTS = 18;
    public static final int STATUS_MAX_ATTEMPTS = 20;
    public static final int STATUS_SUBMITTED_AT = 22;
    public static final int STATUS_STARTED_AT = 30;
    public static final int STATUS_FINISHED_AT = 38;
    public static final int STATUS_BODY_LENGTH = 46;
    public static final int STATUS_FIXED = 50;
    /** STATUS_REPLY state when the key is unknown. */
    public static final int STATE_NONE = 0xFF;

    // ---- DLQ_LIST: correlation u64 | after u64 | limit u16
    public static final int DLQ_LIST_CORRELATION = 0;
    public static final int DLQ_LIST_AFTER = 8;
    public static final int DLQ_LIST_LIMIT = 16;
    public static final int DLQ_LIST_FIXED = 18;

    // ---- DLQ_SHOW and DLQ_REDRIVE: the KEYED layout (correlation u64 | key_len u16 | key)

    // ---- DLQ_PURGE: correlation u64 | flags u8 | key_len u16 | key
    public static final int DLQ_PURGE_CORRELATION = 0;
    public static final int DLQ_PURGE_FLAGS = 8;
    public static final int DLQ_PURGE_KEY_LENGTH = 9;
    public static final int DLQ_PURGE_FIXED = 11;
    /** DLQ_PURGE flag: purge every dead letter (the key is then empty). */
    public static final int DLQ_PURGE_FLAG_ALL = 1;

    // ---- DLQ_LIST_REPLY: correlation u64 | next_cursor u64 | total u32 | flags u8 | count u16 | count entries
    public static final int DLQ_PAGE_CORRELATION = 0;
    public static final int DLQ_PAGE_NEXT_CURSOR = 8;
    public static final int DLQ_PAGE_TOTAL = 16;
    public static final int DLQ_PAGE_FLAGS = 20;
    public static final int DLQ_PAGE_COUNT = 21;
    public static final int DLQ_PAGE_FIXED = 23;
    /** DLQ_LIST_REPLY flag: entries follow this page. */
    public static final int DLQ_PAGE_FLAG_MORE = 1;
    // an entry: cursor u64 | task_id u64 | reason u8 | attempts u16 | submitted_at i64 | dead_lettered_at i64
    //           | key_len u16 | type_len u8 | error_len u16 | key | type | error   (offsets from the entry's start)
    public static final int DLQ_ENTRY_CURSOR = 0;
    public static final int DLQ_ENTRY_TASK_ID = 8;
    public static final int DLQ_ENTRY_REASON = 16;
    public static final int DLQ_ENTRY_ATTEMPTS = 17;
    public static final int DLQ_ENTRY_SUBMITTED_AT = 19;
    public static final int DLQ_ENTRY_DEAD_LETTERED_AT = 27;
    public static final int DLQ_ENTRY_KEY_LENGTH = 35;
    public static final int DLQ_ENTRY_TYPE_LENGTH = 37;
    public static final int DLQ_ENTRY_ERROR_LENGTH = 38;
    public static final int DLQ_ENTRY_FIXED = 40;

    // ---- DLQ_SHOW_REPLY: correlation u64 | found u8 | reason u8 | priority u8 | type_len u8 | cursor u64 | task_id u64
    //        | attempts u16 | max_attempts u16 | timeout_ms u32 | submitted_at i64 | dead_lettered_at i64 | key_len u16
    //        | tenant_len u16 | error_len u16 | payload_len u32 | key | type | tenant | error | payload
    public static final int DLQ_SHOW_CORRELATION = 0;
    public static final int DLQ_SHOW_FOUND = 8;
    public static final int DLQ_SHOW_REASON = 9;
    public static final int DLQ_SHOW_PRIORITY = 10;
    public static final int DLQ_SHOW_TYPE_LENGTH = 11;
    public static final int DLQ_SHOW_CURSOR = 12;
    public static final int DLQ_SHOW_TASK_ID = 20;
    public static final int DLQ_SHOW_ATTEMPTS = 28;
    public static final int DLQ_SHOW_MAX_ATTEMPTS = 30;
    public static final int DLQ_SHOW_TIMEOUT = 32;
    public static final int DLQ_SHOW_SUBMITTED_AT = 36;
    public static final int DLQ_SHOW_DEAD_LETTERED_AT = 44;
    public static final int DLQ_SHOW_KEY_LENGTH = 52;
    public static final int DLQ_SHOW_TENANT_LENGTH = 54;
    public static final int DLQ_SHOW_ERROR_LENGTH = 56;
    public static final int DLQ_SHOW_PAYLOAD_LENGTH = 58;
    public static final int DLQ_SHOW_FIXED = 62;

    // ---- DLQ_REDRIVE_REPLY: correlation u64 | outcome u8 | state u8 | attempts u16 | task_id u64 | max_attempts u16
    //        | message_len u16 | message
    public static final int DLQ_REDRIVE_CORRELATION = 0;
    public static final int DLQ_REDRIVE_OUTCOME = 8;
    public static final int DLQ_REDRIVE_STATE = 9;
    public static final int DLQ_REDRIVE_ATTEMPTS = 10;
    public static final int DLQ_REDRIVE_TASK_ID = 12;
    public static final int DLQ_REDRIVE_MAX_ATTEMPTS = 20;
    public static final int DLQ_REDRIVE_MESSAGE_LENGTH = 22;
    public static final int DLQ_REDRIVE_FIXED = 24;

    // ---- DLQ_PURGE_REPLY: correlation u64 | purged u32 | remaining u32
    public static final int DLQ_PURGED_CORRELATION = 0;
    public static final int DLQ_PURGED_COUNT = 8;
    public static final int DLQ_PURGED_REMAINING = 12;
    public static final int DLQ_PURGED_FIXED = 16;

    // ---- SUBSCRIBE: correlation u64 | flags u8 | field_count u8 | field_count filter fields
    //      a filter field: field u8 | length u16 | value (length bytes)
    public static final int SUBSCRIBE_CORRELATION = 0;
    public static final int SUBSCRIBE_FLAGS = 8;
    public static final int SUBSCRIBE_FIELD_COUNT = 9;
    public static final int SUBSCRIBE_FIXED = 10;
    public static final int FILTER_FIELD_ID = 0;
    public static final int FILTER_FIELD_LENGTH = 1;
    public static final int FILTER_FIELD_FIXED = 3;
    /** Filter field: the task type, exact (1 to 64 bytes, a registered type). */
    public static final int FILTER_TYPE = 1;
    /** Filter field: the tenant, exact bytes (0 to max_tenant; empty: tasks submitted without one). */
    public static final int FILTER_TENANT = 2;
    /** Filter field: the key starts with these bytes (1 to max_key). */
    public static final int FILTER_KEY_PREFIX = 3;

    // ---- UNSUBSCRIBE: correlation u64 (the PING layout)

    // ---- SUBSCRIBED: correlation u64 | max_queued u32
    public static final int SUBSCRIBED_CORRELATION = 0;
    public static final int SUBSCRIBED_MAX_QUEUED = 8;
    public static final int SUBSCRIBED_FIXED = 12;

    // ---- EVENT: correlation u64 | event_id u64 | document_index u64 | timestamp i64 | task_id u64 | due_at i64
    //             | kind u8 | from u8 | state u8 | reason u8 | attempt u16 | key_len u16 | type_len u8 | tenant_len u8
    //             | error_len u16 | key | type | tenant | error
    public static final int EVENT_CORRELATION = 0;
    public static final int EVENT_EVENT_ID = 8;
    public static final int EVENT_DOCUMENT = 16;
    public static final int EVENT_TIMESTAMP = 24;
    public static final int EVENT_TASK_ID = 32;
    public static final int EVENT_DUE_AT = 40;
    public static final int EVENT_KIND = 48;
    public static final int EVENT_FROM = 49;
    public static final int EVENT_STATE = 50;
    public static final int EVENT_REASON = 51;
    public static final int EVENT_ATTEMPT = 52;
    public static final int EVENT_KEY_LENGTH = 54;
    public static final int EVENT_TYPE_LENGTH = 56;
    public static final int EVENT_TENANT_LENGTH = 57;
    public static final int EVENT_ERROR_LENGTH = 58;
    public static final int EVENT_FIXED = 60;

    // ---- EVENTS_LOST: correlation u64 | count u64 | flags u8
    public static final int LOST_CORRELATION = 0;
    public static final int LOST_COUNT = 8;
    public static final int LOST_FLAGS = 16;
    public static final int LOST_FIXED = 17;
    /** EVENTS_LOST flag: the count includes transitions that may not have matched the filter (an upper bound). */
    public static final int LOST_FLAG_UPPER_BOUND = 1;

    // ---- UNSUBSCRIBED: correlation u64 | subscription u64 | events u64 | lost u64 | flags u8
    public static final int UNSUBSCRIBED_CORRELATION = 0;
    public static final int UNSUBSCRIBED_SUBSCRIPTION = 8;
    public static final int UNSUBSCRIBED_EVENTS = 16;
    public static final int UNSUBSCRIBED_LOST = 24;
    public static final int UNSUBSCRIBED_FLAGS = 32;
    public static final int UNSUBSCRIBED_FIXED = 33;
    /** UNSUBSCRIBED flag: the connection had a subscription, and it has ended. */
    public static final int UNSUBSCRIBED_FLAG_WAS_SUBSCRIBED = 1;

    /**
     * @return the opcode's name, or {@code 0x..} for an unknown one.
     */
    public static String opcodeName(final int opcode)
    {
        return switch (opcode)
        {
            case HELLO -> "HELLO";
            case WELCOME -> "WELCOME";
            case SUBMIT -> "SUBMIT";
            case CANCEL -> "CANCEL";
            case STATUS -> "STATUS";
            case PING -> "PING";
            case DLQ_LIST -> "DLQ_LIST";
            case DLQ_SHOW -> "DLQ_SHOW";
            case DLQ_REDRIVE -> "DLQ_REDRIVE";
            case DLQ_PURGE -> "DLQ_PURGE";
            case DLQ_LIST_REPLY -> "DLQ_LIST_REPLY";
            case DLQ_SHOW_REPLY -> "DLQ_SHOW_REPLY";
            case DLQ_REDRIVE_REPLY -> "DLQ_REDRIVE_REPLY";
            case DLQ_PURGE_REPLY -> "DLQ_PURGE_REPLY";
            case SUBSCRIBE -> "SUBSCRIBE";
            case UNSUBSCRIBE -> "UNSUBSCRIBE";
            case SUBSCRIBED -> "SUBSCRIBED";
            case EVENT -> "EVENT";
            case EVENTS_LOST -> "EVENTS_LOST";
            case UNSUBSCRIBED -> "UNSUBSCRIBED";
            case ACCEPTED -> "ACCEPTED";
            case REJECTED -> "REJECTED";
            case RESULT -> "RESULT";
            case STATUS_REPLY -> "STATUS_REPLY";
            case CANCEL_REPLY -> "CANCEL_REPLY";
            case PONG -> "PONG";
            case ERROR -> "ERROR";
            default -> String.format("0x%02X", opcode);
        };
    }
}

//! Anthropic Messages (`POST /v1/messages`), as Claude Code calls it: SSE with message_start,
//! content_block_start/delta/stop (text_delta; tool_use with input_json_delta), message_delta
//! (stop_reason, usage) and message_stop; a plain JSON message when `stream` is off.

use serde_json::{Value, json};

use super::{Answer, Turn, json_response, sse_event, sse_response};
use axum::response::Response;

pub(crate) fn error_body(status: u16, message: &str) -> Value {
    let kind = match status {
        429 => "rate_limit_error",
        529 => "overloaded_error",
        401 => "authentication_error",
        400 => "invalid_request_error",
        _ => "api_error",
    };
    json!({"type": "error", "error": {"type": kind, "message": message}})
}

/// The content blocks of a reply and its stop reason.
fn blocks(a: &Answer) -> (Vec<Value>, &'static str) {
    let Turn::Reply { text, calls } = a.turn else {
        return (Vec::new(), "end_turn");
    };
    let mut out = Vec::new();
    if !text.is_empty() {
        out.push(json!({"type": "text", "text": text}));
    }
    for (i, c) in calls.iter().enumerate() {
        out.push(
            json!({"type": "tool_use", "id": format!("toolu_fake_{}_{i}", a.seq),
                        "name": c.name, "input": c.args}),
        );
    }
    if out.is_empty() {
        out.push(json!({"type": "text", "text": ""}));
    }
    let stop = if calls.is_empty() {
        "end_turn"
    } else {
        "tool_use"
    };
    (out, stop)
}

pub(crate) fn answer(a: &Answer) -> Response {
    let (content, stop) = blocks(a);
    let id = format!("msg_fake_{}", a.seq);
    let usage = json!({"input_tokens": a.input_tokens, "output_tokens": a.output_tokens(),
                       "cache_creation_input_tokens": 0, "cache_read_input_tokens": 0});
    if !a.stream {
        return json_response(
            200,
            json!({"id": id, "type": "message", "role": "assistant", "model": a.model,
                   "content": content, "stop_reason": stop, "stop_sequence": null,
                   "usage": usage}),
        );
    }
    let mut ev = sse_event(
        Some("message_start"),
        &json!({"type": "message_start", "message": {
            "id": id, "type": "message", "role": "assistant", "model": a.model, "content": [],
            "stop_reason": null, "stop_sequence": null,
            "usage": {"input_tokens": a.input_tokens, "output_tokens": 1,
                      "cache_creation_input_tokens": 0, "cache_read_input_tokens": 0}}}),
    );
    for (index, block) in content.iter().enumerate() {
        let (start, delta) = if block["type"] == "tool_use" {
            let mut start = block.clone();
            start["input"] = json!({});
            let delta = json!({"type": "input_json_delta",
                               "partial_json": block["input"].to_string()});
            (start, delta)
        } else {
            (
                json!({"type": "text", "text": ""}),
                json!({"type": "text_delta", "text": block["text"]}),
            )
        };
        ev += &sse_event(
            Some("content_block_start"),
            &json!({"type": "content_block_start", "index": index, "content_block": start}),
        );
        ev += &sse_event(
            Some("content_block_delta"),
            &json!({"type": "content_block_delta", "index": index, "delta": delta}),
        );
        ev += &sse_event(
            Some("content_block_stop"),
            &json!({"type": "content_block_stop", "index": index}),
        );
    }
    ev += &sse_event(
        Some("message_delta"),
        &json!({"type": "message_delta",
                "delta": {"stop_reason": stop, "stop_sequence": null},
                "usage": {"input_tokens": a.input_tokens, "output_tokens": a.output_tokens(),
                          "cache_creation_input_tokens": 0, "cache_read_input_tokens": 0}}),
    );
    ev += &sse_event(Some("message_stop"), &json!({"type": "message_stop"}));
    sse_response(ev)
}

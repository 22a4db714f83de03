//! OpenAI Chat Completions (`POST /v1/chat/completions`), as opencode (an
//! `@ai-sdk/openai-compatible` provider) and aider (litellm with `--openai-api-base`) call it:
//! SSE chunks (role, content, `tool_calls` deltas, a finish_reason, a usage chunk, `[DONE]`), or
//! one chat.completion object when `stream` is off.

use serde_json::{Value, json};

use super::{Answer, Turn, json_response, sse_event, sse_response};
use axum::response::Response;

pub(crate) fn error_body(status: u16, message: &str) -> Value {
    let (kind, code) = match status {
        429 => ("rate_limit_exceeded", "rate_limit_exceeded"),
        503 | 529 => ("server_error", "overloaded"),
        _ => ("server_error", "server_error"),
    };
    json!({"error": {"message": message, "type": kind, "param": null, "code": code}})
}

pub(crate) fn answer(a: &Answer) -> Response {
    let (text, calls) = match a.turn {
        Turn::Reply { text, calls } => (text.as_str(), calls.as_slice()),
        Turn::Error { .. } => ("", &[][..]),
    };
    let id = format!("chatcmpl-fake-{}", a.seq);
    let tool_calls: Vec<Value> = calls
        .iter()
        .enumerate()
        .map(|(i, c)| {
            json!({"index": i, "id": format!("call_fake_{}_{i}", a.seq), "type": "function",
                   "function": {"name": c.name, "arguments": c.args.to_string()}})
        })
        .collect();
    let finish = if calls.is_empty() {
        "stop"
    } else {
        "tool_calls"
    };
    let usage = json!({"prompt_tokens": a.input_tokens, "completion_tokens": a.output_tokens(),
                       "total_tokens": a.input_tokens + a.output_tokens()});
    if !a.stream {
        let mut message = json!({"role": "assistant", "content": text});
        if !tool_calls.is_empty() {
            message["tool_calls"] = Value::Array(tool_calls);
        }
        return json_response(
            200,
            json!({"id": id, "object": "chat.completion", "created": 0, "model": a.model,
                   "choices": [{"index": 0, "message": message, "finish_reason": finish}],
                   "usage": usage}),
        );
    }
    let chunk = |delta: Value, finish: Value| {
        json!({"id": id, "object": "chat.completion.chunk", "created": 0, "model": a.model,
               "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]})
    };
    let mut ev = sse_event(
        None,
        &chunk(json!({"role": "assistant", "content": ""}), Value::Null),
    );
    if !text.is_empty() {
        ev += &sse_event(None, &chunk(json!({"content": text}), Value::Null));
    }
    if !tool_calls.is_empty() {
        ev += &sse_event(None, &chunk(json!({"tool_calls": tool_calls}), Value::Null));
    }
    ev += &sse_event(None, &chunk(json!({}), json!(finish)));
    ev += &sse_event(
        None,
        &json!({"id": id, "object": "chat.completion.chunk", "created": 0, "model": a.model,
                "choices": [], "usage": usage}),
    );
    ev += "data: [DONE]\n\n";
    sse_response(ev)
}

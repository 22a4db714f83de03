//! OpenAI Responses (`POST /v1/responses`), as Codex calls it through a custom
//! `model_providers` entry: SSE with response.created, response.output_item.added/done per item
//! (an assistant message, a `function_call` with JSON arguments, or a `custom_tool_call` with a
//! freeform input when the script's arguments are a string) and response.completed with usage.

use serde_json::{Value, json};

use super::{Answer, Turn, json_response, sse_event, sse_response};
use axum::response::Response;

fn items(a: &Answer) -> Vec<Value> {
    let Turn::Reply { text, calls } = a.turn else {
        return Vec::new();
    };
    let mut out = Vec::new();
    if !text.is_empty() || calls.is_empty() {
        out.push(
            json!({"type": "message", "id": format!("msg_fake_{}", a.seq),
                        "role": "assistant", "status": "completed",
                        "content": [{"type": "output_text", "text": text, "annotations": []}]}),
        );
    }
    for (i, c) in calls.iter().enumerate() {
        let call_id = format!("call_fake_{}_{i}", a.seq);
        out.push(match &c.args {
            Value::String(input) => json!({"type": "custom_tool_call",
                "id": format!("ctc_fake_{}_{i}", a.seq), "call_id": call_id,
                "name": c.name, "input": input, "status": "completed"}),
            args => json!({"type": "function_call", "id": format!("fc_fake_{}_{i}", a.seq),
                "call_id": call_id, "name": c.name, "arguments": args.to_string(),
                "status": "completed"}),
        });
    }
    out
}

pub(crate) fn answer(a: &Answer) -> Response {
    let id = format!("resp_fake_{}", a.seq);
    let out = items(a);
    let usage = json!({"input_tokens": a.input_tokens,
                       "input_tokens_details": {"cached_tokens": 0},
                       "output_tokens": a.output_tokens(),
                       "output_tokens_details": {"reasoning_tokens": 0},
                       "total_tokens": a.input_tokens + a.output_tokens()});
    let done = json!({"id": id, "object": "response", "status": "completed", "model": a.model,
                      "output": out, "usage": usage});
    if !a.stream {
        return json_response(200, done);
    }
    let mut ev = sse_event(
        Some("response.created"),
        &json!({"type": "response.created",
                "response": {"id": id, "object": "response", "status": "in_progress",
                             "model": a.model, "output": []}}),
    );
    for (index, item) in out.iter().enumerate() {
        ev += &sse_event(
            Some("response.output_item.added"),
            &json!({"type": "response.output_item.added", "output_index": index, "item": item}),
        );
        if item["type"] == "message" {
            ev += &sse_event(
                Some("response.output_text.delta"),
                &json!({"type": "response.output_text.delta", "item_id": item["id"],
                        "output_index": index, "content_index": 0,
                        "delta": item["content"][0]["text"]}),
            );
        }
        ev += &sse_event(
            Some("response.output_item.done"),
            &json!({"type": "response.output_item.done", "output_index": index, "item": item}),
        );
    }
    ev += &sse_event(
        Some("response.completed"),
        &json!({"type": "response.completed", "response": done}),
    );
    sse_response(ev)
}

//! The fake model server on its own (no CLI needed): turns are taken in order by tool-offering
//! requests only, side requests get the idle text, a sticky 429 keeps answering with its headers,
//! every request is recorded, and each protocol's stream has its events in the right order.

use serde_json::{Value, json};

use crate::fake_model::{FakeModel, Script, Turn};

fn post(server: &FakeModel, path: &str, body: Value) -> (u16, Vec<(String, String)>, String) {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let mut r = agent
        .post(&format!("{}{path}", server.url()))
        .content_type("application/json")
        .send(body.to_string())
        .expect("fake model answers");
    let status = r.status().as_u16();
    let headers = r
        .headers()
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_str().unwrap_or("").to_string()))
        .collect();
    let text = r.body_mut().read_to_string().expect("body");
    (status, headers, text)
}

/// The `data:` payloads of an SSE body, in order (`[DONE]` skipped).
fn events(sse: &str) -> Vec<Value> {
    sse.lines()
        .filter_map(|l| l.strip_prefix("data: "))
        .filter(|d| *d != "[DONE]")
        .map(|d| serde_json::from_str(d).expect("event is JSON"))
        .collect()
}

fn tools() -> Value {
    json!([{"name": "Write", "input_schema": {}}])
}

#[test]
fn anthropic_turns_in_order_side_requests_idle_and_all_recorded() {
    let server = FakeModel::start(Script::new(vec![
        Turn::call("Write", json!({"file_path": "/x", "content": "y"})),
        Turn::text("done"),
    ]));
    // A side request (no tools) does not take a turn.
    let (status, _, side) = post(
        &server,
        "/v1/messages?beta=true",
        json!({"model": "m", "stream": false, "messages": [{"role": "user", "content": "title?"}]}),
    );
    assert_eq!(status, 200);
    let side: Value = serde_json::from_str(&side).expect("json");
    assert_eq!(side["content"][0]["text"], "Done.");
    // The first tool-offering request gets the tool call, streamed.
    let (_, _, sse) = post(
        &server,
        "/v1/messages",
        json!({"model": "m", "stream": true, "tools": tools(), "messages": [
            {"role": "user", "content": "marker-1"}]}),
    );
    let kinds: Vec<String> = events(&sse)
        .iter()
        .map(|e| e["type"].as_str().unwrap_or("").to_string())
        .collect();
    assert_eq!(
        kinds,
        [
            "message_start",
            "content_block_start",
            "content_block_delta",
            "content_block_stop",
            "message_delta",
            "message_stop"
        ]
    );
    let ev = events(&sse);
    assert_eq!(ev[1]["content_block"]["type"], "tool_use");
    assert_eq!(ev[1]["content_block"]["name"], "Write");
    assert_eq!(ev[2]["delta"]["type"], "input_json_delta");
    let input: Value = serde_json::from_str(
        ev[2]["delta"]["partial_json"]
            .as_str()
            .expect("partial json"),
    )
    .expect("input json");
    assert_eq!(input, json!({"file_path": "/x", "content": "y"}));
    assert_eq!(ev[4]["delta"]["stop_reason"], "tool_use");
    assert!(ev[4]["usage"]["output_tokens"].as_u64().unwrap_or(0) > 0);
    // The second gets the text; a third (script used up) gets the idle text.
    let (_, _, sse) = post(
        &server,
        "/v1/messages",
        json!({"model": "m", "stream": true, "tools": tools(), "messages": []}),
    );
    assert_eq!(events(&sse)[2]["delta"]["text"], "done");
    let (_, _, sse) = post(
        &server,
        "/v1/messages",
        json!({"model": "m", "stream": true, "tools": tools(), "messages": []}),
    );
    assert_eq!(events(&sse)[2]["delta"]["text"], "Done.");
    assert_eq!(server.turns_taken(), 2);
    let reqs = server.requests();
    assert_eq!(reqs.len(), 4);
    assert_eq!(reqs[0].turn, None);
    assert_eq!(reqs[1].turn, Some(0));
    assert_eq!(reqs[2].turn, Some(1));
    assert_eq!(reqs[3].turn, None);
    assert_eq!(reqs[0].path, "/v1/messages?beta=true");
    assert!(reqs[1].body.to_string().contains("marker-1"));
}

#[test]
fn sticky_rate_limit_answers_every_request_with_its_headers() {
    let reset = 1_900_000_000;
    let server = FakeModel::start(Script::new(vec![Turn::rate_limited(30, reset)]));
    for _ in 0..2 {
        let (status, headers, body) = post(
            &server,
            "/v1/chat/completions",
            json!({"model": "m", "stream": true, "tools": tools(), "messages": []}),
        );
        assert_eq!(status, 429);
        let h = |name: &str| {
            headers
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.clone())
        };
        assert_eq!(h("retry-after").as_deref(), Some("30"));
        assert_eq!(
            h("anthropic-ratelimit-unified-reset").as_deref(),
            Some("1900000000")
        );
        assert_eq!(
            h("anthropic-ratelimit-unified-representative-claim").as_deref(),
            Some("five_hour")
        );
        let body: Value = serde_json::from_str(&body).expect("json");
        assert_eq!(body["error"]["type"], "rate_limit_exceeded");
    }
    // Gemini's shape carries Google's quota details with the delay.
    let (status, _, body) = post(
        &server,
        "/v1beta/models/gemini-2.5-pro:streamGenerateContent?alt=sse",
        json!({"contents": [], "tools": [{"functionDeclarations": []}]}),
    );
    assert_eq!(status, 429);
    let body: Value = serde_json::from_str(&body).expect("json");
    assert_eq!(body["error"]["status"], "RESOURCE_EXHAUSTED");
    assert!(body.to_string().contains("\"retryDelay\":\"30s\""));
    assert_eq!(server.turns_taken(), 3);
}

#[test]
fn responses_gemini_and_chat_speak_their_own_shapes() {
    let server = FakeModel::start(Script::new(vec![
        Turn::call("apply_patch", Value::String("*** Begin Patch\n".into())),
        Turn::call("exec_command", json!({"cmd": "ls"})),
        Turn::call("write_file", json!({"file_path": "/x", "content": "y"})),
        Turn::call("write", json!({"filePath": "/x", "content": "y"})),
    ]));
    let body = json!({"model": "m", "stream": true, "tools": tools()});
    let (_, _, sse) = post(&server, "/v1/responses", body.clone());
    let ev = events(&sse);
    assert_eq!(
        ev.first().map(|e| e["type"].clone()),
        Some(json!("response.created"))
    );
    assert_eq!(
        ev.last().map(|e| e["type"].clone()),
        Some(json!("response.completed"))
    );
    let done: Vec<&Value> = ev
        .iter()
        .filter(|e| e["type"] == "response.output_item.done")
        .collect();
    assert_eq!(done[0]["item"]["type"], "custom_tool_call");
    assert_eq!(done[0]["item"]["input"], "*** Begin Patch\n");
    assert!(
        ev.last().expect("last")["response"]["usage"]["total_tokens"]
            .as_u64()
            .unwrap_or(0)
            > 0
    );
    let (_, _, sse) = post(&server, "/v1/responses", body.clone());
    let ev = events(&sse);
    let item = &ev
        .iter()
        .find(|e| e["type"] == "response.output_item.done")
        .expect("item")["item"];
    assert_eq!(item["type"], "function_call");
    assert_eq!(item["arguments"], json!({"cmd": "ls"}).to_string());

    let (_, _, sse) = post(
        &server,
        "/v1beta/models/gemini-2.5-pro:streamGenerateContent?alt=sse",
        json!({"tools": tools()}),
    );
    let ev = events(&sse);
    assert_eq!(
        ev[0]["candidates"][0]["content"]["parts"][0]["functionCall"]["name"],
        "write_file"
    );
    assert!(
        ev[0]["usageMetadata"]["totalTokenCount"]
            .as_u64()
            .unwrap_or(0)
            > 0
    );
    assert_eq!(ev[0]["modelVersion"], "gemini-2.5-pro");

    let (_, _, sse) = post(&server, "/v1/chat/completions", body);
    assert!(sse.trim_end().ends_with("data: [DONE]"));
    let ev = events(&sse);
    let call = ev
        .iter()
        .find(|e| e["choices"][0]["delta"]["tool_calls"].is_array())
        .expect("tool call chunk");
    assert_eq!(
        call["choices"][0]["delta"]["tool_calls"][0]["function"]["name"],
        "write"
    );
    assert!(
        ev.iter()
            .any(|e| e["choices"][0]["finish_reason"] == "tool_calls")
    );
    assert!(
        ev.iter()
            .any(|e| e["usage"]["total_tokens"].as_u64().unwrap_or(0) > 0)
    );
}

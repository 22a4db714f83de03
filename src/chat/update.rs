//! The Bot API's getUpdates answer → the messages brl looks at (pure).

use serde_json::Value;

/// One text message of an update.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct Message {
    pub chat_id: i64,
    pub chat_username: Option<String>,
    pub message_id: i64,
    pub user_id: i64,
    /// `@username`, else the user id.
    pub user: String,
    pub text: String,
}

/// The updates of a getUpdates answer: each `update_id`, with its text message if it has one
/// (other updates — edits, joins, photos — are passed over, but their ids still count).
pub(super) fn parse(body: &str) -> Result<Vec<(i64, Option<Message>)>, String> {
    let v: Value = serde_json::from_str(body)
        .map_err(|e| format!("the Bot API's getUpdates answer is not JSON ({e})"))?;
    if v["ok"] != Value::Bool(true) {
        let said: String = v["description"]
            .as_str()
            .unwrap_or("")
            .chars()
            .take(200)
            .collect();
        return Err(format!("the Bot API refused getUpdates: {said}"));
    }
    let Some(list) = v["result"].as_array() else {
        return Err("the Bot API's getUpdates answer has no `result` list".into());
    };
    let mut out = Vec::new();
    for u in list {
        let Some(id) = u["update_id"].as_i64() else {
            continue;
        };
        out.push((id, message(&u["message"])));
    }
    out.sort_by_key(|(id, _)| *id);
    Ok(out)
}

fn message(m: &Value) -> Option<Message> {
    let text = m["text"].as_str()?.to_string();
    let user_id = m["from"]["id"].as_i64()?;
    let user = m["from"]["username"]
        .as_str()
        .map_or_else(|| user_id.to_string(), |u| format!("@{u}"));
    Some(Message {
        chat_id: m["chat"]["id"].as_i64()?,
        chat_username: m["chat"]["username"].as_str().map(str::to_string),
        message_id: m["message_id"].as_i64().unwrap_or(0),
        user_id,
        user,
        text,
    })
}

/// Is this message from the configured chat (`chat_id`: a number or `@name`)?
pub(super) fn from_chat(configured: &str, m: &Message) -> bool {
    let configured = configured.trim();
    match configured.strip_prefix('@') {
        Some(name) => m
            .chat_username
            .as_deref()
            .is_some_and(|u| u.eq_ignore_ascii_case(name)),
        None => configured.parse::<i64>().ok() == Some(m.chat_id),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn updates_and_chats() {
        let body = r#"{"ok":true,"result":[
            {"update_id":8,"message":{"message_id":5,"chat":{"id":-100,"username":"team"},"from":{"id":42,"username":"ann"},"text":"/status"}},
            {"update_id":7,"edited_message":{"text":"x"}},
            {"update_id":9,"message":{"message_id":6,"chat":{"id":-100},"from":{"id":43},"text":"yes"}}]}"#;
        let u = parse(body).expect("parse");
        assert_eq!(
            u.iter().map(|(id, _)| *id).collect::<Vec<_>>(),
            vec![7, 8, 9]
        );
        assert_eq!(u[0].1, None);
        let m = u[1].1.clone().expect("message");
        assert_eq!(
            (m.user.as_str(), m.text.as_str(), m.chat_id),
            ("@ann", "/status", -100)
        );
        assert_eq!(u[2].1.as_ref().map(|m| m.user.as_str()), Some("43"));
        assert!(from_chat("-100", &m) && from_chat("@Team", &m) && !from_chat("-101", &m));
        assert!(
            parse(r#"{"ok":false,"description":"Unauthorized"}"#)
                .expect_err("refused")
                .contains("Unauthorized")
        );
    }
}

//! Who holds an address the HTTP server cannot bind: another brl control room answers
//! `GET /healthz` with its home (see `routes::healthz`), anything else is named as not a brl.

use std::io::{Read, Write};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, TcpStream};
use std::time::Duration;

/// What answered on an address in use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Occupant {
    /// A brl control room serving the home at this path.
    Brl { home: String },
    /// A brl that does not say its home (older than the `home` field of `/healthz`).
    BrlUnknownHome,
    /// Something that is not a brl control room; what it did, in words.
    Other(String),
}

impl Occupant {
    /// "the control room of the home /x", for messages.
    pub fn describe(&self) -> String {
        match self {
            Occupant::Brl { home } => format!("the brl control room of the home {home}"),
            Occupant::BrlUnknownHome => {
                "a brl control room of another version (its /healthz does not say its home)".into()
            }
            Occupant::Other(what) => format!("a program that is not brl ({what})"),
        }
    }
}

/// Ask `GET /healthz` on `addr` (a wildcard address is asked on loopback), waiting at most
/// `timeout` for each step.
pub fn ask(addr: SocketAddr, timeout: Duration) -> Occupant {
    let target = match addr.ip() {
        IpAddr::V4(ip) if ip.is_unspecified() => {
            SocketAddr::new(Ipv4Addr::LOCALHOST.into(), addr.port())
        }
        IpAddr::V6(ip) if ip.is_unspecified() => {
            SocketAddr::new(Ipv6Addr::LOCALHOST.into(), addr.port())
        }
        _ => addr,
    };
    let mut stream = match TcpStream::connect_timeout(&target, timeout) {
        Ok(s) => s,
        Err(e) => return Occupant::Other(format!("connecting to it failed: {e}")),
    };
    let _ = stream.set_read_timeout(Some(timeout));
    let _ = stream.set_write_timeout(Some(timeout));
    let request = format!("GET /healthz HTTP/1.0\r\nHost: {target}\r\nConnection: close\r\n\r\n");
    if let Err(e) = stream.write_all(request.as_bytes()) {
        return Occupant::Other(format!("it did not take an HTTP request: {e}"));
    }
    let mut answer = Vec::new();
    // At most 64 KiB: a /healthz answer is a few dozen bytes.
    if let Err(e) = (&mut stream).take(64 * 1024).read_to_end(&mut answer)
        && answer.is_empty()
    {
        return Occupant::Other(format!("it did not answer GET /healthz: {e}"));
    }
    read_answer(&String::from_utf8_lossy(&answer))
}

/// The pure part: an HTTP answer to `GET /healthz` → who it is.
pub fn read_answer(answer: &str) -> Occupant {
    let Some((head, body)) = answer.split_once("\r\n\r\n") else {
        return Occupant::Other("it did not answer GET /healthz with HTTP".into());
    };
    if !head.starts_with("HTTP/") {
        return Occupant::Other("it did not answer GET /healthz with HTTP".into());
    }
    let Ok(v) = serde_json::from_str::<serde_json::Value>(body.trim()) else {
        let status = head.lines().next().unwrap_or("").trim();
        return Occupant::Other(format!(
            "GET /healthz answered `{status}` without brl's JSON"
        ));
    };
    match (v["ok"].as_bool(), v["home"].as_str()) {
        (Some(true), Some(home)) => Occupant::Brl {
            home: home.to_string(),
        },
        (Some(true), None) if v.as_object().is_some_and(|o| o.len() == 1) => {
            Occupant::BrlUnknownHome
        }
        _ => Occupant::Other(format!("GET /healthz answered {v} instead of brl's answer")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_are_told_apart() {
        let ok = "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n\r\n{\"ok\":true,\"brl\":true,\"home\":\"/srv/a\"}";
        assert_eq!(
            read_answer(ok),
            Occupant::Brl {
                home: "/srv/a".into()
            }
        );
        let old = "HTTP/1.1 200 OK\r\n\r\n{\"ok\":true}";
        assert_eq!(read_answer(old), Occupant::BrlUnknownHome);
        assert!(matches!(
            read_answer("HTTP/1.1 404 Not Found\r\n\r\n<html>nope</html>"),
            Occupant::Other(w) if w.contains("404")
        ));
        assert!(matches!(read_answer("SSH-2.0-OpenSSH"), Occupant::Other(_)));
        assert!(
            Occupant::Brl {
                home: "/srv/a".into()
            }
            .describe()
            .contains("/srv/a")
        );
    }
}

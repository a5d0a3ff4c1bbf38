//! A minimal Engine API client for the one call bollard does not offer: `POST /auth`.
//! One HTTP/1.1 request per connection over the daemon's unix socket or plain TCP.

use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

use crate::context::BODY_CAP;
use crate::protocol::docker_context::{address, Address};

/// An Engine API answer.
#[derive(Debug, Clone)]
pub struct EngineResponse {
    pub status: u16,
    pub body: Vec<u8>,
}

impl EngineResponse {
    /// The daemon's `{"message": ...}` error text, else the body as text.
    pub fn message(&self) -> String {
        serde_json::from_slice::<serde_json::Value>(&self.body)
            .ok()
            .and_then(|v| {
                v.get("message")
                    .and_then(|m| m.as_str())
                    .map(str::to_string)
            })
            .unwrap_or_else(|| String::from_utf8_lossy(&self.body).trim().to_string())
    }
}

/// Sends `POST <path>` with a JSON body to the endpoint (`unix://...` or `tcp://...`),
/// bounded by `bound` as a whole. `api_version` prefixes the path (`/v1.41/auth`).
pub async fn post_json(
    endpoint: &str,
    api_version: Option<&str>,
    path: &str,
    body: &[u8],
    bound: Duration,
) -> Result<EngineResponse, String> {
    let full_path = match api_version {
        Some(v) if !v.is_empty() => format!("/v{v}{path}"),
        _ => path.to_string(),
    };
    let request = {
        let mut r = format!(
            "POST {full_path} HTTP/1.1\r\nHost: docker\r\nUser-Agent: acr-doctor/{}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
            env!("CARGO_PKG_VERSION"),
            body.len()
        )
        .into_bytes();
        r.extend_from_slice(body);
        r
    };
    let work = async {
        match address(endpoint) {
            #[cfg(unix)]
            Address::Unix(p) => {
                let stream = tokio::net::UnixStream::connect(&p)
                    .await
                    .map_err(|e| format!("connect {}: {e}", p.display()))?;
                exchange(stream, &request).await
            }
            Address::Tcp(a) => {
                let stream = tokio::net::TcpStream::connect(&a)
                    .await
                    .map_err(|e| format!("connect {a}: {e}"))?;
                exchange(stream, &request).await
            }
            _ => Err(format!(
                "endpoint {endpoint} is not supported for this call"
            )),
        }
    };
    tokio::time::timeout(bound, work)
        .await
        .map_err(|_| format!("the daemon did not answer within {bound:?}"))?
}

async fn exchange<S: AsyncRead + AsyncWrite + Unpin>(
    mut stream: S,
    request: &[u8],
) -> Result<EngineResponse, String> {
    stream
        .write_all(request)
        .await
        .map_err(|e| format!("write: {e}"))?;
    let mut raw = Vec::new();
    let mut buf = [0u8; 8192];
    loop {
        let n = stream
            .read(&mut buf)
            .await
            .map_err(|e| format!("read: {e}"))?;
        if n == 0 {
            break;
        }
        raw.extend_from_slice(&buf[..n]);
        if raw.len() > BODY_CAP {
            break;
        }
    }
    parse_response(&raw)
}

/// Parses an HTTP/1.1 response (Content-Length, chunked, or read to close).
pub fn parse_response(raw: &[u8]) -> Result<EngineResponse, String> {
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or_else(|| "the daemon's answer has no HTTP header".to_string())?;
    let head = String::from_utf8_lossy(&raw[..split]);
    let mut lines = head.split("\r\n");
    let status_line = lines.next().unwrap_or("");
    let status: u16 = status_line
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| format!("not an HTTP status line: {status_line:?}"))?;
    let chunked = lines.any(|l| {
        let l = l.to_ascii_lowercase();
        l.starts_with("transfer-encoding:") && l.contains("chunked")
    });
    let rest = &raw[split + 4..];
    let body = if chunked {
        dechunk(rest)
    } else {
        rest.to_vec()
    };
    Ok(EngineResponse { status, body })
}

fn dechunk(mut data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(eol) = data.windows(2).position(|w| w == b"\r\n") {
        let size_text = String::from_utf8_lossy(&data[..eol]);
        let size_text = size_text.split(';').next().unwrap_or("").trim();
        let Ok(size) = usize::from_str_radix(size_text, 16) else {
            break;
        };
        data = &data[eol + 2..];
        if size == 0 || size > data.len() {
            out.extend_from_slice(&data[..size.min(data.len())]);
            break;
        }
        out.extend_from_slice(&data[..size]);
        data = data.get(size + 2..).unwrap_or(&[]);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_plain_and_chunked() {
        let r = parse_response(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}").expect("ok");
        assert_eq!((r.status, r.body.as_slice()), (200, &b"{}"[..]));
        let r = parse_response(
            b"HTTP/1.1 500 Internal Server Error\r\nTransfer-Encoding: chunked\r\n\r\n5\r\n{\"mes\r\nd\r\nsage\":\"boom\"}\r\n0\r\n\r\n",
        )
        .expect("ok");
        assert_eq!(r.status, 500);
        assert_eq!(r.message(), "boom");
        assert!(parse_response(b"garbage").is_err());
    }
}

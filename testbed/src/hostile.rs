//! Hostile responses: the `mangle` and `redirect` faults, applied by `server::front`.

use crate::crypto;
use crate::fault::Mangle;
use axum::body::{Body, Bytes};
use axum::http::{header, HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde_json::Value;

/// One MiB: the size of the huge header.
const HUGE_HEADER: usize = 1024 * 1024;
/// 64 MiB: the size of the huge body (64 times acr-doctor's body cap).
const HUGE_BODY: usize = 64 * 1024 * 1024;
/// Year 99999, in seconds since 1970.
const EXP_FAR: i64 = 3_093_527_980_800;
/// The JSON fields holding tokens in Entra, ACR and managed identity answers.
const TOKEN_FIELDS: &[&str] = &["access_token", "refresh_token", "accessToken", "id_token"];

/// `307 Temporary Redirect` to `to` + the original path and query.
pub(crate) fn redirect(to: &str, path_and_query: &str) -> Response {
    temporary_redirect(&format!("{to}{path_and_query}"))
}

/// `307 Temporary Redirect` to `location`.
pub(crate) fn temporary_redirect(location: &str) -> Response {
    let mut r = (StatusCode::TEMPORARY_REDIRECT, "").into_response();
    if let Ok(v) = HeaderValue::from_str(location) {
        r.headers_mut().insert(header::LOCATION, v);
    }
    r
}

/// Spoils a finished response the way `how` says.
pub(crate) async fn mangle(resp: Response, how: Mangle) -> Response {
    let (mut parts, body) = resp.into_parts();
    match how {
        Mangle::HugeHeader => {
            let filler = "a".repeat(HUGE_HEADER);
            if let Ok(v) = HeaderValue::from_str(&filler) {
                parts.headers.insert("x-acr-filler", v);
            }
            if let Some(old) = parts.headers.get(header::WWW_AUTHENTICATE).cloned() {
                let padded = format!("{},x=\"{filler}\"", String::from_utf8_lossy(old.as_bytes()));
                if let Ok(v) = HeaderValue::from_str(&padded) {
                    parts.headers.insert(header::WWW_AUTHENTICATE, v);
                }
            }
            Response::from_parts(parts, body)
        }
        Mangle::ManyHeaders => {
            for i in 0..5000 {
                if let Ok(name) = HeaderName::from_bytes(format!("x-acr-filler-{i}").as_bytes()) {
                    parts.headers.insert(name, HeaderValue::from_static("x"));
                }
            }
            Response::from_parts(parts, body)
        }
        Mangle::DuplicateChallenge => {
            if let Some(old) = parts.headers.get(header::WWW_AUTHENTICATE).cloned() {
                parts.headers.insert(
                    header::WWW_AUTHENTICATE,
                    HeaderValue::from_static("Basic realm=\"Azure Container Registry\""),
                );
                parts.headers.append(header::WWW_AUTHENTICATE, old.clone());
                parts.headers.append(header::WWW_AUTHENTICATE, old);
            }
            Response::from_parts(parts, body)
        }
        Mangle::NotUtf8Header => {
            let mut bytes =
                b"Bearer realm=\"https://\xff\xfe\xfd/oauth2/token\",service=\"\xc3\x28\"".to_vec();
            bytes.extend_from_slice(b",scope=\"\x80\x81\"");
            if let Ok(v) = HeaderValue::from_bytes(&bytes) {
                parts.headers.insert(header::WWW_AUTHENTICATE, v);
            }
            Response::from_parts(parts, body)
        }
        Mangle::HugeBody => {
            parts.headers.remove(header::CONTENT_LENGTH);
            let chunk = Bytes::from(vec![b'a'; 64 * 1024]);
            let head = Bytes::from_static(b"{\"refresh_token\":\"");
            let count = HUGE_BODY / chunk.len();
            let stream = futures::stream::iter(
                std::iter::once(head)
                    .chain(std::iter::repeat_n(chunk, count))
                    .map(Ok::<_, std::io::Error>),
            );
            Response::from_parts(parts, Body::from_stream(stream))
        }
        Mangle::TruncatedBody => {
            let bytes = axum::body::to_bytes(body, 16 * 1024 * 1024)
                .await
                .unwrap_or_default();
            let bytes = if bytes.len() < 2 {
                Bytes::from_static(b"{\"errors\":[{\"code\":\"UNKNOWN\"}]}")
            } else {
                bytes
            };
            let half = bytes.slice(..bytes.len() / 2);
            if let Ok(v) = HeaderValue::from_str(&bytes.len().to_string()) {
                parts.headers.insert(header::CONTENT_LENGTH, v);
            }
            // The half is flushed before the stream fails (a pause lets hyper write it out).
            let stream = futures::stream::unfold(0u8, move |step| {
                let half = half.clone();
                async move {
                    match step {
                        0 => Some((Ok(half), 1)),
                        1 => {
                            tokio::time::sleep(std::time::Duration::from_millis(200)).await;
                            Some((
                                Err(std::io::Error::new(
                                    std::io::ErrorKind::ConnectionAborted,
                                    "cut",
                                )),
                                2,
                            ))
                        }
                        _ => None,
                    }
                }
            });
            Response::from_parts(parts, Body::from_stream(stream))
        }
        Mangle::HostileText => {
            parts.headers.remove(header::CONTENT_LENGTH);
            parts.headers.insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            );
            let body = serde_json::json!({"errors": [{
                "code": "DENIED",
                "message": crate::fault::HOSTILE_TEXT,
                "detail": crate::fault::HOSTILE_TEXT,
            }]});
            Response::from_parts(parts, Body::from(body.to_string()))
        }
        Mangle::NotJson => {
            parts.headers.remove(header::CONTENT_LENGTH);
            Response::from_parts(
                parts,
                Body::from(
                    "<html><head><title>502 Bad Gateway</title></head><body>upstream broke</body></html>",
                ),
            )
        }
        Mangle::NotUtf8Body => {
            parts.headers.remove(header::CONTENT_LENGTH);
            Response::from_parts(
                parts,
                Body::from(&b"{\"access_token\":\"\xff\xfe\x00\xc3\x28\",\"x\":\"\x80\"}"[..]),
            )
        }
        Mangle::JwtBadBase64
        | Mangle::JwtMissingParts
        | Mangle::JwtExpFar
        | Mangle::JwtExpNegative
        | Mangle::JwtExpString => {
            let bytes = axum::body::to_bytes(body, 16 * 1024 * 1024)
                .await
                .unwrap_or_default();
            let Ok(mut json) = serde_json::from_slice::<Value>(&bytes) else {
                return Response::from_parts(parts, Body::from(bytes));
            };
            if let Value::Object(map) = &mut json {
                for field in TOKEN_FIELDS {
                    if let Some(Value::String(token)) = map.get_mut(*field) {
                        *token = spoil_jwt(token, how);
                    }
                }
            }
            parts.headers.remove(header::CONTENT_LENGTH);
            Response::from_parts(parts, Body::from(json.to_string()))
        }
    }
}

/// A JWT spoiled the way `how` says; claim changes are re-signed with the bed's key so that only
/// the claims are absurd, not the signature.
pub(crate) fn spoil_jwt(token: &str, how: Mangle) -> String {
    let mut parts = token.splitn(3, '.');
    let (h, p) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
    match how {
        Mangle::JwtBadBase64 => format!("{h}.!!not*base64~~.{}", parts.next().unwrap_or("")),
        Mangle::JwtMissingParts => format!("{h}.{p}"),
        _ => {
            let Some((header, mut claims)) = crypto::decode_jwt(token) else {
                return token.to_string();
            };
            if let Value::Object(c) = &mut claims {
                match how {
                    Mangle::JwtExpFar => {
                        c.insert("exp".into(), EXP_FAR.into());
                    }
                    Mangle::JwtExpNegative => {
                        c.insert("exp".into(), (-1_000_000_i64).into());
                        c.insert("iat".into(), (-2_000_000_i64).into());
                        c.insert("nbf".into(), (-2_000_000_i64).into());
                    }
                    _ => {
                        c.insert("exp".into(), "tomorrow".into());
                    }
                }
            }
            crypto::sign_jwt(header, &claims).unwrap_or_else(|_| {
                format!(
                    "{h}.{}.",
                    URL_SAFE_NO_PAD.encode(claims.to_string().as_bytes())
                )
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jwts_are_spoiled_as_asked() {
        let token = crypto::sign_jwt(
            serde_json::json!({"kid": "k"}),
            &serde_json::json!({"exp": 10, "sub": "x"}),
        )
        .expect("sign");
        assert_eq!(
            spoil_jwt(&token, Mangle::JwtMissingParts)
                .split('.')
                .count(),
            2
        );
        assert!(crypto::decode_jwt(&spoil_jwt(&token, Mangle::JwtBadBase64)).is_none());
        let far = crypto::verify_jwt(&spoil_jwt(&token, Mangle::JwtExpFar)).expect("signed");
        assert_eq!(far["exp"], EXP_FAR);
        assert_eq!(far["sub"], "x");
        let neg = crypto::verify_jwt(&spoil_jwt(&token, Mangle::JwtExpNegative)).expect("signed");
        assert!(neg["exp"].as_i64().is_some_and(|e| e < 0));
        let s = crypto::verify_jwt(&spoil_jwt(&token, Mangle::JwtExpString)).expect("signed");
        assert_eq!(s["exp"], "tomorrow");
    }
}

//! TCP connections, bounded and traced.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use tokio::net::TcpStream;

use crate::context::Context;

/// Why no byte stream to the server could be opened.
#[derive(Debug, Clone)]
pub enum ConnectFailure {
    Tcp {
        target: String,
        detail: String,
    },
    Timeout {
        target: String,
        after: Duration,
    },
    /// The proxy refused or broke the CONNECT.
    Proxy {
        proxy: String,
        status: Option<u16>,
        detail: String,
    },
}

pub(super) async fn tcp_connect(
    ctx: &Context,
    addr: SocketAddr,
) -> Result<TcpStream, ConnectFailure> {
    let started = Instant::now();
    match tokio::time::timeout(ctx.timeout, TcpStream::connect(addr)).await {
        Err(_) => {
            ctx.trace
                .push(format!("tcp {addr} -> timeout after {:?}", ctx.timeout));
            Err(ConnectFailure::Timeout {
                target: addr.to_string(),
                after: ctx.timeout,
            })
        }
        Ok(Err(e)) => {
            ctx.trace.push(format!("tcp {addr} -> {e}"));
            Err(ConnectFailure::Tcp {
                target: addr.to_string(),
                detail: e.to_string(),
            })
        }
        Ok(Ok(s)) => {
            ctx.trace.push(format!(
                "tcp {addr} -> connected ({} ms)",
                started.elapsed().as_millis()
            ));
            Ok(s)
        }
    }
}

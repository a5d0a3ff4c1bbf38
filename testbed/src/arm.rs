//! Azure Resource Manager stand-in.

use crate::server::{self, Listener};
use crate::Inner;
use axum::Router;
use std::sync::Arc;

pub(crate) fn router(inner: Arc<Inner>, listener: Listener) -> Router {
    Router::new()
        .with_state(inner.clone())
        .layer(axum::middleware::from_fn_with_state((inner, listener), server::front))
}

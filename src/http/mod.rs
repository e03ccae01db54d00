//! The HTTP API: one file per API area, one [`app`] that builds the router.

use axum::Router;

/// Shared state of every handler.
#[derive(Clone, Default)]
pub struct AppState {}

/// Builds the router with every route of the API.
pub fn app(state: AppState) -> Router {
    Router::new().with_state(state)
}

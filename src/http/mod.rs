//! The HTTP API: one file per API area, one [`app`] that builds the router.

pub mod api_error;
pub mod format;
pub mod labels;
pub mod params;
pub mod query;
pub mod read_state;
pub mod status;

use axum::Router;

/// Shared state of every handler.
#[derive(Clone, Default)]
pub struct AppState {}

/// Builds the router with every route of the API.
pub fn app(state: AppState) -> Router {
    Router::new().with_state(state)
}

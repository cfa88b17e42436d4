//! `/openapi.json`: the OpenAPI 3.1 description of the HTTP API, generated (utoipa)
//! from the request and response types and the handlers' annotations.

use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use super::{agent, routes};

/// The API description.
#[derive(OpenApi)]
#[openapi(
    info(title = "bizbot", description = "A runtime for Chinese customer-service business bots."),
    paths(
        routes::chat,
        routes::welcome,
        routes::feedback,
        routes::rating,
        routes::search,
        routes::assist,
        routes::release,
        agent::customer_events,
        agent::agent_events,
        agent::queue,
        agent::conversation,
        agent::claim,
        agent::message,
        agent::typing,
        agent::transfer,
        agent::close,
        routes::reload,
        routes::health
    ),
    modifiers(&Bearer)
)]
pub struct ApiDoc;

/// The admin token as an HTTP bearer scheme.
struct Bearer;

impl Modify for Bearer {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

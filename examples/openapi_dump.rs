//! Print the OpenAPI description (the same as `GET /openapi.json`).
fn main() {
    use utoipa::OpenApi;
    println!("{}", bizbot::server::openapi::ApiDoc::openapi().to_pretty_json().expect("serialisable"));
}

//! The benchmark's ceiling: the smallest axum server this toolchain builds, answering every
//! request with a small JSON body, so `bench/run.sh` can say what share of bare HTTP latchkey
//! reaches on the same machine. `ceiling ADDR` prints `listening on http://ADDR` when ready.

use axum::Router;
use axum::http::header;
use axum::response::IntoResponse;

async fn hello() -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "application/json")],
        r#"{"$id":"hello","name":"ceiling"}"#,
    )
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:0".to_owned());
    let listener = tokio::net::TcpListener::bind(&addr).await?;
    println!("listening on http://{}", listener.local_addr()?);
    let app = Router::new().fallback(hello);
    axum::serve(listener, app).await
}
